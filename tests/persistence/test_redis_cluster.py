"""RedisTokenCache and AsyncRedisTokenCache on a real three-node Redis Cluster (loopback).

Every key is hash-tagged, so each atomic script stays in one slot; accounts and a client's app
partitions are listed from index sets (no SCAN), and a node restart loses nothing.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest

import entra_auth
import entra_auth.aio
from entra_auth.cache.backend import CallReads
from entra_auth.cache.redis_cache import RedisTokenCache
from entra_auth.cache.redis_cache_async import AsyncRedisTokenCache
from entra_auth.errors import CacheError
from entra_auth.testing import Emulator

from .conftest import STRESS_APP_ID, STRESS_APP_SECRET, TENANTS, resource_uri, tenant_domain
from .test_redis_cache import ALICE, ALICE_PW, USER_READ, pca

USERS = 60
ENV = "login.microsoftonline.com"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def user_event(n: int) -> dict[str, Any]:
    """A signed-in user's token event (unsigned ID token: the cache only reads its claims)."""
    claims = {"iss": f"https://{ENV}/{TENANT}/v2.0", "oid": f"oid-{n}", "tid": TENANT,
              "sub": f"sub-{n}", "aud": "cid", "preferred_username": f"user{n}@contoso.com"}
    return {
        "client_id": "cid", "scope": ["User.Read"], "environment": ENV,
        "token_endpoint": f"https://{ENV}/{TENANT}/oauth2/v2.0/token",
        "grant_type": "authorization_code", "data": {}, "params": {},
        "response": {
            "token_type": "Bearer", "scope": "User.Read", "expires_in": 3600,
            "access_token": f"at-{n}-secret", "refresh_token": f"rt-{n}-secret",
            "id_token": f"{_b64({'alg': 'none'})}.{_b64(claims)}.c2ln",
            "client_info": _b64({"uid": f"uid-{n}", "utid": TENANT}),
        },
    }


def app(emu: Emulator, cache: Any, tenant: int) -> entra_auth.ConfidentialClientApplication:
    return entra_auth.ConfidentialClientApplication(
        STRESS_APP_ID, client_credential=STRESS_APP_SECRET, verify=emu.ca_bundle,
        authority=emu.authority(tenant_domain(tenant)), token_cache=cache)


def aio_app(emu: Emulator, cache: Any, tenant: int) -> entra_auth.aio.ConfidentialClientApplication:
    return entra_auth.aio.ConfidentialClientApplication(
        STRESS_APP_ID, client_credential=STRESS_APP_SECRET, verify=emu.ca_bundle,
        authority=emu.authority(tenant_domain(tenant)), token_cache=cache)


def scans(cluster: Any) -> int:
    """SCAN/KEYS calls on every node since the last reset."""
    import redis

    total = 0
    for port in cluster.ports:
        node = redis.Redis(host="127.0.0.1", port=port)
        stats = node.info("commandstats")
        total += sum(v["calls"] for k, v in stats.items() if k in ("cmdstat_scan", "cmdstat_keys"))
        node.close()
    return total


def reset_stats(cluster: Any) -> None:
    import redis

    for port in cluster.ports:
        node = redis.Redis(host="127.0.0.1", port=port)
        node.config_resetstat()
        node.close()


def test_app_tokens_of_eight_tenants_are_shared_across_the_cluster(
    emu: Emulator, redis_cluster: Any
) -> None:
    client = redis_cluster.client()
    scopes = [f"{resource_uri(0)}/.default"]
    first = [app(emu, RedisTokenCache(client), t).acquire_token_for_client(scopes)
             for t in range(TENANTS)]
    assert all(r.get("token_source") == "identity_provider" for r in first), first
    other = redis_cluster.client()  # another host
    emu.clear_log()
    again = [app(emu, RedisTokenCache(other), t).acquire_token_for_client(scopes)
             for t in range(TENANTS)]
    assert [r["access_token"] for r in again] == [r["access_token"] for r in first]
    assert emu.requests_to("token") == []
    # One client's partitions share its hash tag: one slot, listed by one index.
    cache = RedisTokenCache(other)
    partitions = cache._keys("app", STRESS_APP_ID)
    assert len(partitions) == TENANTS
    assert len({client.keyslot(k) for k in partitions}) == 1
    reset_stats(redis_cluster)
    app(emu, cache, 0).remove_tokens_for_client()
    assert scans(redis_cluster) == 0
    assert cache._keys("app", STRESS_APP_ID) == []
    emu.clear_log()
    fresh = app(emu, RedisTokenCache(client), 3).acquire_token_for_client(scopes)
    assert fresh["token_source"] == "identity_provider"
    client.close()
    other.close()


def test_accounts_spread_over_nodes_are_listed_without_scan(redis_cluster: Any) -> None:
    client = redis_cluster.client()
    cache = RedisTokenCache(client)
    for n in range(USERS):
        cache.add(user_event(n))
    user_keys = [cache._codec.user_key(f"uid-{n}.{TENANT}") for n in range(USERS)]
    assert {redis_cluster.node_of(k) for k in user_keys} == {0, 1, 2}  # spread over the nodes
    reset_stats(redis_cluster)
    listed = RedisTokenCache(redis_cluster.client()).find_accounts()
    assert sorted(a["username"] for a in listed) == sorted(
        f"user{n}@contoso.com" for n in range(USERS))
    assert scans(redis_cluster) == 0
    # A partition gone behind our back (expired, evicted) leaves the index on the next listing.
    client.delete(user_keys[0])
    assert len(cache.find_accounts()) == USERS - 1
    index = cache._codec.index_of(user_keys[0])
    assert index is not None and not client.sismember(index, user_keys[0])
    client.close()


def test_a_node_restart_loses_nothing_and_the_cache_keeps_working(
    emu: Emulator, redis_cluster: Any
) -> None:
    client = redis_cluster.client()
    cache = RedisTokenCache(client)
    for n in range(USERS):
        cache.add(user_event(n))
    signed_in = pca(emu, cache).acquire_token_by_username_password(ALICE, ALICE_PW, [USER_READ])
    assert "access_token" in signed_in, signed_in
    [account] = pca(emu, cache).get_accounts(username=ALICE)
    victim = redis_cluster.node_of(cache._codec.user_key(account["home_account_id"]))
    on_victim = next(n for n in range(USERS, USERS + 200) if redis_cluster.node_of(
        cache._codec.user_key(f"uid-{n}.{TENANT}")) == victim)
    redis_cluster.kill(victim)
    # While the node is down: a clear CacheError naming only the error type, nothing else.
    with pytest.raises(CacheError, match="cache_backend_error") as down:
        cache.find_accounts()
    assert "secret" not in str(down.value) and "ConnectionError" in str(down.value)
    with pytest.raises(CacheError):
        cache.add(user_event(on_victim))  # a user whose partition lives on the dead node
    redis_cluster.start_again(victim)  # the same port, data dir and nodes.conf
    # The same client object (its connection to that node died) and a fresh one both work;
    # the restarted node forgot its loaded scripts, which the cache loads again.
    for reader in (cache, RedisTokenCache(redis_cluster.client())):
        assert len(reader.find_accounts()) == USERS + 1
        emu.clear_log()
        silent = pca(emu, reader).acquire_token_silent([USER_READ], account)
        assert silent["access_token"] == signed_in["access_token"]
        assert emu.requests_to("token") == []
    refreshed = pca(emu, cache).acquire_token_silent([USER_READ], account, force_refresh=True)
    assert refreshed["access_token"] != signed_in["access_token"]
    cache.add(user_event(on_victim))  # writes land on every node again
    assert len(RedisTokenCache(redis_cluster.client()).find_accounts()) == USERS + 2
    client.close()


def test_async_cache_on_the_cluster_with_a_node_restart(
    emu: Emulator, redis_cluster: Any
) -> None:
    scopes = [f"{resource_uri(1)}/.default"]

    async def scenario() -> None:
        client = redis_cluster.async_client()
        other = redis_cluster.async_client()
        try:
            cache = AsyncRedisTokenCache(client)
            first = [await aio_app(emu, cache, t).acquire_token_for_client(scopes)
                     for t in range(TENANTS)]
            assert all(r.get("token_source") == "identity_provider" for r in first), first
            async with cache.using():
                for n in range(USERS):
                    cache.add(user_event(n))
            reader = AsyncRedisTokenCache(other)  # another host
            async with reader.around_call_async(CallReads(all_accounts=True)):
                assert len(reader.find_accounts()) == USERS
            victim = redis_cluster.node_of(cache._codec.app_key(STRESS_APP_ID, "x"))
            await asyncio.to_thread(redis_cluster.restart, victim)
            emu.clear_log()
            again = [await aio_app(emu, reader, t).acquire_token_for_client(scopes)
                     for t in range(TENANTS)]
            assert [r["access_token"] for r in again] == [r["access_token"] for r in first]
            assert emu.requests_to("token") == []
            reset_stats(redis_cluster)
            await aio_app(emu, cache, 0).remove_tokens_for_client()
            assert scans(redis_cluster) == 0
            fresh = await aio_app(emu, reader, 2).acquire_token_for_client(scopes)
            assert fresh["token_source"] == "identity_provider"
            async with reader.around_call_async(CallReads(all_accounts=True)):
                assert len(reader.find_accounts()) == USERS
        finally:
            await client.aclose()
            await other.aclose()

    asyncio.run(scenario())


def test_concurrent_requests_of_one_user_send_one_obo_request_on_the_cluster(
    emu: Emulator, redis_cluster: Any
) -> None:
    """A web API's burst of one user's requests: one OBO request (single-flight), one write."""
    from entra_auth.testing import WEB_API_ID, WEB_API_SECRET

    incoming = pca(emu, entra_auth.TokenCache()).acquire_token_by_username_password(
        ALICE, ALICE_PW, [f"api://{WEB_API_ID}/access_as_user"])["access_token"]
    emu.inject_fault("token", "delay", seconds=0.5)

    async def burst() -> list[dict[str, Any]]:
        client = redis_cluster.async_client()
        try:
            api = entra_auth.aio.ConfidentialClientApplication(
                WEB_API_ID, client_credential=WEB_API_SECRET, authority=emu.authority(),
                verify=emu.ca_bundle, token_cache=AsyncRedisTokenCache(client))
            return list(await asyncio.gather(*(
                api.acquire_token_on_behalf_of(incoming, [USER_READ]) for _ in range(16))))
        finally:
            await client.aclose()

    results = asyncio.run(burst())
    assert len({r.get("access_token") for r in results}) == 1, results
    obo = [r for r in emu.requests_to("token") if "jwt-bearer" in (r.grant_type or "")]
    assert len(obo) == 1
    # Another host finds the token in the cluster.
    emu.clear_log()
    again = entra_auth.ConfidentialClientApplication(
        WEB_API_ID, client_credential=WEB_API_SECRET, authority=emu.authority(),
        verify=emu.ca_bundle, token_cache=RedisTokenCache(redis_cluster.client()),
    ).acquire_token_on_behalf_of(incoming, [USER_READ])
    assert again["token_source"] == "cache" and again["access_token"] == results[0]["access_token"]
    assert emu.requests_to("token") == []
