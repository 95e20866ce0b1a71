"""Merge a claims challenge with client capabilities into the OIDC ``claims`` parameter.

OpenID Connect Core 1.0 section 5.5; capabilities go in ``access_token.xms_cc`` (Entra CAE).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

__all__ = ["merge_claims"]


def merge_claims(claims_challenge: str | None, capabilities: Sequence[str] | None) -> str | None:
    """Return the JSON ``claims`` to send, or None when there is nothing to send.

    Raises:
        ValueError: ``claims_challenge`` is not a JSON object.
    """
    if not capabilities:
        # Sent verbatim, as MSAL does, so servers see the challenge they issued.
        return claims_challenge or None
    merged: dict[str, Any] = {}
    if claims_challenge:
        try:
            parsed = json.loads(claims_challenge)
        except (TypeError, ValueError, RecursionError) as exc:
            raise ValueError("claims_challenge must be a JSON object string") from exc
        if not isinstance(parsed, dict):
            raise ValueError("claims_challenge must be a JSON object string")
        merged = parsed
    access_token = merged.get("access_token")
    if not isinstance(access_token, dict):
        access_token = {}
    access_token["xms_cc"] = {"values": list(capabilities)}
    merged["access_token"] = access_token
    return json.dumps(merged)
