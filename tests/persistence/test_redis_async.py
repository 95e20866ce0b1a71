"""AsyncRedisTokenCache with entra_auth.aio apps, on redis.asyncio and a real redis-server."""

from __future__ import annotations

import asyncio
from typing import Any

import entra_auth
import entra_auth.aio
from entra_auth.cache.redis_cache import RedisTokenCache
from entra_auth.cache.redis_cache_async import AsyncRedisTokenCache
from entra_auth.testing import (
    DEFAULT_TENANT_ID,
    WEB_API_ID,
    WEB_API_SECRET,
    WEB_APP_ID,
    WEB_APP_SECRET,
    Emulator,
)

from .test_file_cache import DEFAULT, at_event
from .test_redis_cache import ALICE, ALICE_PW, USER_READ, pca


def aio_cca(emu: Emulator, cache: Any, client_id: str = WEB_APP_ID,
            secret: str = WEB_APP_SECRET) -> Any:
    return entra_auth.aio.ConfidentialClientApplication(
        client_id, client_credential=secret, authority=emu.authority(),
        verify=emu.ca_bundle, token_cache=cache)


def test_async_instances_share_app_tokens(emu: Emulator, redis_url: str,
                                          redis_client: Any) -> None:
    import redis.asyncio

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        client = redis.asyncio.Redis.from_url(redis_url)
        try:
            first_cache = AsyncRedisTokenCache(client)
            async with aio_cca(emu, first_cache) as app, first_cache.using(
                    client_id=WEB_APP_ID, tenant=DEFAULT_TENANT_ID):
                first = await app.acquire_token_for_client(DEFAULT)
            emu.clear_log()
            second_cache = AsyncRedisTokenCache(client)  # another instance
            async with aio_cca(emu, second_cache) as app, second_cache.using(
                    client_id=WEB_APP_ID, tenant=DEFAULT_TENANT_ID):
                second = await app.acquire_token_for_client(DEFAULT)
            return first, second
        finally:
            await client.aclose()

    first, second = asyncio.run(scenario())
    assert first["token_source"] == "identity_provider"
    assert second["token_source"] == "cache" and second["access_token"] == first["access_token"]
    assert emu.requests_to("token") == []
    # the same keys as the sync cache: a sync instance sees the token too
    sync = RedisTokenCache(redis_client)
    assert sync.find_access_token(
        client_id=WEB_APP_ID, environments=["127.0.0.1"], realm=DEFAULT_TENANT_ID,
        scopes=DEFAULT, home_account_id=None)["secret"] == first["access_token"]


def test_async_on_behalf_of_and_user_partitions(emu: Emulator, redis_url: str,
                                                redis_client: Any) -> None:
    import redis.asyncio

    user = pca(emu, entra_auth.TokenCache()).acquire_token_by_username_password(
        ALICE, ALICE_PW, [f"api://{WEB_API_ID}/access_as_user"])
    incoming = user["access_token"]

    async def obo(cache: AsyncRedisTokenCache) -> dict[str, Any]:
        async with aio_cca(emu, cache, WEB_API_ID, WEB_API_SECRET) as api, cache.using(
                user_assertion=incoming):
            result: dict[str, Any] = await api.acquire_token_on_behalf_of(incoming, [USER_READ])
            return result

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        client = redis.asyncio.Redis.from_url(redis_url)
        try:
            return (await obo(AsyncRedisTokenCache(client)),
                    await obo(AsyncRedisTokenCache(client)))
        finally:
            await client.aclose()

    first, second = asyncio.run(scenario())
    assert first["token_source"] == "identity_provider", first
    assert second["token_source"] == "cache" and second["access_token"] == first["access_token"]
    assert any(":obo:" in k.decode() for k in redis_client.keys("*"))


def test_unloaded_partition_reads_empty_and_flush_sends_writes(
    redis_url: str, redis_client: Any
) -> None:
    import redis.asyncio

    RedisTokenCache(redis_client).add(at_event(1))
    lookup = {"client_id": "cid", "environments": ["login.microsoftonline.com"],
              "realm": "t1", "home_account_id": None, "scopes": ["api://r1/.default"]}

    async def scenario() -> tuple[Any, Any, int]:
        client = redis.asyncio.Redis.from_url(redis_url)
        try:
            cache = AsyncRedisTokenCache(client)
            before = cache.find_access_token(**lookup)  # not loaded: a miss, no I/O
            await cache.load(client_id="cid", tenant="t1")
            after = cache.find_access_token(**lookup)
            cache.add(at_event(2))
            unsent = redis_client.hlen("entra_auth:tokencache:app:{a:cid}:t1")
            await cache.flush()
            return before, after, unsent
        finally:
            await client.aclose()

    before, after, unsent = asyncio.run(scenario())
    assert before is None and after["secret"] == "secret-1"
    assert unsent == 2  # one token + version: the write waited for flush()
    assert redis_client.hlen("entra_auth:tokencache:app:{a:cid}:t1") == 3
