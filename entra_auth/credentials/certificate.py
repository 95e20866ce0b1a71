"""Certificate client credentials: a signed JWT client assertion (RFC 7523 section 2.2).

Header ``x5t`` (SHA-1 thumbprint, RS256) when a thumbprint is given, else ``x5t#S256`` (PS256);
``x5c`` for subject-name/issuer auth. Keys come from PEM (optionally encrypted) or PKCS#12.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

from .assertion import JWT_BEARER_ASSERTION_TYPE

__all__ = ["CertificateAuth", "pem_certificates"]

_CERT_RE = re.compile(
    r"-----BEGIN CERTIFICATE-----(?P<body>[^-]+)-----END CERTIFICATE-----", re.IGNORECASE
)
ASSERTION_LIFETIME = 600


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pem_certificates(content: str) -> list[str]:
    """The base64 DER bodies of the PEM certificates in ``content`` (for ``x5c``).

    Raises:
        ValueError: ``content`` holds a private key instead of a certificate.
    """
    found = ["".join(m.group("body").split()) for m in _CERT_RE.finditer(content)]
    if found:
        return found
    if "PRIVATE KEY" in content:
        raise ValueError("public_certificate holds a private key, not a certificate")
    return ["".join(content.split())]


def _bytes(value: object) -> bytes | None:
    if value is None or value == "":
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise ValueError("passphrase must be a string")


class CertificateAuth:
    """Signs a fresh client assertion for every token request."""

    def __init__(
        self,
        private_key: Any,
        *,
        client_id: str,
        algorithm: str,
        headers: dict[str, Any],
        client_claims: Mapping[str, Any] | None = None,
    ) -> None:
        self._key = private_key
        self._client_id = client_id
        self._algorithm = algorithm
        self._headers = headers
        self._claims = dict(client_claims or {})

    def __repr__(self) -> str:
        return f"CertificateAuth({self._algorithm}, headers={sorted(self._headers)})"

    @classmethod
    def from_credential(
        cls,
        credential: Mapping[str, Any],
        *,
        client_id: str,
        client_claims: Mapping[str, Any] | None = None,
        is_adfs: bool = False,
    ) -> CertificateAuth:
        """Load the key and pick the header per MSAL's rules.

        Raises:
            ValueError: missing key or thumbprint, wrong passphrase, malformed PEM/PFX.
        """
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.serialization import pkcs12

        passphrase = _bytes(credential.get("passphrase"))
        headers: dict[str, Any] = {}
        sha1: bytes | None = None
        sha256: bytes | None = None
        public_cert = credential.get("public_certificate")
        if credential.get("private_key_pfx_path"):
            try:
                with open(str(credential["private_key_pfx_path"]), "rb") as f:
                    key, cert, _ = pkcs12.load_key_and_certificates(f.read(), passphrase)
            except OSError as exc:
                raise ValueError(f"Cannot read the PFX file: {exc.strerror}") from None
            except (ValueError, TypeError):
                raise ValueError(
                    "Cannot load the PFX file: wrong passphrase or not PKCS#12") from None
            if key is None or cert is None:
                raise ValueError("The PFX file must contain both a private key and a certificate")
            sha1, sha256 = cert.fingerprint(hashes.SHA1()), cert.fingerprint(hashes.SHA256())  # noqa: S303
            if public_cert is True:
                der = cert.public_bytes(serialization.Encoding.DER)
                headers["x5c"] = [base64.b64encode(der).decode("ascii")]
        elif credential.get("private_key"):
            pem = credential["private_key"]
            pem_bytes = pem.encode("utf-8") if isinstance(pem, str) else pem
            if not isinstance(pem_bytes, bytes):
                raise ValueError("private_key must be a PEM string")
            try:
                key = serialization.load_pem_private_key(pem_bytes, passphrase)
            except (ValueError, TypeError):
                raise ValueError(
                    "Cannot load private_key: malformed PEM, or a wrong or missing passphrase"
                ) from None
            if credential.get("thumbprint"):
                try:
                    sha1 = bytes.fromhex(str(credential["thumbprint"]).replace(":", ""))
                except ValueError:
                    raise ValueError("thumbprint must be a hex SHA-1 thumbprint") from None
            elif isinstance(public_cert, str):
                try:
                    cert = x509.load_pem_x509_certificate(public_cert.encode("utf-8"))
                except ValueError:
                    raise ValueError("public_certificate is not a PEM certificate") from None
                sha1, sha256 = cert.fingerprint(hashes.SHA1()), cert.fingerprint(hashes.SHA256())  # noqa: S303
            else:
                raise ValueError(
                    "A certificate credential needs 'thumbprint' or 'public_certificate'"
                )
        else:
            raise ValueError(
                "client_credential needs 'private_key' (with 'thumbprint' or "
                "'public_certificate'), 'private_key_pfx_path', or 'client_assertion'"
            )
        if "x5c" not in headers and isinstance(public_cert, str):
            headers["x5c"] = pem_certificates(public_cert)
        if sha256 is not None and not is_adfs:
            algorithm = "PS256"
            headers["x5t#S256"] = _b64url(sha256)
        elif sha1 is not None:
            algorithm = "RS256"
            headers["x5t"] = _b64url(sha1)
        else:
            raise ValueError("ADFS needs a SHA-1 thumbprint")
        return cls(key, client_id=client_id, algorithm=algorithm, headers=headers,
                   client_claims=client_claims)

    def form_fields(self, token_endpoint: str, now: float, jti: str) -> dict[str, str]:
        """A freshly signed assertion: ``aud`` is the token endpoint, ``iss``/``sub`` the app."""
        import jwt

        issued = int(now)
        payload: dict[str, Any] = {
            "aud": token_endpoint,
            "iss": self._client_id,
            "sub": self._client_id,
            "exp": issued + ASSERTION_LIFETIME,
            "iat": issued,
            "nbf": issued,
            "jti": jti,
        }
        payload.update(self._claims)
        assertion = jwt.encode(payload, self._key, algorithm=self._algorithm,
                               headers=self._headers)
        return {"client_assertion_type": JWT_BEARER_ASSERTION_TYPE, "client_assertion": assertion}
