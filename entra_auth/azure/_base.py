"""What every Azure SDK-style credential of entra_auth shares: the azure-core surface.

A subclass implements :meth:`SourceCredential._token_info`; this base gives it ``get_token``,
``get_token_info``, ``close`` and the context manager, converts errors to azure-core's types
when azure-core is installed, and checks ``tenant_id`` against the allowed tenants.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from ..errors import CredentialUnavailableError, EntraAuthError
from ..protocol.authority import check_tenant_id
from ._azure_core import access_token, access_token_info, azure_error
from .credential import (
    AccessToken,
    AccessTokenInfo,
    TenantNotAllowedError,
    TokenRequestOptions,
    allowed_tenants,
    token_request_options,
)

__all__ = ["SourceCredential", "make_info", "single_resource"]


def make_info(token: str, expires_on: float, refresh_on: float | None = None) -> AccessTokenInfo:
    """An ``AccessTokenInfo`` (azure-core's when installed), refreshing 5 minutes early."""
    expires = int(expires_on)
    refresh = int(refresh_on) if refresh_on is not None else expires - 300
    info: AccessTokenInfo = access_token_info(token, expires, refresh_on=refresh)
    return info


def single_resource(scopes: tuple[str, ...], who: str) -> str:
    """The one scope a CLI or managed identity token is for.

    Raises:
        ValueError: not exactly one scope, or one with characters no scope has.
    """
    if len(scopes) != 1:
        raise ValueError(f"{who} gets a token for one scope at a time, not {len(scopes)}")
    scope = scopes[0]
    if not isinstance(scope, str) or not scope.strip() or any(
            c.isspace() or c in "\"'`$;&|<>" for c in scope):
        raise ValueError(f"{who}: not a valid scope: {scope!r}")
    return scope


class SourceCredential:
    """Base of the chain's member credentials (sync)."""

    #: The azure-identity class this one stands for (``AZURE_TOKEN_CREDENTIALS`` names it).
    name = "Credential"

    def __init__(self, *, tenant_id: str | None = None,
                 additionally_allowed_tenants: Iterable[str] | None = None) -> None:
        if tenant_id is not None:
            check_tenant_id(tenant_id, "tenant_id")
        self.tenant_id = tenant_id
        self.allowed_tenants = allowed_tenants(additionally_allowed_tenants)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _token_info(self, scopes: tuple[str, ...], claims: str | None, tenant_id: str | None,
                    enable_cae: bool) -> AccessTokenInfo:
        raise NotImplementedError

    def _tenant(self, requested: str | None) -> str | None:
        """The tenant to ask for: ``requested`` if allowed, else the configured one.

        Raises:
            TenantNotAllowedError: ``requested`` is another tenant not allowed.
        """
        if not requested:
            return self.tenant_id
        check_tenant_id(requested, "tenant_id")
        if self.tenant_id and requested.lower() == self.tenant_id.lower():
            return self.tenant_id
        if "*" not in self.allowed_tenants and requested.lower() not in self.allowed_tenants:
            raise TenantNotAllowedError(
                "tenant_not_allowed",
                f"{self.name} is not configured to get tokens for tenant {requested!r}; add "
                "it to additionally_allowed_tenants (or $AZURE_ADDITIONALLY_ALLOWED_TENANTS)")
        return requested

    def get_token(self, *scopes: str, claims: str | None = None, tenant_id: str | None = None,
                  enable_cae: bool = False, **kwargs: Any) -> AccessToken:
        """Get an access token (azure-core ``TokenCredential``).

        Raises:
            CredentialUnavailableError: This source has nothing to offer here (a chain moves
                on); with azure-identity installed, also its ``CredentialUnavailableError``.
            EntraAuthError: The source failed (with azure-core installed, also a
                ``ClientAuthenticationError``).
        """
        options = token_request_options(claims, tenant_id, enable_cae)
        info = self.get_token_info(*scopes, options=options)
        token: AccessToken = access_token(info.token, info.expires_on)
        return token

    def get_token_info(self, *scopes: str,
                       options: TokenRequestOptions | None = None) -> AccessTokenInfo:
        """Get an access token with its refresh time (azure-core ``SupportsTokenInfo``).

        Raises:
            CredentialUnavailableError: As for :meth:`get_token`.
            EntraAuthError: As for :meth:`get_token`.
        """
        opts: Mapping[str, Any] = options or {}
        if not scopes:
            raise ValueError("get_token needs at least one scope")
        try:
            return self._token_info(tuple(scopes), opts.get("claims") or None,
                                    opts.get("tenant_id") or None,
                                    bool(opts.get("enable_cae", False)))
        except EntraAuthError as exc:
            raise azure_error(exc) from exc.__cause__

    def close(self) -> None:
        """Release what the credential holds (HTTP sessions)."""

    def __enter__(self) -> SourceCredential:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def unavailable(message: str) -> CredentialUnavailableError:
    """A :class:`CredentialUnavailableError` (converted by ``get_token_info``)."""
    return CredentialUnavailableError(message)

