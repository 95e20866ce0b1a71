"""Decode an OIDC id_token's claims (not its signature, as MSAL) and check nonce/max_age.

OpenID Connect Core 1.0 sections 2 and 3.1.3.7 (items 11 and 13). Tokens come from the token
endpoint over TLS, so, like MSAL >= 1.38, we read the claims without verifying the signature.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any

from .pkce import nonce_hash

__all__ = ["IdTokenError", "check_id_token", "decode_part", "decode_id_token_claims"]

CLOCK_SKEW = 120  # seconds; MSAL hard-codes the same allowance for auth_time


class IdTokenError(RuntimeError):
    """An id_token failed a check (malformed, nonce mismatch, too old for max_age).

    A RuntimeError, as MSAL raises for the same failures. The message carries no token.
    """


def decode_part(part: str) -> bytes:
    """Decode base64url text with or without padding (also tolerates standard base64)."""
    text = part.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    return base64.b64decode(text, validate=False)


def decode_id_token_claims(id_token: str) -> dict[str, Any]:
    """Return the payload of a JWS compact token as a dict.

    Raises:
        IdTokenError: the token is not three dot-separated parts with a JSON object payload.
    """
    parts = id_token.split(".") if isinstance(id_token, str) else []
    if len(parts) != 3:
        raise IdTokenError("The id_token is not a JWT (expected three dot-separated parts)")
    try:
        claims = json.loads(decode_part(parts[1]))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError) as exc:
        raise IdTokenError("The id_token payload is not valid base64url JSON") from exc
    if not isinstance(claims, dict):
        raise IdTokenError("The id_token payload is not a JSON object")
    return claims


def check_id_token(
    claims: dict[str, Any], *, nonce: str | None, max_age: int | None, now: float
) -> None:
    """Check the nonce MSAL sent (as its hash) and, with ``max_age``, the ``auth_time``.

    Raises:
        IdTokenError: the nonce differs, or ``auth_time`` is missing or too old.
    """
    if nonce is not None and claims.get("nonce") != nonce_hash(nonce):
        raise IdTokenError("The nonce in the id_token does not match the one this flow sent")
    if max_age is not None:
        auth_time = claims.get("auth_time")
        if (not isinstance(auth_time, (int, float)) or isinstance(auth_time, bool)
                or not math.isfinite(auth_time)):  # JSON NaN/Infinity would pass any bound
            raise IdTokenError("max_age was requested, so the id_token must contain auth_time")
        if now - CLOCK_SKEW > auth_time + max_age:
            raise IdTokenError(
                f"The user last authenticated at {int(auth_time)}, more than max_age="
                f"{max_age} seconds before now ({int(now)})"
            )
