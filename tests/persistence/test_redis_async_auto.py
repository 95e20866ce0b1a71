"""AsyncRedisTokenCache with entra_auth.aio apps and no ``using()``: each method loads and flushes.

Two app instances, each with its own cache object and redis.asyncio client, stand for two hosts
sharing one redis-server; the emulator's log shows which calls reached the token endpoint.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

import entra_auth
import entra_auth.aio
from entra_auth.cache.backend import CallReads
from entra_auth.cache.redis_cache_async import AsyncRedisTokenCache
from entra_auth.errors import CacheError
from entra_auth.testing import (
    PUBLIC_CLIENT_ID,
    WEB_API_ID,
    WEB_API_SECRET,
    WEB_APP_ID,
    WEB_APP_SECRET,
    Emulator,
)
from entra_auth.testing.user_agent import enter_device_code

from .test_file_cache import DEFAULT
from .test_redis_cache import ALICE, ALICE_PW, USER_READ, pca

T = TypeVar("T")
API_SCOPE = f"api://{WEB_API_ID}/access_as_user"


def cca(emu: Emulator, cache: Any, client_id: str = WEB_APP_ID,
        secret: str = WEB_APP_SECRET) -> entra_auth.aio.ConfidentialClientApplication:
    return entra_auth.aio.ConfidentialClientApplication(
        client_id, client_credential=secret, authority=emu.authority(),
        verify=emu.ca_bundle, token_cache=cache)


def public(emu: Emulator, cache: Any) -> entra_auth.aio.PublicClientApplication:
    return entra_auth.aio.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle, token_cache=cache)


def with_hosts(redis_url: str, body: Callable[[AsyncRedisTokenCache, AsyncRedisTokenCache],
                                               Awaitable[T]]) -> T:
    """Run ``body(cache_on_host_a, cache_on_host_b)``: two caches, two clients, one Redis."""
    import redis.asyncio

    async def go() -> T:
        first = redis.asyncio.Redis.from_url(redis_url)
        second = redis.asyncio.Redis.from_url(redis_url)
        try:
            return await body(AsyncRedisTokenCache(first), AsyncRedisTokenCache(second))
        finally:
            await first.aclose()
            await second.aclose()

    return asyncio.run(go())


def test_client_credentials_token_of_one_host_is_a_hit_on_the_other(
    emu: Emulator, redis_url: str, redis_client: Any
) -> None:
    async def body(a: AsyncRedisTokenCache, b: AsyncRedisTokenCache) -> tuple[Any, Any]:
        async with cca(emu, a) as app_a, cca(emu, b) as app_b:
            first = await app_a.acquire_token_for_client(DEFAULT)
            emu.clear_log()
            second = await app_b.acquire_token_for_client(DEFAULT)
            again = await app_b.acquire_token_for_client(DEFAULT)  # unchanged partition
            return first, (second, again)

    first, (second, again) = with_hosts(redis_url, body)
    assert first["token_source"] == "identity_provider", first
    assert second["token_source"] == "cache"
    assert second["access_token"] == again["access_token"] == first["access_token"]
    assert emu.requests_to("token") == []
    assert any(":app:" in k.decode() for k in redis_client.keys("*"))


def test_remove_tokens_for_client_on_one_host_is_seen_by_the_other(
    emu: Emulator, redis_url: str
) -> None:
    async def body(a: AsyncRedisTokenCache, b: AsyncRedisTokenCache) -> Any:
        async with cca(emu, a) as app_a, cca(emu, b) as app_b:
            await app_a.acquire_token_for_client(DEFAULT)
            await app_b.acquire_token_for_client(DEFAULT)  # b holds the partition too
            await app_a.remove_tokens_for_client()
            emu.clear_log()
            return await app_b.acquire_token_for_client(DEFAULT)

    result = with_hosts(redis_url, body)
    assert result["token_source"] == "identity_provider", result
    assert len(emu.requests_to("token")) == 1


def test_on_behalf_of_token_is_a_hit_on_the_other_host(emu: Emulator, redis_url: str) -> None:
    incoming = pca(emu, entra_auth.TokenCache()).acquire_token_by_username_password(
        ALICE, ALICE_PW, [API_SCOPE])["access_token"]

    async def body(a: AsyncRedisTokenCache, b: AsyncRedisTokenCache) -> tuple[Any, Any]:
        async with cca(emu, a, WEB_API_ID, WEB_API_SECRET) as api_a, cca(
                emu, b, WEB_API_ID, WEB_API_SECRET) as api_b:
            first = await api_a.acquire_token_on_behalf_of(incoming, [USER_READ])
            emu.clear_log()
            return first, await api_b.acquire_token_on_behalf_of(incoming, [USER_READ])

    first, second = with_hosts(redis_url, body)
    assert first["token_source"] == "identity_provider", first
    assert second["token_source"] == "cache" and second["access_token"] == first["access_token"]
    assert emu.requests_to("token") == []


def test_password_sign_in_on_one_host_serves_silent_and_remove_account_on_the_other(
    emu: Emulator, redis_url: str
) -> None:
    async def body(a: AsyncRedisTokenCache, b: AsyncRedisTokenCache) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        async with public(emu, a) as app_a, public(emu, b) as app_b:
            signed_in = await app_a.acquire_token_by_username_password(
                ALICE, ALICE_PW, ["User.Read"])
            assert "access_token" in signed_in, signed_in
            emu.clear_log()
            accounts = await app_b.get_accounts()
            seen["accounts"] = [acc["username"] for acc in accounts]
            seen["by_name"] = len(await app_b.get_accounts(username=ALICE))
            silent = await app_b.acquire_token_silent(["User.Read"], accounts[0])
            seen["silent_same"] = silent is not None and (
                silent["access_token"] == signed_in["access_token"])
            seen["silent_source"] = (silent or {}).get("token_source")
            seen["token_requests"] = len(emu.requests_to("token"))
            # a refresh on b (forced) is written back for a to see
            forced = await app_b.acquire_token_silent(
                ["User.Read"], accounts[0], force_refresh=True)
            assert forced is not None and forced["token_source"] == "identity_provider"
            emu.clear_log()
            on_a = await app_a.acquire_token_silent(["User.Read"], accounts[0])
            seen["a_sees_refresh"] = on_a is not None and (
                on_a["access_token"] == forced["access_token"])
            seen["a_requests"] = len(emu.requests_to("token"))
            # b removes the account; a sees it gone
            await app_b.remove_account(accounts[0])
            seen["after_remove"] = await app_a.get_accounts()
            seen["silent_after_remove"] = await app_a.acquire_token_silent(
                ["User.Read"], accounts[0])
        return seen

    seen = with_hosts(redis_url, body)
    assert seen["accounts"] == [ALICE] and seen["by_name"] == 1
    assert seen["silent_same"] and seen["silent_source"] == "cache"
    assert seen["token_requests"] == 0
    assert seen["a_sees_refresh"] and seen["a_requests"] == 0
    assert seen["after_remove"] == [] and seen["silent_after_remove"] is None


def test_device_flow_sign_in_on_one_host_is_a_silent_hit_on_the_other(
    emu: Emulator, redis_url: str
) -> None:
    async def body(a: AsyncRedisTokenCache, b: AsyncRedisTokenCache) -> tuple[Any, Any, int]:
        async with public(emu, a) as app_a, public(emu, b) as app_b:
            flow = await app_a.initiate_device_flow(["User.Read"])
            flow["interval"] = 0.05
            poll = asyncio.create_task(app_a.acquire_token_by_device_flow(flow))
            await asyncio.to_thread(enter_device_code, flow, ALICE, ALICE_PW,
                                    verify=emu.ca_bundle or True)
            signed_in = await asyncio.wait_for(poll, 10)
            emu.clear_log()
            (account,) = await app_b.get_accounts()
            silent = await app_b.acquire_token_silent(["User.Read"], account)
            return signed_in, silent, len(emu.requests_to("token"))

    signed_in, silent, requests = with_hosts(redis_url, body)
    assert "access_token" in signed_in, signed_in
    assert silent is not None and silent["token_source"] == "cache"
    assert silent["access_token"] == signed_in["access_token"] and requests == 0


def test_concurrent_tasks_on_one_instance(emu: Emulator, redis_url: str) -> None:
    async def body(a: AsyncRedisTokenCache, b: AsyncRedisTokenCache) -> list[Any]:
        async with cca(emu, a) as app_a, cca(emu, b) as app_b:
            await app_a.acquire_token_for_client(DEFAULT)
            emu.clear_log()
            return list(await asyncio.gather(
                *(app_b.acquire_token_for_client(DEFAULT) for _ in range(20))))

    results = with_hosts(redis_url, body)
    assert {r["token_source"] for r in results} == {"cache"}
    assert emu.requests_to("token") == []


def _unreachable_client() -> Any:
    """A redis.asyncio client on a closed port, failing at once (no retries)."""
    import redis.asyncio
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return redis.asyncio.Redis(host="127.0.0.1", port=_dead_port(), socket_connect_timeout=1,
                               retry=Retry(NoBackoff(), 0))


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port  # closed again: connections are refused


def test_redis_outage_raises_cache_error_and_sends_no_token_request(emu: Emulator) -> None:
    async def go() -> list[str]:
        client = _unreachable_client()
        errors = []
        try:
            cache = AsyncRedisTokenCache(client)
            async with cca(emu, cache) as app, public(emu, cache) as user_app:
                calls: list[Callable[[], Awaitable[Any]]] = [
                    lambda: app.acquire_token_for_client(DEFAULT),
                    lambda: app.acquire_token_on_behalf_of("incoming", [USER_READ]),
                    lambda: user_app.get_accounts(),
                    lambda: user_app.acquire_token_silent(
                        ["User.Read"], {"home_account_id": "uid.utid"}),
                    lambda: user_app.acquire_token_by_username_password(
                        ALICE, ALICE_PW, ["User.Read"]),  # the token is got, not stored
                ]
                for call in calls:
                    with pytest.raises(CacheError) as caught:
                        await call()
                    errors.append(caught.value.error)
        finally:
            await client.aclose()
        return errors

    emu.clear_log()
    assert asyncio.run(go()) == ["cache_backend_error"] * 5
    assert len(emu.requests_to("token")) == 1  # only the password grant's own request


def test_a_failed_call_keeps_its_exception_when_the_flush_fails_too() -> None:
    from .test_file_cache import at_event

    async def go() -> None:
        client = _unreachable_client()
        try:
            cache = AsyncRedisTokenCache(client)
            with pytest.raises(KeyError):
                async with cache.using():  # nothing to load
                    cache.add(at_event(1))
                    raise KeyError("the call's own failure")
            with pytest.raises(CacheError):
                async with cache.using():
                    cache.add(at_event(2))
        finally:
            await client.aclose()

    asyncio.run(go())


def test_plain_token_cache_has_no_async_scope(emu: Emulator) -> None:
    app = cca(emu, entra_auth.TokenCache())
    assert app._cache_io is None
    assert cca(emu, AsyncRedisTokenCache(_FakeClient()))._cache_io is not None


class _FakeClient:
    def register_script(self, script: str) -> Any:
        return None


def test_writes_after_a_call_left_its_scope_are_sent_by_the_next_flush(
    redis_url: str, redis_client: Any
) -> None:
    # A single-flight request runs in a task holding a copy of its starter's context; if
    # the starter was cancelled, that task's writes must not be stranded in the dead scope.
    import contextvars

    import redis.asyncio

    from .test_file_cache import at_event

    async def go() -> None:
        client = redis.asyncio.Redis.from_url(redis_url)
        try:
            cache = AsyncRedisTokenCache(client)
            async with cache.around_call_async(CallReads(client_id="cid", tenant="t1")):
                starter = contextvars.copy_context()
            starter.run(cache.add, at_event(1))  # after the scope closed
            async with cache.around_call_async(CallReads()):
                pass
        finally:
            await client.aclose()

    asyncio.run(go())
    assert redis_client.hlen("entra_auth:tokencache:app:{a:cid}:t1") == 2  # the token + version


def test_silent_without_account_reads_the_app_partition_like_the_sync_cache(
    emu: Emulator, redis_url: str, redis_client: Any
) -> None:
    from entra_auth.cache.redis_cache import RedisTokenCache

    sync_app = entra_auth.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        verify=emu.ca_bundle, token_cache=RedisTokenCache(redis_client))
    sync_app.acquire_token_for_client(DEFAULT)
    sync_answer = sync_app.acquire_token_silent(DEFAULT, None)

    async def body(a: AsyncRedisTokenCache, b: AsyncRedisTokenCache) -> Any:
        async with cca(emu, b) as app_b:
            return await app_b.acquire_token_silent(DEFAULT, None)

    emu.clear_log()
    answer = with_hosts(redis_url, body)
    assert sync_answer is not None and sync_answer["token_source"] == "cache"
    assert answer is not None and answer["token_source"] == "cache"
    assert answer["access_token"] == sync_answer["access_token"]
    assert emu.requests_to("token") == []
