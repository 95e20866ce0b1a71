"""Async client applications: MSAL's API as coroutines, over ``httpx.AsyncClient``.

Each method drives the same I/O-free flows as the sync classes (:mod:`protocol.app_flows`)
with ``run_async``: no thread offload, no blocking call on the event loop; device-code
polling sleeps with ``asyncio.sleep`` and is cancellable. A ``TokenCache`` may be shared
with sync applications. A cache that does storage I/O gets what each method reads loaded before
it runs and its writes flushed after, through the same protocol the sync classes call
(:mod:`entra_auth.cache.backend`, :meth:`ClientApplication._cached`).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from types import TracebackType
from typing import Any, TypeVar

from .._app_core import (
    AppCore,
    ConfidentialRules,
    PublicRules,
    home_account_id_of,
    reject_unknown_kwargs,
)
from ..cache.backend import WRITES_ONLY, AsyncCacheIO, CallReads, async_cache_io
from ..cache.schema import assertion_hash
from ..protocol import app_flows
from ..protocol.authority import Authority, AuthorityBuilder
from ..protocol.discovery import AuthorityMetadata, discover, known_metadata
from ..protocol.extras import Extras, build_extras
from ..protocol.messages import AppFlow
from ..transport.driver import run_async
from ..transport.httpx_transport import AsyncHttpxTransport
from ..transport.singleflight import AsyncSingleFlight

__all__ = ["ClientApplication", "ConfidentialClientApplication", "PublicClientApplication"]

T = TypeVar("T")


class ClientApplication(AppCore):
    """The base of the async :class:`PublicClientApplication` and
    :class:`ConfidentialClientApplication`.

    Takes the sync classes' constructor arguments, except that ``http_client`` is an
    ``httpx.AsyncClient`` (by default one is created from ``verify``/``proxies``/``timeout``;
    close it with :meth:`aclose` or ``async with``) and ``sleep`` an async function (default
    ``asyncio.sleep``).
    """

    def _connect(
        self, http_client: Any, verify: Any, proxies: Mapping[str, str] | None, timeout: Any
    ) -> None:
        if self._sleep is not None and not (
                inspect.iscoroutinefunction(self._sleep)
                or inspect.iscoroutinefunction(type(self._sleep).__call__)):
            raise TypeError("sleep must be an async function (async def) here, e.g. "
                            "asyncio.sleep: a blocking one would stall the event loop")
        # ValueError unless http_client is None or an httpx.AsyncClient.
        self._transport = AsyncHttpxTransport(
            http_client, verify=verify, proxies=proxies, timeout=timeout, sleep=self._sleep
        )
        self._single_flight = AsyncSingleFlight()
        self.http_client = self._transport.client
        # The cache backend protocol (entra_auth.cache.backend): None for an in-memory cache.
        self._cache_io: AsyncCacheIO | None = async_cache_io(self.token_cache)

    async def _run(self, flow: AppFlow[T]) -> T | dict[str, Any]:
        guarded = app_flows.guard(flow)
        return await run_async(guarded, self._transport, self._sleep,
                               flights=self._single_flight)

    async def _cached(
        self, call: Callable[[], Awaitable[T]], reads: CallReads = WRITES_ONLY
    ) -> T:
        """Run ``call`` between the cache's load of ``reads`` and its flush (the
        :class:`~entra_auth.cache.backend.AsyncCacheIO` protocol); a plain cache: just run it.
        """
        cache_io = self._cache_io
        if cache_io is None:
            return await call()
        async with cache_io.around_call_async(reads):
            return await call()

    async def _realm(self, authority: Authority) -> str | dict[str, Any]:
        """The cache realm of ``authority`` (its token endpoint's tenant; discovered once), or
        the error dict its discovery failed with, which the call returns as it is (the flow
        would send the failing request again)."""
        metadata = known_metadata(self._ctx, authority)
        if metadata is None:
            found = await self._run(discover(self._ctx, authority))
            if not isinstance(found, AuthorityMetadata):
                return found
            metadata = found
        return metadata.realm

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

    # -- accounts --------------------------------------------------------------------------

    async def get_accounts(self, username: str | None = None) -> list[dict[str, Any]]:
        """Accounts that signed in before (see the sync ``get_accounts``).

        With an ``AsyncRedisTokenCache`` this loads every user partition its index sets list
        (no SCAN, as with the sync ``RedisTokenCache``): its cost grows with the users.
        """
        found = await self._cached(
            lambda: self._run(app_flows.accounts(self._ctx, self.authority, username)),
            CallReads(all_accounts=True))
        return self._account_list(found)

    async def remove_account(self, account: Mapping[str, Any]) -> None:
        """Forget an account's tokens and entries (see the sync ``remove_account``)."""
        await self._cached(
            lambda: self._run(app_flows.remove_account(self._ctx, self.authority, account)),
            CallReads(home_account_id=home_account_id_of(account), client_id=self.client_id,
                      app_metadata=True))

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
        return self._result(await self._run(app_flows.initiate_auth_code_flow(
            self._ctx, self.authority, scopes, redirect_uri=redirect_uri, state=state,
            prompt=prompt, login_hint=login_hint, domain_hint=domain_hint,
            claims_challenge=claims_challenge, max_age=max_age, response_mode=response_mode,
        )))

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
        return self._url(await self._run(app_flows.authorization_request_url(
            self._ctx, self.authority, scopes, response_type=response_type,
            redirect_uri=redirect_uri, state=state, prompt=prompt, nonce=nonce,
            login_hint=login_hint, domain_hint=domain_hint, claims_challenge=claims_challenge,
            extra=kwargs,
        )))

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
        claims_challenge = kwargs.pop("claims_challenge", None)
        reject_unknown_kwargs("acquire_token_by_auth_code_flow", kwargs)
        return self._result(await self._cached(lambda: self._run(app_flows.by_auth_code_flow(
            self._ctx, self.authority, auth_code_flow, auth_response, scopes, claims_challenge,
        ))))

    async def acquire_token_by_authorization_code(
        self,
        code: str,
        scopes: list[str],
        redirect_uri: str | None = None,
        nonce: str | None = None,
        claims_challenge: str | None = None,
        forwarded_client_claims: str | None = None,
        *,
        data: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Redeem an authorization code (see the sync method)."""
        reject_unknown_kwargs("acquire_token_by_authorization_code", kwargs)
        extras = build_extras(data, forwarded_client_claims=forwarded_client_claims)
        return self._result(await self._cached(lambda: self._run(
            app_flows.by_authorization_code(
                self._ctx, self.authority, code, scopes, redirect_uri=redirect_uri, nonce=nonce,
                claims_challenge=claims_challenge, extras=extras,
            ))))

    # -- silent ----------------------------------------------------------------------------

    async def acquire_token_silent(
        self,
        scopes: list[str],
        account: Mapping[str, Any] | None,
        authority: str | AuthorityBuilder | None = None,
        force_refresh: bool = False,
        claims_challenge: str | None = None,
        forwarded_client_claims: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """A token from the cache, refreshed if needed; None on any failure."""
        result = await self.acquire_token_silent_with_error(
            scopes, account, authority=authority, force_refresh=force_refresh,
            claims_challenge=claims_challenge, forwarded_client_claims=forwarded_client_claims,
            **kwargs,
        )
        return self._without_error(result)

    async def acquire_token_silent_with_error(
        self,
        scopes: list[str],
        account: Mapping[str, Any] | None,
        authority: str | AuthorityBuilder | None = None,
        force_refresh: bool = False,
        claims_challenge: str | None = None,
        forwarded_client_claims: str | None = None,
        *,
        data: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """Like :meth:`acquire_token_silent`, but a failed refresh returns its error dict.

        Concurrent tasks needing the same token share one refresh request. Takes the sync
        method's ``forwarded_client_claims`` and ``data``; any other keyword is a TypeError.
        """
        self._refuse_auth_scheme(kwargs)
        kwargs.pop("auth_scheme", None)
        reject_unknown_kwargs("acquire_token_silent_with_error", kwargs)
        extras = build_extras(data, forwarded_client_claims=forwarded_client_claims)
        chosen = self._authority_for(authority)
        if self._cache_io is None:  # in memory: the hit costs one plain lookup
            hit = app_flows.silent_cached(
                self._ctx, chosen, scopes, account,
                force_refresh=force_refresh, claims_challenge=claims_challenge, extras=extras,
            )
            if hit is not None:
                return hit
            return await self._silent(
                chosen, scopes, account, force_refresh, claims_challenge, extras)
        home = home_account_id_of(account)
        # Discovered first (once), so that the cached-token check runs before any refresh;
        # account=None looks for the app's own token (the app partition of the realm).
        realm = await self._realm(chosen)
        if isinstance(realm, dict):
            return realm
        tenant = None if home or account is not None else realm
        return await self._cached(
            lambda: self._silent(
                chosen, scopes, account, force_refresh, claims_challenge, extras),
            CallReads(home_account_id=home, client_id=self.client_id, tenant=tenant))

    async def _silent(
        self,
        chosen: Authority,
        scopes: list[str],
        account: Mapping[str, Any] | None,
        force_refresh: bool,
        claims_challenge: str | None,
        extras: Extras,
    ) -> dict[str, Any] | None:
        hit = app_flows.silent_cached(
            self._ctx, chosen, scopes, account,
            force_refresh=force_refresh, claims_challenge=claims_challenge, extras=extras,
        )
        if hit is not None:
            return hit
        # A refresh also reads the app's metadata (its FOCI family).
        return await self._cached(lambda: self._run(app_flows.silent(
            self._ctx, chosen, scopes, account,
            force_refresh=force_refresh, claims_challenge=claims_challenge, extras=extras,
        )), CallReads(client_id=self.client_id, app_metadata=True))

    # -- other grants ----------------------------------------------------------------------

    async def acquire_token_by_refresh_token(
        self, refresh_token: str, scopes: list[str], **kwargs: Any
    ) -> dict[str, Any]:
        """Migrate a refresh token obtained elsewhere into this app's cache."""
        claims_challenge = kwargs.pop("claims_challenge", None)
        reject_unknown_kwargs("acquire_token_by_refresh_token", kwargs)
        return self._result(await self._cached(lambda: self._run(app_flows.by_refresh_token(
            self._ctx, self.authority, refresh_token, scopes, claims_challenge))))

    async def acquire_token_by_username_password(
        self,
        username: str,
        password: str,
        scopes: list[str],
        claims_challenge: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Resource owner password grant (see the sync method)."""
        self._refuse_auth_scheme(kwargs)
        kwargs.pop("auth_scheme", None)
        data = kwargs.pop("data", None)
        reject_unknown_kwargs("acquire_token_by_username_password", kwargs)
        return self._result(await self._cached(lambda: self._run(
            app_flows.by_username_password(
                self._ctx, self.authority, username, password, scopes,
                claims_challenge=claims_challenge, data=data,
            ))))


_INTERACTIVE_KWARGS = frozenset({
    "prompt", "login_hint", "domain_hint", "claims_challenge", "timeout", "port",
    "extra_scopes_to_consent", "max_age", "parent_window_handle", "on_before_launching_ui",
    "response_mode",
})


class PublicClientApplication(PublicRules, ClientApplication):
    """An async application that can't keep a secret: it signs users in."""

    async def acquire_token_interactive(self, scopes: list[str], **kwargs: Any) -> dict[str, Any]:
        """Sign a user in through the system browser, on the event loop
        (see ``docs/interactive.md``). Takes the sync method's keywords; any other is a
        ``TypeError`` (checked before the browser opens)."""
        from ..interactive.acquire import acquire_token_interactive_async

        self._refuse_auth_scheme(kwargs)
        kwargs.pop("auth_scheme", None)
        reject_unknown_kwargs("acquire_token_interactive",
                              {k: v for k, v in kwargs.items() if k not in _INTERACTIVE_KWARGS})
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
        reject_unknown_kwargs("initiate_device_flow", kwargs)
        return self._result(await self._run(app_flows.initiate_device_flow(
            self._ctx, self.authority, scopes or [], claims_challenge)))

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
        reject_unknown_kwargs("acquire_token_by_device_flow", kwargs)
        return self._result(await self._cached(lambda: self._run(app_flows.by_device_flow(
            self._ctx, self.authority, flow, claims_challenge))))


class ConfidentialClientApplication(ConfidentialRules, ClientApplication):
    """An async application with a credential (secret, certificate or assertion)."""

    async def acquire_token_for_client(
        self,
        scopes: list[str],
        claims_challenge: str | None = None,
        fmi_path: str | None = None,
        forwarded_client_claims: str | None = None,
        *,
        data: Mapping[str, str] | None = None,
        force_refresh: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """A token for the app itself (client credentials), from the cache when fresh.

        Takes the sync method's arguments (``fmi_path``, ``forwarded_client_claims``,
        ``data``, and ``force_refresh``, an entra_auth extension that bypasses the cached
        access token); any other keyword is a ``TypeError``.
        """
        reject_unknown_kwargs("acquire_token_for_client", kwargs)
        extras = build_extras(data, fmi_path=fmi_path,
                              forwarded_client_claims=forwarded_client_claims)
        if self._cache_io is None:  # in memory: the hit costs one plain lookup
            hit = app_flows.for_client_cached(
                self._ctx, self.authority, scopes, claims_challenge, extras=extras,
                force_refresh=force_refresh)
            if hit is not None:
                return hit
            return await self._for_client(scopes, claims_challenge, extras, force_refresh)
        tenant = await self._realm(self.authority)
        if isinstance(tenant, dict):
            return tenant
        return await self._cached(
            lambda: self._for_client(scopes, claims_challenge, extras, force_refresh),
            CallReads(client_id=self.client_id, tenant=tenant))

    async def _for_client(
        self, scopes: list[str], claims_challenge: str | None, extras: Extras,
        force_refresh: bool = False,
    ) -> dict[str, Any]:
        hit = app_flows.for_client_cached(
            self._ctx, self.authority, scopes, claims_challenge, extras=extras,
            force_refresh=force_refresh)
        if hit is not None:
            return hit
        self._warn_if_multi_tenant()
        return self._result(await self._run(app_flows.for_client(
            self._ctx, self.authority, scopes, claims_challenge, extras=extras,
            force_refresh=force_refresh)))

    async def remove_tokens_for_client(self) -> None:
        """Remove the app-only tokens :meth:`acquire_token_for_client` cached.

        With an ``AsyncRedisTokenCache`` this reads the client's app partition index (no SCAN).
        """
        async def remove() -> None:
            self._remove_app_tokens()  # the cache only, no network

        await self._cached(remove, CallReads(all_app_tokens_of=self.client_id))

    async def acquire_token_on_behalf_of(
        self,
        user_assertion: str,
        scopes: list[str],
        claims_challenge: str | None = None,
        forwarded_client_claims: str | None = None,
        *,
        data: Mapping[str, str] | None = None,
        force_refresh: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Exchange an incoming user token for one to call a downstream API (see the sync one).

        ``force_refresh`` (an entra_auth extension) bypasses the cached access token.
        """
        reject_unknown_kwargs("acquire_token_on_behalf_of", kwargs)
        extras = build_extras(data, forwarded_client_claims=forwarded_client_claims)
        reads = WRITES_ONLY if self._cache_io is None else CallReads(
            user_assertion_hash=assertion_hash(user_assertion))
        return self._result(await self._cached(
            lambda: self._run(app_flows.obo(
                self._ctx, self.authority, user_assertion, scopes, claims_challenge,
                extras=extras, force_refresh=force_refresh)),
            reads))

    async def acquire_token_by_user_federated_identity_credential(
        self,
        scopes: list[str],
        assertion: str,
        username: str | None = None,
        user_object_id: str | None = None,
        claims_challenge: str | None = None,
        forwarded_client_claims: str | None = None,
        *,
        data: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """A user's token for an agent, for its federated identity credential (see the sync
        method)."""
        reject_unknown_kwargs("acquire_token_by_user_federated_identity_credential", kwargs)
        extras = build_extras(data, forwarded_client_claims=forwarded_client_claims)
        return self._result(await self._cached(lambda: self._run(app_flows.by_user_fic(
            self._ctx, self.authority, scopes, assertion, username=username,
            user_object_id=user_object_id, claims_challenge=claims_challenge,
            extras=extras))))
