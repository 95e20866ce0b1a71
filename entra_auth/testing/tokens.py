"""Token minting and checking: RS256 JWTs (RFC 7519/7515) with a ``kid`` published as a JWKS.

Also verifies client assertions (RFC 7523) against registered certificates by ``x5t``,
``x5t#S256`` or ``x5c``. Times come from the emulator's clock, never from PyJWT's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .certs import CertificateAuthority, certificate_der, generate_rsa_key

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

__all__ = ["TokenInvalid", "TokenSigner", "b64url", "b64url_decode", "decode_unverified"]


def b64url(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding.

    Raises:
        ValueError: Not base64url.
    """
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError("not base64url") from exc


class TokenInvalid(Exception):
    """A JWT failed a check. ``reason`` is one of malformed, signature, expired, audience."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (header, claims) of a compact JWS without checking anything.

    Raises:
        TokenInvalid: ``malformed``: not three base64url JSON-object segments.
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenInvalid("malformed", "not a compact JWT")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenInvalid("malformed", "undecodable JWT segment") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenInvalid("malformed", "JWT segments are not JSON objects")
    return header, claims


@dataclass
class _Key:
    kid: str
    private_key: RSAPrivateKey
    certificate_pem: str


class TokenSigner:
    """Holds the emulator's token-signing key(s) and signs/verifies JWTs with them."""

    def __init__(self, ca: CertificateAuthority) -> None:
        self._ca = ca
        self._lock = threading.Lock()
        self._keys: list[_Key] = []
        self.rotate()

    def rotate(self) -> str:
        """Add a new signing key, used from now on (old ones stay in the JWKS). Returns its kid."""
        client = self._ca.issue_client_certificate("entra-auth emulator token signing")
        from cryptography.hazmat.primitives import serialization

        # a key generated a moment ago: its consistency check (35 ms) would prove nothing
        key = serialization.load_pem_private_key(client.private_key_pem.encode(), None,
                                                 unsafe_skip_rsa_key_validation=True)
        kid = b64url(hashlib.sha1(certificate_der(client.certificate_pem)).digest())  # noqa: S324
        with self._lock:
            self._keys.append(_Key(kid, key, client.certificate_pem))  # type: ignore[arg-type]
        return kid

    @property
    def current_kid(self) -> str:
        """The kid new tokens are signed with."""
        return self._keys[-1].kid

    def jwks(self, issuer: str) -> dict[str, Any]:
        """The JWKS document (``/discovery/v2.0/keys``)."""
        from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

        keys = []
        for k in self._keys:
            pub = k.private_key.public_key()
            assert isinstance(pub, RSAPublicKey)
            numbers = pub.public_numbers()
            n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
            e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
            keys.append({
                "kty": "RSA", "use": "sig", "kid": k.kid, "x5t": k.kid,
                "n": b64url(n), "e": b64url(e),
                "x5c": [base64.b64encode(certificate_der(k.certificate_pem)).decode()],
                "issuer": issuer,
            })
        return {"keys": keys}

    def sign(self, claims: dict[str, Any]) -> str:
        """Sign claims as an RS256 JWT with the current key."""
        import jwt

        key = self._keys[-1]
        return jwt.encode(
            claims, key.private_key, algorithm="RS256",
            headers={"typ": "JWT", "kid": key.kid, "x5t": key.kid},
        )

    def verify(self, token: str, *, now: float, leeway: float = 0.0) -> dict[str, Any]:
        """Check a token this emulator issued: signature (by kid) and lifetime.

        Returns:
            The claims.

        Raises:
            TokenInvalid: malformed, bad signature or unknown kid, or expired/not yet valid.
        """
        import jwt

        header, _ = decode_unverified(token)
        key = next((k for k in self._keys if k.kid == header.get("kid")), None)
        if key is None or header.get("alg") != "RS256":
            raise TokenInvalid("signature", "unknown signing key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key.private_key.public_key(), algorithms=["RS256"],
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                         "verify_aud": False, "verify_iss": False},
            )
        except jwt.InvalidSignatureError as exc:
            raise TokenInvalid("signature", "signature does not verify") from exc
        except jwt.PyJWTError as exc:
            raise TokenInvalid("malformed", "undecodable token") from exc
        check_lifetime(claims, now=now, leeway=leeway)
        return claims


def check_lifetime(claims: dict[str, Any], *, now: float, leeway: float = 0.0) -> None:
    """Raise ``TokenInvalid('expired')`` unless ``nbf <= now < exp`` (within leeway)."""
    exp = claims.get("exp")
    nbf = claims.get("nbf", claims.get("iat", 0))
    if not isinstance(exp, (int, float)) or not isinstance(nbf, (int, float)):
        raise TokenInvalid("malformed", "exp/nbf missing or not numbers")
    if now >= exp + leeway or now + leeway < nbf:
        raise TokenInvalid("expired", "outside its validity period")


def verify_with_certificate(
    token: str, certificate_pem: str, algorithm: str
) -> dict[str, Any]:
    """Verify a client assertion's signature with a certificate's public key (claims unchecked).

    Raises:
        TokenInvalid: ``signature`` if it does not verify.
    """
    import jwt
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))
    try:
        claims: dict[str, Any] = jwt.decode(
            token, cert.public_key(), algorithms=[algorithm],  # type: ignore[arg-type]
            options={"verify_signature": True, "verify_exp": False, "verify_nbf": False,
                     "verify_iat": False, "verify_aud": False, "verify_iss": False},
        )
    except jwt.PyJWTError as exc:
        raise TokenInvalid("signature", "assertion signature does not verify") from exc
    return claims


def new_rsa_key() -> RSAPrivateKey:
    """A fresh RSA key (re-exported for tests that forge tokens)."""
    return generate_rsa_key()
