"""The exception tree: every exception class entra_auth raises to its callers, and where it lives.

The MSAL-compatible methods keep MSAL's contract: they return error dicts, and raise
``ValueError`` for client-side misuse and ``IdTokenError`` (a ``RuntimeError``) for an id_token
that fails a check. Everything else raises from this tree. A node line gives the class, its
further bases as ``(+Base)``, and the module that defines it (under ``entra_auth.``); the line
below says when it is raised. Catch them by the defining module, or from ``entra_auth``
(``entra_auth.__all__``), ``entra_auth.web`` or ``entra_auth.testing``::

    Exception
    ├── EntraAuthError                                errors
    │   │     base of our own errors: error, error_description, correlation_id, claims, result
    │   ├── TokenRequestError                         errors
    │   │   │     the identity provider refused a token request
    │   │   └── InteractionRequiredError              errors
    │   │         a user must sign in (no account, interaction_required, a claims challenge
    │   │         that silent acquisition can't meet)
    │   ├── ProtocolError                             errors
    │   │     a reply we could not understand (malformed, truncated, HTML)
    │   ├── TransportFailure                          errors
    │   │     the request did not complete (connection refused or reset, timeout, TLS)
    │   ├── CredentialUnavailableError                errors
    │   │   │     a credential has nothing to try here, so a chain moves on
    │   │   └── DefaultCredentialError                azure.default_credential
    │   │         no source of DefaultAzureCredential's chain had a token (``attempts``)
    │   ├── CacheError                                errors
    │   │     a token cache could not be read, decrypted, locked or written
    │   ├── ManagedIdentityError (+ValueError)        protocol.managed_identity_sources
    │   │   │     a managed identity is misconfigured, or its endpoint failed for good
    │   │   └── ManagedIdentityUnavailableError       protocol.managed_identity_sources
    │   │         no managed identity endpoint answers here
    │   ├── EnvironmentConfigError (+ValueError)      credentials.environment
    │   │     the environment does not describe one usable credential (``missing``, ...)
    │   ├── UnsafeDestinationError                    adapters.policy
    │   │     a bearer token would have gone where it must not; nothing was sent
    │   ├── TenantNotAllowedError                     azure.credential
    │   │     get_token named a tenant the credential may not get tokens for
    │   └── WebAuthError                              web.errors
    │       │     a protected web API refuses a request (``status_code``, ``response()``)
    │       ├── MissingTokenError                     web.errors
    │       │     401: the request carried no bearer token
    │       ├── InvalidTokenError                     web.errors
    │       │     401: malformed, expired, badly signed, or not for this API
    │       ├── InsufficientScopeError                web.errors
    │       │     403: a valid token without an accepted scope or app role
    │       └── ClaimsChallengeError                  web.errors
    │             401: a downstream API wants claims only the caller's app can get
    ├── ValueError
    │   ├── MalformedChallengeError                   protocol.www_authenticate
    │   │     a ``WWW-Authenticate`` value that does not parse
    │   └── ConfigError                               testing.config
    │         an emulator configuration is malformed or inconsistent
    ├── RuntimeError
    │   └── IdTokenError                              protocol.id_token
    │         an id_token failed a check (malformed, nonce mismatch, too old for max_age)
    └── SignInError                                   testing.user_agent
          the emulator's scripted browser could not complete a sign-in

With azure-core installed, the Azure SDK credentials raise these as classes of the same name that
also derive from azure-core's ``ClientAuthenticationError`` (azure-identity's
``CredentialUnavailableError`` for the unavailable ones), so Azure SDK code catches them too.

Internal exceptions never reach a caller: the library catches each and turns it into a value
(an error dict, an HTTP reply, an exit code). Those in private modules (``_name.py``) and the
flow vocabulary (``protocol.messages``: a driver throws them into a flow) are not listed; the
others are::

    Exception
    ├── FlowError                                     protocol.context
    │     ends a flow with an error dict (app_flows.guard returns it)
    ├── ValueError
    │   └── RequestTooLarge                           interactive.loopback_core
    │         the loopback listener answers 400 to an oversized or malformed request
    ├── EntraError                                    testing.aadsts
    │     the emulator answers with an Entra error reply
    ├── TokenInvalid                                  testing.tokens
    │     the emulator refuses a token it was shown
    └── Denied                                        testing.graph
          the emulator's Graph API refuses a request

``tests/test_exception_tree.py`` checks both trees against the package: every exception class
in a public module appears with its module and bases. Messages never contain tokens, secrets,
codes or assertions. :func:`missing_extra` builds the ``ImportError`` an optional integration
raises when its extra is not installed.
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
