"""PKCE (RFC 7636, S256), OAuth ``state`` and the OIDC ``nonce`` MSAL sends.

Randomness is a parameter (``random_bytes``) so the core stays deterministic under test.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Pkce", "b64url", "make_nonce", "make_pkce", "make_state", "nonce_hash"]

RandomBytes = Callable[[int], bytes]


def b64url(data: bytes) -> str:
    """Unpadded base64url text."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Pkce:
    """A PKCE verifier and its S256 challenge."""

    verifier: str
    challenge: str
    method: str = "S256"


def make_pkce(random_bytes: RandomBytes) -> Pkce:
    """A 43-char verifier from 32 random bytes (only ``[A-Za-z0-9-_]``) and its challenge."""
    verifier = b64url(random_bytes(32))
    challenge = b64url(hashlib.sha256(verifier.encode("ascii")).digest())
    return Pkce(verifier, challenge)


def make_state(random_bytes: RandomBytes) -> str:
    """An unguessable CSRF ``state`` value."""
    return b64url(random_bytes(16))


def make_nonce(random_bytes: RandomBytes) -> str:
    """The raw nonce kept in the auth code flow; the wire carries :func:`nonce_hash` of it."""
    return b64url(random_bytes(16))


def nonce_hash(nonce: str) -> str:
    """Hex SHA-256 of the raw nonce, as MSAL sends it and expects it back in the id_token."""
    return hashlib.sha256(nonce.encode("ascii")).hexdigest()


def uuid4(random_bytes: RandomBytes) -> str:
    """A version-4 UUID string drawn from ``random_bytes`` (for client-request-id, jti)."""
    raw = bytearray(random_bytes(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
