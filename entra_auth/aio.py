"""Async client applications: MSAL's API as coroutines, over ``httpx.AsyncClient``.

Each method drives the same I/O-free flows as the sync classes (:mod:`protocol.app_flows`)
with ``run_async``: no thread offload, no blocking call on the event loop; device-code
polling sleeps with ``asyncio.sleep`` and is cancellable. A ``TokenCache`` may be shared
with sync applications.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from . import _app_base, _app_confidential, _app_public
from ._aio_singleflight import AsyncSingleFlight
from .protocol import app_flows
from .protocol.authority import Authority, AuthorityBuilder, parse_authority
from .protocol.messages import Flow
from .transport.driver import run_async
from .transport.httpx_transport import HttpxAsyncTransport

if TYPE_CHECKING:
    import httpx

    from ._aio_azure_credential import EntraTokenCredential

__all__ = [
    "ClientApplication",
    "ConfidentialClientApplication",
    "EntraTokenCredential",
    "PublicClientApplication",
]


def __getattr__(name: str) -> Any:
    # The Azure SDK credential is imported only when asked for.
    if name == "EntraTokenCredential":
        from ._aio_azure_credential import EntraTokenCredential

        return EntraTokenCredential
    raise AttributeError(f"module 'entra_auth.aio' has no attribute {name!r}")

T = TypeVar("T")


class _NoSyncTransport:
    """Given to the wrapped sync application so that nothing there can do blocking I/O."""

    def post(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("internal error: an async application used its sync transport")

    get = post


class ClientApplication:
    """The base of the async :class:`PublicClientApplication` and
    :class:`ConfidentialClientApplication`.

    Takes the sync classes' constructor arguments, except that ``http_client`` is an
    ``httpx.AsyncClient`` (by default one is created from ``verify``/``proxies``/``timeout``;
    close it with :meth:`aclose` or ``async with``).
    """

    _sync_class: type[_app_base.ClientApplication] = _app_base.ClientApplication

    def __init__(
        self,
        client_id: str,
        client_credential: Any = None,
        *,
        http_client: httpx.AsyncClient | None = None,
        verify: Any = True,
        proxies: Mapping[str, str] | None = None,
        timeout: Any = None,
        **kwargs: Any,
    ) -> None:
        """Create the application (no I/O until the first call).

        Raises:
            ValueError: as the sync class does, or ``http_client`` is not an
                ``httpx.AsyncClient``.
        """
        # The sync class validates and turns the arguments into the flows' context; its
        # transport is a tripwire, never used.
        self._sync = self._make_sync(
            client_id, client_credential, http_client=_NoSyncTransport(), **kwargs
        )
        self._ctx = self._sync._ctx
        self._transport = HttpxAsyncTransport(
            http_client, verify=verify, proxies=proxies, timeout=timeout
        )
        self._single_flight = AsyncSingleFlight()
        self.http_client = self._transport.client

    def _make_sync(
        self, client_id: str, client_credential: Any, **kwargs: Any
    ) -> _app_base.ClientApplication:
        return self._sync_class(client_id, client_credential, **kwargs)

    # -- attributes shared with the sync classes -------------------------------------------

    @property
    def client_id(self) -> str:
        """The application (client) id."""
        return self._sync.client_id

    @property
    def authority(self) -> Authority:
        """The parsed authority."""
        return self._sync.authority

    @property
    def token_cache(self) -> Any:
        """The token cache (may be shared with sync applications)."""
        return self._sync.token_cache

    @property
    def client_credential(self) -> Any:
        """The credential given at construction (None for public clients)."""
        return self._sync.client_credential

    # -- plumbing --------------------------------------------------------------------------

    async def _run(self, flow: Flow[T]) -> T | dict[str, Any]:
        return await run_async(app_flows.guard(flow), self._transport)

    async def _run_dict(self, flow: Flow[Any]) -> dict[str, Any]:
        result = await self._run(flow)
        if not isinstance(result, dict):
            raise TypeError("internal error: a flow returned a non-dict result")
        return result

    def _authority_for(self, authority: str | AuthorityBuilder | None) -> Authority:
        return parse_authority(authority) if authority else self.authority

    async def aclose(self) -> None:
        """Close the ``httpx.AsyncClient`` this application created (not one passed in)."""
        await self._transport.aclose()

    async def __aenter__(self) -> ClientApplication:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def is_pop_supported(self) -> bool:
        """Proof-of-possession needs a broker, which is not supported: always False."""
        return False

    # -- accounts --------------------------------------------------------------------------

    async def get_accounts(self, username: str | None = None) -> list[dict[str, Any]]:
        """Accounts that signed in before (see the sync ``get_accounts``)."""
        found = await self._run(app_flows.accounts(self._ctx, self.authority, username))
        return found if isinstance(found, list) else []

    async def remove_account(self, account: Mapping[str, Any]) -> None:
        """Forget an account's tokens and entries (see the sync ``remove_account``)."""
        await self._run(app_flows.remove_account(self._ctx, self.authority, account))

    # -- authorization code ----------------------------------------------------------------

    async def initiate_auth_code_flow(
        self,
        scopes: list[str],
        redirect_uri: str | None = None,
        state: str | None = None,
        prompt: str | None = None,
        login_hint: str | None = None,
        domain_hint: str | None = None,
        claims_challenge: str | None = None,
        max_age: int | None = None,
        response_mode: str | None = None,
    ) -> dict[str, Any]:
        """Start an auth code flow with PKCE, state and nonce (see the sync method)."""
        return await self._run_dict(app_flows.initiate_auth_code_flow(
            self._ctx, self.authority, scopes, redirect_uri=redirect_uri, state=state,
            prompt=prompt, login_hint=login_hint, domain_hint=domain_hint,
            claims_challenge=claims_challenge, max_age=max_age, response_mode=response_mode,
        ))

    async def get_authorization_request_url(
        self,
        scopes: list[str],
        login_hint: str | None = None,
        state: str | None = None,
        redirect_uri: str | None = None,
        response_type: str = "code",
        prompt: str | None = None,
        nonce: str | None = None,
        domain_hint: str | None = None,
        claims_challenge: str | None = None,
        **kwargs: Any,
    ) -> str:
        """Build an authorization URL (see the sync method).

        Raises:
            ValueError: reserved scopes, or the authority's discovery failed.
        """
        params: dict[str, Any] = {
            "response_type": response_type, "redirect_uri": redirect_uri, "state": state,
            "prompt": prompt, "nonce": nonce, "login_hint": login_hint,
            "domain_hint": domain_hint,
        }
        params.update({k: v for k, v in kwargs.items() if isinstance(v, (str, int))})
        url = await self._run(app_flows.authorization_request_url(
            self._ctx, self.authority, scopes, params, claims_challenge))
        if not isinstance(url, str):
            raise ValueError(
                f"Could not build the authorization URL: {url.get('error_description')}")
        return url

    async def acquire_token_by_auth_code_flow(
        self,
        auth_code_flow: Mapping[str, Any],
        auth_response: Mapping[str, Any],
        scopes: list[str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Validate the redirect's parameters and redeem the code (see the sync method).

        Raises:
            ValueError: state mismatch (CSRF) or a malformed response.
        """
        return await self._run_dict(app_flows.by_auth_code_flow(
            self._ctx, self.authority, auth_code_flow, auth_response, scopes,
            kwargs.get("claims_challenge"),
        ))

    async def acquire_token_by_authorization_code(
        self,
        code: str,
        scopes: list[str],
        redirect_uri: str | None = None,
        nonce: str | None = None,
        claims_challenge: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Redeem an authorization code (see the sync method)."""
        return await self._run_dict(app_flows.by_authorization_code(
            self._ctx, self.authority, code, scopes, redirect_uri=redirect_uri, nonce=nonce,
            claims_challenge=claims_challenge,
        ))

    # -- silent ----------------------------------------------------------------------------

    async def acquire_token_silent(
        self,
        scopes: list[str],
        account: Mapping[str, Any] | None,
        authority: str | AuthorityBuilder | None = None,
        force_refresh: bool = False,
        claims_challenge: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """A token from the cache, refreshed if needed; None on any failure."""
        result = await self.acquire_token_silent_with_error(
            scopes, account, authority=authority, force_refresh=force_refresh,
            claims_challenge=claims_challenge, **kwargs,
        )
        return result if result and "error" not in result else None

    async def acquire_token_silent_with_error(
        self,
        scopes: list[str],
        account: Mapping[str, Any] | None,
        authority: str | AuthorityBuilder | None = None,
        force_refresh: bool = False,
        claims_challenge: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """Like :meth:`acquire_token_silent`, but a failed refresh returns its error dict.

        Concurrent tasks needing the same token share one refresh request.
        """
        state = await self._run(app_flows.silent_prepare(
            self._ctx, self._authority_for(authority), scopes, account,
            force_refresh=force_refresh, claims_challenge=claims_challenge,
        ))
        if not isinstance(state, app_flows.SilentState):
            return state
        plan = state.plan
        if plan.result is not None and (
            not plan.refresh_due or self._single_flight.busy(plan.key)
        ):
            return plan.result

        async def complete() -> dict[str, Any] | None:
            return await self._run(app_flows.silent_complete(self._ctx, state))

        return await self._single_flight.do(plan.key, complete)

    # -- other grants ----------------------------------------------------------------------

    async def acquire_token_by_refresh_token(
        self, refresh_token: str, scopes: list[str], **kwargs: Any
    ) -> dict[str, Any]:
        """Migrate a refresh token obtained elsewhere into this app's cache."""
        return await self._run_dict(app_flows.by_refresh_token(
            self._ctx, self.authority, refresh_token, scopes, kwargs.get("claims_challenge")))

    async def acquire_token_by_username_password(
        self,
        username: str,
        password: str,
        scopes: list[str],
        claims_challenge: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Resource owner password grant (see the sync method)."""
        data = kwargs.get("data")
        extra = {k: str(v) for k, v in data.items()} if isinstance(data, dict) else None
        return await self._run_dict(app_flows.by_username_password(
            self._ctx, self.authority, username, password, scopes,
            claims_challenge=claims_challenge, extra=extra,
        ))


class PublicClientApplication(ClientApplication):
    """An async application that can't keep a secret: it signs users in."""

    _sync_class = _app_public.PublicClientApplication
    DEVICE_FLOW_CORRELATION_ID = _app_public.PublicClientApplication.DEVICE_FLOW_CORRELATION_ID
    CONSOLE_WINDOW_HANDLE = _app_public.PublicClientApplication.CONSOLE_WINDOW_HANDLE

    async def acquire_token_interactive(self, scopes: list[str], **kwargs: Any) -> dict[str, Any]:
        """Sign a user in through the system browser, on the event loop
        (see ``docs/interactive.md``)."""
        from .interactive.acquire import acquire_token_interactive_async

        result: dict[str, Any] = await acquire_token_interactive_async(self, scopes, **kwargs)
        return result

    async def initiate_device_flow(
        self,
        scopes: list[str] | None = None,
        *,
        claims_challenge: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Ask for a device code; show ``flow["message"]`` to the user."""
        return await self._run_dict(app_flows.initiate_device_flow(
            self._ctx, self.authority, scopes or [], claims_challenge))

    async def acquire_token_by_device_flow(
        self,
        flow: MutableMapping[str, Any],
        claims_challenge: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Poll until the user signs in or the code expires; sleeps with ``asyncio.sleep``.

        Cancel the task, or set ``flow["expires_at"] = 0``, to stop early.

        Raises:
            ValueError: ``flow`` is not a device flow dict.
        """
        return await self._run_dict(app_flows.by_device_flow(
            self._ctx, self.authority, flow, claims_challenge))


class ConfidentialClientApplication(ClientApplication):
    """An async application with a credential (secret, certificate or assertion)."""

    _sync_class = _app_confidential.ConfidentialClientApplication

    async def acquire_token_for_client(
        self, scopes: list[str], claims_challenge: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """A token for the app itself (client credentials), from the cache when fresh."""
        flow = app_flows.for_client(self._ctx, self.authority, scopes, claims_challenge)
        if claims_challenge:
            return await self._run_dict(flow)
        key = ("client_credentials", self.client_id, " ".join(sorted(map(str, scopes or []))))

        async def request() -> dict[str, Any]:
            return await self._run_dict(flow)

        return await self._single_flight.do(key, request)

    async def remove_tokens_for_client(self) -> None:
        """Remove the app-only tokens :meth:`acquire_token_for_client` cached."""
        sync = self._sync
        assert isinstance(sync, _app_confidential.ConfidentialClientApplication)
        sync.remove_tokens_for_client()  # cache only, no I/O

    async def acquire_token_on_behalf_of(
        self,
        user_assertion: str,
        scopes: list[str],
        claims_challenge: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Exchange an incoming user token for one to call a downstream API."""
        return await self._run_dict(app_flows.obo(
            self._ctx, self.authority, user_assertion, scopes, claims_challenge))
