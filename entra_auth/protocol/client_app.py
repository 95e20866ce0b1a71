"""What entra_auth needs of an MSAL-like client application, as typing ``Protocol`` classes.

The adapters (:class:`~entra_auth.EntraAuth`), the Azure SDK credentials, the token providers,
interactive sign-in and the CLI take any application with MSAL's public API: entra_auth's
(sync, or ``entra_auth.aio``) or msal's. These protocols are structural: no application has
to inherit from them, and at run time the callers still check with ``hasattr`` (public or
confidential) and ``inspect`` (sync or async) as before. The methods are called by name
through :class:`~entra_auth.protocol.messages.AppCall`, so only the parameters every caller
passes are spelled out; the rest are keyword arguments.

=========================  =======================================================
Protocol                   Methods (beyond :class:`SyncApp`'s)
=========================  =======================================================
:class:`SyncApp`           ``get_accounts``, ``remove_account``,
                           ``acquire_token_silent_with_error``,
                           ``initiate_auth_code_flow``,
                           ``acquire_token_by_auth_code_flow``; ``client_id``,
                           ``authority``, ``token_cache``
:class:`SyncPublicApp`     ``initiate_device_flow``, ``acquire_token_by_device_flow``,
                           ``acquire_token_interactive``
:class:`SyncConfidentialApp`  ``acquire_token_for_client``, ``acquire_token_on_behalf_of``
``Async*``                 the same, as coroutines (``entra_auth.aio``)
=========================  =======================================================
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any, Protocol, Union

__all__ = [
    "AsyncApp",
    "AsyncConfidentialApp",
    "AsyncPublicApp",
    "ClientApp",
    "SyncApp",
    "SyncConfidentialApp",
    "SyncPublicApp",
]

Account = Mapping[str, Any]
Result = dict[str, Any]


class SyncApp(Protocol):
    """An MSAL-like ``ClientApplication`` (``entra_auth.ClientApplication``, msal's)."""

    @property
    def client_id(self) -> str: ...

    @property
    def authority(self) -> Any: ...

    @property
    def token_cache(self) -> Any: ...

    def get_accounts(self, username: str | None = None) -> list[Result]: ...

    def remove_account(self, account: Account) -> None: ...

    def acquire_token_silent_with_error(
        self, scopes: list[str], account: Account | None, **kwargs: Any
    ) -> Result | None: ...

    def initiate_auth_code_flow(
        self, scopes: list[str], redirect_uri: str | None = None, state: str | None = None,
        prompt: str | None = None, login_hint: str | None = None,
        domain_hint: str | None = None, claims_challenge: str | None = None,
        max_age: int | None = None, response_mode: str | None = None,
    ) -> Result: ...

    def acquire_token_by_auth_code_flow(
        self, auth_code_flow: Mapping[str, Any], auth_response: Mapping[str, Any],
        **kwargs: Any,
    ) -> Result: ...


class SyncPublicApp(SyncApp, Protocol):
    """An MSAL-like ``PublicClientApplication``."""

    def initiate_device_flow(self, scopes: list[str] | None = None, **kwargs: Any) -> Result: ...

    def acquire_token_by_device_flow(
        self, flow: MutableMapping[str, Any], **kwargs: Any
    ) -> Result: ...

    def acquire_token_interactive(self, scopes: list[str], **kwargs: Any) -> Result: ...


class SyncConfidentialApp(SyncApp, Protocol):
    """An MSAL-like ``ConfidentialClientApplication``."""

    def acquire_token_for_client(self, scopes: list[str], **kwargs: Any) -> Result: ...

    def acquire_token_on_behalf_of(
        self, user_assertion: str, scopes: list[str], **kwargs: Any
    ) -> Result: ...


class AsyncApp(Protocol):
    """The asyncio twin of :class:`SyncApp` (``entra_auth.aio.ClientApplication``)."""

    @property
    def client_id(self) -> str: ...

    @property
    def authority(self) -> Any: ...

    @property
    def token_cache(self) -> Any: ...

    async def get_accounts(self, username: str | None = None) -> list[Result]: ...

    async def remove_account(self, account: Account) -> None: ...

    async def acquire_token_silent_with_error(
        self, scopes: list[str], account: Account | None, **kwargs: Any
    ) -> Result | None: ...

    async def initiate_auth_code_flow(
        self, scopes: list[str], redirect_uri: str | None = None, state: str | None = None,
        prompt: str | None = None, login_hint: str | None = None,
        domain_hint: str | None = None, claims_challenge: str | None = None,
        max_age: int | None = None, response_mode: str | None = None,
    ) -> Result: ...

    async def acquire_token_by_auth_code_flow(
        self, auth_code_flow: Mapping[str, Any], auth_response: Mapping[str, Any],
        **kwargs: Any,
    ) -> Result: ...


class AsyncPublicApp(AsyncApp, Protocol):
    """The asyncio twin of :class:`SyncPublicApp`."""

    async def initiate_device_flow(
        self, scopes: list[str] | None = None, **kwargs: Any
    ) -> Result: ...

    async def acquire_token_by_device_flow(
        self, flow: MutableMapping[str, Any], **kwargs: Any
    ) -> Result: ...

    async def acquire_token_interactive(self, scopes: list[str], **kwargs: Any) -> Result: ...


class AsyncConfidentialApp(AsyncApp, Protocol):
    """The asyncio twin of :class:`SyncConfidentialApp`."""

    async def acquire_token_for_client(self, scopes: list[str], **kwargs: Any) -> Result: ...

    async def acquire_token_on_behalf_of(
        self, user_assertion: str, scopes: list[str], **kwargs: Any
    ) -> Result: ...


ClientApp = Union[SyncApp, AsyncApp]
"""Any MSAL-like application, sync or async (what the adapters and credentials accept)."""
