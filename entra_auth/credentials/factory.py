"""Turn MSAL's ``client_credential`` into client authentication form fields.

RFC 6749 section 2.3.1 (``client_secret`` in the body) and RFC 7523 section 2.2 (JWT client
assertions). Certificates are handled in :mod:`.certificate`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .assertion import JWT_BEARER_ASSERTION_TYPE

__all__ = ["JWT_BEARER_ASSERTION_TYPE", "AssertionAuth", "SecretAuth", "build_client_auth"]


class SecretAuth:
    """A client secret, sent in the form body (never HTTP Basic, as Entra expects)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def form_fields(self, token_endpoint: str, now: float, jti: str) -> dict[str, str]:
        """``client_secret``."""
        return {"client_secret": self._secret}

    def __repr__(self) -> str:
        return "SecretAuth(****)"


class AssertionAuth:
    """A pre-signed client assertion, or a callable returning a fresh one each request."""

    def __init__(self, assertion: str | Callable[[], str]) -> None:
        self._assertion = assertion

    def form_fields(self, token_endpoint: str, now: float, jti: str) -> dict[str, str]:
        """``client_assertion_type`` and ``client_assertion``.

        Raises:
            ValueError: the callable returned something other than a non-empty string.
        """
        value: object = self._assertion() if callable(self._assertion) else self._assertion
        if isinstance(value, bytes):
            value = value.decode("ascii")
        if not isinstance(value, str) or not value:
            raise ValueError("the client_assertion callable must return a non-empty string")
        return {"client_assertion_type": JWT_BEARER_ASSERTION_TYPE, "client_assertion": value}

    def __repr__(self) -> str:
        return "AssertionAuth(****)"


def build_client_auth(
    client_credential: object,
    *,
    client_id: str,
    client_claims: Mapping[str, Any] | None = None,
    is_adfs: bool = False,
) -> SecretAuth | AssertionAuth | Any:
    """Build the client authentication for MSAL's ``client_credential`` forms.

    Accepted: a secret string; ``{"client_assertion": str | callable}``; a certificate
    ``{"private_key": PEM, "thumbprint": SHA-1 hex, "public_certificate": PEM,
    "passphrase": str}``; or ``{"private_key_pfx_path": path, "passphrase": str,
    "public_certificate": True}``.

    Raises:
        ValueError: the credential has none of these shapes, or its key can't be loaded.
    """
    if isinstance(client_credential, str):
        if not client_credential:
            raise ValueError("client_credential (the client secret) must not be empty")
        return SecretAuth(client_credential)
    if not isinstance(client_credential, Mapping):
        raise ValueError(
            "client_credential must be a secret string or a dict (certificate or "
            "client_assertion), not " + type(client_credential).__name__
        )
    assertion = client_credential.get("client_assertion")
    if assertion:
        if not (isinstance(assertion, (str, bytes)) or callable(assertion)):
            raise ValueError("client_assertion must be a string or a callable returning one")
        return AssertionAuth(assertion.decode("ascii") if isinstance(assertion, bytes)
                             else assertion)
    from .certificate import CertificateAuth

    return CertificateAuth.from_credential(
        client_credential, client_id=client_id, client_claims=client_claims, is_adfs=is_adfs
    )
