"""The asyncio ``DefaultAzureCredential`` (azure-core ``AsyncTokenCredential``).

Exposed as ``entra_auth.aio.DefaultAzureCredential``. Runs the sync chain of
:mod:`entra_auth.azure.default_credential` in a worker thread: its sources are a subprocess, a file
or one HTTP request each, so the event loop never blocks and the chain logic exists once.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

from .credential import AccessToken, AccessTokenInfo, TokenRequestOptions
from .default_credential import DefaultAzureCredential as _SyncDefault

__all__ = ["DefaultAzureCredential"]


class DefaultAzureCredential:
    """azure-identity's ``aio.DefaultAzureCredential``; takes the sync class's arguments.

    Example::

        async with entra_auth.aio.DefaultAzureCredential() as credential:
            token = await credential.get_token("https://management.azure.com/.default")
    """

    def __init__(self, **kwargs: Any) -> None:
        """See :class:`entra_auth.DefaultAzureCredential` for the arguments."""
        self._sync = _SyncDefault(**kwargs)

    def __repr__(self) -> str:
        return f"aio.{self._sync!r}"

    @property
    def successful_credential(self) -> Any:
        """The source that gave the first token (used from then on), or None."""
        return self._sync.successful_credential

    async def get_token(self, *scopes: str, claims: str | None = None,
                        tenant_id: str | None = None, enable_cae: bool = False,
                        **kwargs: Any) -> AccessToken:
        """Get an access token (see the sync class)."""
        return await asyncio.to_thread(self._sync.get_token, *scopes, claims=claims,
                                       tenant_id=tenant_id, enable_cae=enable_cae)

    async def get_token_info(self, *scopes: str,
                             options: TokenRequestOptions | None = None) -> AccessTokenInfo:
        """Get an access token with its refresh time (see the sync class)."""
        return await asyncio.to_thread(self._sync.get_token_info, *scopes, options=options)

    async def close(self) -> None:
        """Close every source."""
        await asyncio.to_thread(self._sync.close)

    async def __aenter__(self) -> DefaultAzureCredential:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()
