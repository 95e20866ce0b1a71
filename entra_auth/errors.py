"""The exception tree of entra_auth's own APIs (adapters, caches, emulator, CLI).

The MSAL-compatible methods keep MSAL's contract: they return error dicts and raise
``ValueError`` for client-side misuse. Everything else raises from this tree::

    EntraAuthError                  error, error_description, correlation_id, claims
    ├── TokenRequestError           the identity provider answered with an error
    │   └── InteractionRequiredError   a user must sign in (interaction_required, no account,
    │                                  a claims challenge that silent acquisition can't meet)
    ├── ProtocolError               a reply we could not understand (malformed, truncated, HTML)
    ├── TransportFailure            the request did not complete (connect, timeout, reset)
    ├── CredentialUnavailableError  a credential has nothing to try here (a chain moves on)
    └── CacheError                  a cache could not be read, decrypted, locked or written

Messages never contain tokens, secrets, codes or assertions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "CacheError",
    "CredentialUnavailableError",
    "EntraAuthError",
    "InteractionRequiredError",
    "ProtocolError",
    "TokenRequestError",
    "TransportFailure",
]


class EntraAuthError(Exception):
    """Base of every exception entra_auth raises on its own account."""

    def __init__(
        self,
        error: str,
        error_description: str | None = None,
        *,
        correlation_id: str | None = None,
        claims: str | None = None,
        result: Mapping[str, Any] | None = None,
    ) -> None:
        self.error = error
        self.error_description = error_description
        self.correlation_id = correlation_id
        self.claims = claims
        self.result = dict(result) if result is not None else None
        message = error if not error_description else f"{error}: {error_description}"
        if correlation_id:
            message += f" (correlation_id={correlation_id})"
        super().__init__(message)

    @classmethod
    def from_result(cls, result: Mapping[str, Any]) -> EntraAuthError:
        """Build the exception from an MSAL-style error dict."""
        return cls(
            str(result.get("error") or "unknown_error"),
            _str_or_none(result.get("error_description")),
            correlation_id=_str_or_none(result.get("correlation_id")),
            claims=_str_or_none(result.get("claims")),
            result=result,
        )


class TokenRequestError(EntraAuthError):
    """The identity provider refused a token request."""


class InteractionRequiredError(TokenRequestError):
    """A token can't be had silently: a user has to sign in or consent."""


class ProtocolError(EntraAuthError):
    """A server reply was malformed, truncated, or not the protocol we expected."""


class TransportFailure(EntraAuthError):
    """A request could not be completed (connection refused or reset, timeout, TLS).

    The public face of a failed request. Inside the I/O-free flows the same failure is
    :class:`entra_auth.protocol.messages.SendError` (internal, never raised to callers).
    """


class CredentialUnavailableError(EntraAuthError):
    """A credential has nothing to try here (not configured, not signed in, no endpoint).

    With azure-identity installed, credentials raise it as azure-identity's own
    ``CredentialUnavailableError`` too, so its ``ChainedTokenCredential`` moves on.
    """

    def __init__(self, error_description: str, error: str = "credential_unavailable") -> None:
        super().__init__(error, error_description)


class CacheError(EntraAuthError):
    """A token cache could not be read, decrypted, locked or written."""


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def missing_extra(module: str, package: str, extra: str, cause: ImportError) -> ImportError:
    """An ImportError for ``module`` needing ``package`` from the ``extra`` extra.

    Args:
        module: The entra_auth module that needs it, e.g. ``entra_auth.web.flask``.
        package: The distribution users know, e.g. ``Flask``.
        extra: The entra-auth extra that installs it.
        cause: The original error (its ``name`` is kept).
    """
    error = ImportError(f'{module} needs {package}: pip install "entra-auth[{extra}]"',
                        name=cause.name)
    error.__cause__ = cause
    return error
