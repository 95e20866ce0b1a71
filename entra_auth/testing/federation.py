"""Workload identity federation: external issuers a test plays, and how Entra checks their tokens.

An app's :class:`~entra_auth.testing.model.FederatedCredential` names an issuer, a subject and
audiences. A client authenticates by sending a token from that issuer as its
``client_assertion`` (``iss``/``sub`` are the external identity, not the client id), as
Kubernetes service-account tokens, GitHub Actions OIDC tokens and other issuers' are. The
emulator knows an issuer's signing keys when a test registers it with
``emu.add_token_issuer(url)``, which returns a :class:`TokenIssuer` that mints such tokens.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .aadsts import EntraError
from .certs import generate_rsa_key
from .model import App
from .tokens import TokenInvalid, b64url, check_lifetime

if TYPE_CHECKING:
    from .core import Core

__all__ = ["DEFAULT_AUDIENCE", "TokenIssuer", "verify_federated_assertion"]

DEFAULT_AUDIENCE = "api://AzureADTokenExchange"
CLOCK_SKEW = 300


class TokenIssuer:
    """An external OIDC token issuer (Kubernetes, GitHub Actions, ...) played by a test.

    Args:
        issuer: The ``iss`` of its tokens, e.g. ``https://token.actions.githubusercontent.com``.
        clock: Seconds since the epoch for ``iat``/``exp`` (the emulator's clock).
    """

    def __init__(self, issuer: str, clock: Callable[[], float]) -> None:
        from cryptography.hazmat.primitives import serialization

        self.issuer = issuer
        self._clock = clock
        self._key = generate_rsa_key()
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.kid = b64url(hashlib.sha256(der).digest())[:32]

    def token(self, subject: str, *, audience: str | list[str] = DEFAULT_AUDIENCE,
              lifetime: int = 3600, claims: dict[str, Any] | None = None) -> str:
        """A signed RS256 token for ``subject`` (``iss`` = this issuer), as the issuer mints."""
        import jwt

        now = int(self._clock())
        payload = {"iss": self.issuer, "sub": subject, "aud": audience, "iat": now, "nbf": now,
                   "exp": now + lifetime, "jti": str(uuid.uuid4()), **(claims or {})}
        return jwt.encode(payload, self._key, algorithm="RS256",
                          headers={"kid": self.kid, "typ": "JWT"})

    def write_token_file(self, path: str, subject: str, **kwargs: Any) -> str:
        """Write a fresh token to ``path`` (as a projected service-account token); return it."""
        with open(path, "w", encoding="ascii") as handle:
            handle.write(self.token(subject, **kwargs))
        return path

    def public_key(self) -> Any:
        """The key the emulator verifies this issuer's tokens with."""
        return self._key.public_key()

    def __repr__(self) -> str:
        return f"TokenIssuer({self.issuer!r})"


def _no_match(claims: dict[str, Any]) -> EntraError:
    aud = claims.get("aud")
    audience = aud[0] if isinstance(aud, list) and aud else aud
    return EntraError(
        400, "invalid_request", 70021,
        "No matching federated identity record found for presented assertion. Assertion "
        f"Issuer: '{str(claims.get('iss'))[:200]}'. Assertion Subject: "
        f"'{str(claims.get('sub'))[:200]}'. Assertion Audience: '{str(audience)[:200]}'.",
    )


def verify_federated_assertion(core: Core, app: App, assertion: str,
                               claims: dict[str, Any]) -> None:
    """Check an external token presented as ``app``'s client assertion.

    ``claims`` are the token's unverified claims (``iss`` is not the client id).

    Raises:
        EntraError: 70021 (no federated credential matches issuer, subject and audience),
            50166 (the issuer's keys are unknown), 700027 (bad signature), 700024 (expired).
    """
    import jwt

    audiences = claims.get("aud")
    presented = audiences if isinstance(audiences, list) else [audiences]
    match = next((f for f in app.federated_credentials
                  if f.issuer == claims.get("iss") and f.subject == claims.get("sub")
                  and any(a in f.audiences for a in presented)), None)
    if match is None:
        raise _no_match(claims)
    issuer = core.state.token_issuers.get(match.issuer)
    if issuer is None:
        raise EntraError(401, "invalid_client", 50166,
                         "Request to External OIDC endpoint failed. The emulator knows no "
                         "signing keys for this issuer: register it with "
                         "emu.add_token_issuer().")
    try:
        jwt.decode(assertion, issuer.public_key(), algorithms=["RS256"],
                   options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                            "verify_aud": False, "verify_iss": False})
    except jwt.PyJWTError:
        raise EntraError(401, "invalid_client", 700027,
                         "Client assertion failed signature validation.") from None
    try:
        check_lifetime(claims, now=core.now(), leeway=CLOCK_SKEW)
    except TokenInvalid:
        raise EntraError(401, "invalid_client", 700024,
                         "Client assertion is not within its valid time range.") from None
