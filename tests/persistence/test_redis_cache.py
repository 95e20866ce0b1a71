"""RedisTokenCache against a real redis-server: sharing, partitions, TTLs, concurrent writers."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest

import entra_auth
from entra_auth.cache.encryption import generate_key
from entra_auth.cache.redis_cache import RedisTokenCache
from entra_auth.errors import CacheError
from entra_auth.testing import (
    DEFAULT_TENANT_ID,
    GRAPH_RESOURCE,
    PUBLIC_CLIENT_ID,
    WEB_API_ID,
    WEB_API_SECRET,
    WEB_APP_ID,
    WEB_APP_SECRET,
    Emulator,
)

from .test_file_cache import DEFAULT, at_event

ALICE, ALICE_PW = "alice@contoso.onmicrosoft.com", "alice-password"
USER_READ = f"{GRAPH_RESOURCE}/User.Read"


def cca(emu: Emulator, cache: Any, client_id: str = WEB_APP_ID,
        secret: str = WEB_APP_SECRET) -> Any:
    return entra_auth.ConfidentialClientApplication(
        client_id, client_credential=secret, authority=emu.authority(),
        verify=emu.ca_bundle, token_cache=cache)


def pca(emu: Emulator, cache: Any) -> Any:
    return entra_auth.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle, token_cache=cache)


def keys(client: Any) -> set[str]:
    return {k.decode() for k in client.keys("*")}


def app_keys(client: Any) -> list[str]:
    return [k for k in keys(client) if ":app:" in k]


def calls(client: Any) -> dict[str, int]:
    stats = client.info("commandstats")
    return {name[len("cmdstat_"):]: value["calls"] for name, value in stats.items()}


def test_app_token_shared_by_instances_from_one_small_key(
    emu: Emulator, redis_client: Any
) -> None:
    first = cca(emu, RedisTokenCache(redis_client)).acquire_token_for_client(DEFAULT)
    assert first["token_source"] == "identity_provider"
    # Hash-tagged (Redis Cluster): the app partition shares its tag with the client's index.
    app_key = f"entra_auth:tokencache:app:{{a:{WEB_APP_ID}}}:{DEFAULT_TENANT_ID}"
    index = f"entra_auth:tokencache:apps:{{a:{WEB_APP_ID}}}"
    assert keys(redis_client) == {app_key, index, f"entra_auth:tokencache:meta:{{m:{WEB_APP_ID}}}"}
    assert redis_client.smembers(index) == {app_key.encode()}
    assert 3500 <= redis_client.ttl(app_key) <= 3600  # the access token's lifetime
    emu.clear_log()
    other_instance = cca(emu, RedisTokenCache(redis_client))
    redis_client.config_resetstat()
    again = other_instance.acquire_token_for_client(DEFAULT)
    assert again["token_source"] == "cache" and again["access_token"] == first["access_token"]
    assert emu.requests_to("token") == []
    used = calls(redis_client)
    assert used.get("evalsha", 0) + used.get("eval", 0) == 1  # one round trip ...
    assert used.get("hgetall") == 1 and not {"keys", "scan"} & set(used)  # ... to one key


def test_user_tokens_live_in_the_users_partition(emu: Emulator, redis_client: Any) -> None:
    signed_in = pca(emu, RedisTokenCache(redis_client)).acquire_token_by_username_password(
        ALICE, ALICE_PW, [USER_READ])
    assert "access_token" in signed_in, signed_in
    app = pca(emu, RedisTokenCache(redis_client))  # another instance
    [account] = app.get_accounts(username=ALICE)
    home = account["home_account_id"]
    [user_key] = [k for k in keys(redis_client) if ":user:" in k]
    assert re.fullmatch(r"entra_auth:tokencache:user:\{u[0-9a-f]{2}\}:" + re.escape(home), user_key)
    index = "entra_auth:tokencache:users:" + user_key.split(":")[3]  # the same hash tag
    assert keys(redis_client) == {user_key, index,
                                  f"entra_auth:tokencache:meta:{{m:{PUBLIC_CLIENT_ID}}}"}
    assert redis_client.smembers(index) == {user_key.encode()}
    fields = {f.decode().split(":")[0] for f in redis_client.hkeys(user_key)}
    assert fields == {"AccessToken", "RefreshToken", "IdToken", "Account", "__v"}
    assert redis_client.ttl(user_key) > 80 * 24 * 3600  # the refresh token's life
    emu.clear_log()
    redis_client.config_resetstat()
    silent = app.acquire_token_silent([USER_READ], account)
    assert silent["access_token"] == signed_in["access_token"]
    assert emu.requests_to("token") == []
    used = calls(redis_client)
    # the user's key only (token, then account check), and no payload: it had not changed
    assert used.get("evalsha", 0) <= 2 and not {"scan", "keys", "hgetall"} & set(used)
    # the refresh token is shared too: a forced refresh on a third instance redeems it
    refreshed = pca(emu, RedisTokenCache(redis_client)).acquire_token_silent(
        [USER_READ], account, force_refresh=True)
    assert refreshed["access_token"] != signed_in["access_token"]
    assert emu.requests_to("token")[-1].grant_type == "refresh_token"
    assert pca(emu, RedisTokenCache(redis_client)).acquire_token_silent(
        [USER_READ], account)["access_token"] == refreshed["access_token"]
    app.remove_account(account)
    assert pca(emu, RedisTokenCache(redis_client)).get_accounts() == []
    assert not redis_client.exists(user_key) and not redis_client.exists(index)


def test_on_behalf_of_tokens_are_partitioned_by_assertion(
    emu: Emulator, redis_client: Any
) -> None:
    user = pca(emu, entra_auth.TokenCache()).acquire_token_by_username_password(
        ALICE, ALICE_PW, [f"api://{WEB_API_ID}/access_as_user"])
    api = cca(emu, RedisTokenCache(redis_client), WEB_API_ID, WEB_API_SECRET)
    first = api.acquire_token_on_behalf_of(user["access_token"], [USER_READ])
    assert first["token_source"] == "identity_provider", first
    obo_keys = {k for k in keys(redis_client) if ":obo:" in k}
    assert len(obo_keys) == 1
    fields = {f.decode().split(":")[0] for f in redis_client.hkeys(obo_keys.pop())}
    assert {"AccessToken", "RefreshToken"} <= fields
    emu.clear_log()
    other_instance = cca(emu, RedisTokenCache(redis_client), WEB_API_ID, WEB_API_SECRET)
    again = other_instance.acquire_token_on_behalf_of(user["access_token"], [USER_READ])
    assert again["token_source"] == "cache" and again["access_token"] == first["access_token"]
    assert emu.requests_to("token") == []


def test_concurrent_writers_to_one_partition_lose_nothing(redis_client: Any) -> None:
    def work(n: int) -> None:
        cache = RedisTokenCache(redis_client)  # an instance each, as on separate hosts
        for i in range(40):
            cache.add(at_event(n * 1000 + i))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    [key] = app_keys(redis_client)
    assert redis_client.hlen(key) == 8 * 40 + 1  # + the version field
    found = list(RedisTokenCache(redis_client).search(
        "AccessToken", query={"client_id": "cid", "realm": "t1", "home_account_id": None}))
    assert len(found) == 320


def test_mirror_sees_other_instances_changes(redis_client: Any) -> None:
    a, b = RedisTokenCache(redis_client), RedisTokenCache(redis_client)
    lookup = {"client_id": "cid", "environments": ["login.microsoftonline.com"],
              "realm": "t1", "home_account_id": None}
    a.add(at_event(1))
    assert b.find_access_token(scopes=["api://r1/.default"], **lookup) is not None
    a.add(at_event(2))  # b's copy of the partition is now stale
    assert b.find_access_token(scopes=["api://r2/.default"], **lookup) is not None
    b.add(at_event(3))
    assert a.find_access_token(scopes=["api://r3/.default"], **lookup) is not None
    assert a.remove_app_tokens(client_id="cid") == 3
    assert b.find_access_token(scopes=["api://r1/.default"], **lookup) is None
    assert app_keys(redis_client) == []


def test_expired_tokens_leave_with_the_next_write(redis_client: Any) -> None:
    cache = RedisTokenCache(redis_client)
    cache.add(at_event(1), now=1_000)  # expired long ago
    cache.find_access_token(client_id="cid", environments=["login.microsoftonline.com"],
                            realm="t1", scopes=["x"], home_account_id=None)
    cache.add(at_event(2))
    [key] = app_keys(redis_client)
    assert redis_client.hlen(key) == 2  # the fresh token and the version


def test_entries_can_be_encrypted(redis_client: Any) -> None:
    key = generate_key()
    RedisTokenCache(redis_client, encryption=key).add(at_event(7))
    [name] = app_keys(redis_client)
    raw = b"".join(redis_client.hvals(name))
    assert b"secret-7" not in raw and b"AccessToken" not in raw
    found = list(RedisTokenCache(redis_client, encryption=key).search("AccessToken"))
    assert [e["secret"] for e in found] == ["secret-7"]
    with pytest.raises(CacheError, match="different key"):
        list(RedisTokenCache(redis_client, encryption=generate_key()).search("AccessToken"))


def test_redis_down_is_a_cache_error() -> None:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5,
                       retry=Retry(NoBackoff(), 0))
    with pytest.raises(CacheError) as caught:
        RedisTokenCache(dead).add(at_event(1))
    assert caught.value.error == "cache_backend_error"


def test_a_prefix_with_braces_is_refused(redis_client: Any) -> None:
    with pytest.raises(ValueError, match="must not contain"):
        RedisTokenCache(redis_client, prefix="app:{tag}")
