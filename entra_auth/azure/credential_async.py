"""Async Azure SDK credential (azure-core ``AsyncTokenCredential``, ``AsyncSupportsTokenInfo``).

Exposed as ``entra_auth.aio.EntraTokenCredential``. Runs the same application-call flow as
:class:`entra_auth.azure.credential.EntraTokenCredential`: awaited for an ``entra_auth.aio``
application, in a worker thread for a sync one (so the event loop never blocks).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

from ..errors import EntraAuthError
from ..protocol.client_app import AsyncApp, AsyncConfidentialApp, SyncApp, SyncConfidentialApp
from ..transport.driver import run_async
from ._azure_core import access_token, azure_error
from .credential import (
    AccessToken,
    AccessTokenInfo,
    TokenRequestOptions,
    _CredentialCore,
    token_request_options,
)

__all__ = ["EntraTokenCredential"]


class EntraTokenCredential:
    """An async Azure SDK credential over an Entra application (see the sync class).

    Example::

        app = entra_auth.aio.ConfidentialClientApplication(CLIENT_ID, SECRET, authority=AUTH)
        async with entra_auth.aio.EntraTokenCredential(app) as credential:
            token = await credential.get_token("https://graph.microsoft.com/.default")
    """

    def __init__(
        self,
        app: AsyncApp | SyncApp,
        *,
        account: Mapping[str, Any] | str | None = None,
        clock: Callable[[], float] = time.time,
        additionally_allowed_tenants: Iterable[str] | None = None,
        _user_assertion: str | None = None,
    ) -> None:
        """Wrap an ``entra_auth.aio`` application (or a sync one, called in a thread).

        Args:
            app: The application.
            account: The user whose tokens to get (see the sync class).
            clock: Seconds since the epoch.
            additionally_allowed_tenants: Other tenants ``get_token(tenant_id=...)`` may ask
                for (see the sync class).
        """
        self._core = _CredentialCore(app, account=account, user_assertion=_user_assertion,
                                     clock=clock,
                                     additionally_allowed_tenants=additionally_allowed_tenants)

    @classmethod
    def on_behalf_of(cls, app: AsyncConfidentialApp | SyncConfidentialApp,
                     user_assertion: str, *,
                     clock: Callable[[], float] = time.time,
                     additionally_allowed_tenants: Iterable[str] | None = None,
                     ) -> EntraTokenCredential:
        """A credential calling downstream APIs as the user whose token a web API received."""
        return cls(app, clock=clock, additionally_allowed_tenants=additionally_allowed_tenants,
                   _user_assertion=user_assertion)

    def __repr__(self) -> str:
        return f"aio.EntraTokenCredential(kind={self._core.kind!r})"

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        """Get an access token (see the sync ``get_token``)."""
        info = await self.get_token_info(
            *scopes, options=token_request_options(claims, tenant_id, enable_cae))
        token: AccessToken = access_token(info.token, info.expires_on)
        return token

    async def get_token_info(
        self, *scopes: str, options: TokenRequestOptions | None = None
    ) -> AccessTokenInfo:
        """Get an access token with its type and refresh time (see the sync method)."""
        opts = options or {}
        flow = self._core.flow(scopes, opts.get("claims") or None, opts.get("tenant_id"))
        try:
            return await run_async(flow, app=self._core.app)
        except EntraAuthError as exc:
            raise azure_error(exc) from exc.__cause__

    async def close(self) -> None:
        """Nothing to release (the application owns its HTTP client)."""

    async def __aenter__(self) -> EntraTokenCredential:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()
