"""Compact JWS signature verification (RFC 7515) with prebuilt public keys, for token validation.

The key object of each JWK is built once (``jwt.PyJWK``) and reused until the key set changes;
the signature is checked with PyJWT's algorithm objects over the signing input as sent. Only the
compact serialization with base64url segments is accepted: no ``crit`` extensions, no unencoded
payloads (RFC 7797), which Entra never sends.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections.abc import Mapping
from typing import Any

from .errors import InvalidTokenError

__all__ = ["KeyBuilder", "parse_header", "verify_compact"]

# Three base64url segments; the signature may be empty only to be refused by the verifier.
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_HEADER_CACHE_SIZE = 256


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _json_object(segment: str) -> dict[str, Any] | None:
    try:
        data = json.loads(_b64(segment))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


_headers: dict[str, dict[str, Any]] = {}
_headers_lock = threading.Lock()


def parse_header(token: str) -> dict[str, Any]:
    """The JOSE header of a compact JWS (parsed once per distinct header segment).

    Raises:
        InvalidTokenError: Not three base64url segments, or a header that is not a JSON object.
    """
    if _COMPACT.fullmatch(token) is None:
        raise InvalidTokenError("the token is not a signed JWT")
    segment = token[:token.index(".")]
    header = _headers.get(segment)
    if header is not None:
        return header
    parsed = _json_object(segment)
    if parsed is None:
        raise InvalidTokenError("the token's header is not valid JSON")
    if "crit" in parsed or parsed.get("b64", True) is not True:
        raise InvalidTokenError("the token's header uses JWS extensions this API does not accept")
    with _headers_lock:
        if len(_headers) >= _HEADER_CACHE_SIZE:
            _headers.clear()  # a flood of distinct headers costs a re-parse, not memory
        _headers[segment] = parsed
    return parsed


class KeyBuilder:
    """Public-key objects built from JWKs, one per (JWK, algorithm), rebuilt when the JWK changes.

    Thread-safe: a race builds a key twice, harmlessly.
    """

    def __init__(self) -> None:
        self._built: dict[tuple[str, str], tuple[Mapping[str, Any], Any, Any]] = {}

    def key_for(self, kid: str, jwk: Mapping[str, Any], algorithm: str) -> tuple[Any, Any]:
        """(PyJWT algorithm object, public key) for ``jwk`` and ``algorithm``.

        Raises:
            InvalidTokenError: The JWK is unusable, or declares another algorithm.
        """
        found = self._built.get((kid, algorithm))
        if found is not None and (found[0] is jwk or found[0] == jwk):
            return found[1], found[2]
        import jwt
        from jwt.algorithms import get_default_algorithms

        declared = jwk.get("alg")
        if isinstance(declared, str) and declared != algorithm:
            raise InvalidTokenError("the token's algorithm does not match its signing key")
        try:
            key = jwt.PyJWK(dict(jwk), algorithm=algorithm).key
            verifier = get_default_algorithms()[algorithm]
        except (jwt.PyJWTError, KeyError, ValueError, TypeError):
            raise InvalidTokenError("the token could not be verified") from None
        if len(self._built) > 64:  # keys of one authority: a handful; stale ones go
            self._built.clear()
        self._built[(kid, algorithm)] = (jwk, verifier, key)
        return verifier, key


def verify_compact(token: str, verifier: Any, key: Any) -> dict[str, Any]:
    """Check the signature of a compact JWS (already shape-checked by :func:`parse_header`).

    Returns:
        The payload's claims.

    Raises:
        InvalidTokenError: The signature does not verify, or the payload is not a JSON object.
    """
    cut = token.rindex(".")
    try:
        signature = _b64(token[cut + 1:])
        valid = bool(signature) and verifier.verify(token[:cut].encode("ascii"), key, signature)
    except (ValueError, TypeError, binascii.Error):
        valid = False
    if not valid:
        raise InvalidTokenError("the token's signature is invalid")
    claims = _json_object(token[token.index(".") + 1:cut])
    if claims is None:
        raise InvalidTokenError("the token's payload is not a JSON object")
    return claims
