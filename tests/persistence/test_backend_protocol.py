"""The cache backend protocol (docs/cache.md, "Writing a cache backend"), from a backend's side.

examples/key_value_cache.py is written only against the documented protocol: a sync backend
over a dict and an async one over an awaited store, both holding one JSON document. Sync and
``entra_auth.aio`` applications share tokens through it on the emulator, and call it with the
documented ``CallReads``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import pathlib
from types import ModuleType
from typing import Any

import pytest

import entra_auth
import entra_auth.aio
from entra_auth.cache import AsyncCacheIO, CacheIO, CallReads
from entra_auth.cache.redis_cache_async import AsyncRedisTokenCache
from entra_auth.testing import (
    DEFAULT_TENANT_ID,
    PUBLIC_CLIENT_ID,
    WEB_API_ID,
    WEB_API_SECRET,
    WEB_APP_ID,
    Emulator,
)

from .test_file_cache import DEFAULT, at_event
from .test_redis_async_auto import cca as aio_cca
from .test_redis_async_auto import public as aio_pca
from .test_redis_cache import ALICE, ALICE_PW, USER_READ, cca, pca

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "key_value_cache.py"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("key_value_cache_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kv = _example()




def test_the_example_backends_implement_the_documented_protocols() -> None:
    store: dict[str, str] = {}
    assert isinstance(kv.KeyValueTokenCache(store), CacheIO)
    assert not isinstance(kv.KeyValueTokenCache(store), AsyncCacheIO)
    assert isinstance(kv.AsyncKeyValueTokenCache(kv.AsyncStore(store)), AsyncCacheIO)
    assert not isinstance(kv.AsyncKeyValueTokenCache(kv.AsyncStore(store)), CacheIO)
    assert not isinstance(entra_auth.TokenCache(), (CacheIO, AsyncCacheIO))


def test_app_token_of_a_sync_app_is_a_hit_for_an_async_app(emu: Emulator) -> None:
    data: dict[str, str] = {}
    sync_cache = kv.KeyValueTokenCache(data)
    first = cca(emu, sync_cache).acquire_token_for_client(DEFAULT)
    assert first["token_source"] == "identity_provider", first
    assert sync_cache.reads == [CallReads(client_id=WEB_APP_ID, tenant=DEFAULT_TENANT_ID)]
    assert first["access_token"] in data["tokens"]  # flushed after the call
    emu.clear_log()
    async_cache = kv.AsyncKeyValueTokenCache(kv.AsyncStore(data))

    async def from_async_app() -> dict[str, Any]:
        async with aio_cca(emu, async_cache) as app:
            return await app.acquire_token_for_client(DEFAULT)

    again = asyncio.run(from_async_app())
    assert again["token_source"] == "cache" and again["access_token"] == first["access_token"]
    assert emu.requests_to("token") == []
    assert async_cache.reads == [CallReads(client_id=WEB_APP_ID, tenant=DEFAULT_TENANT_ID)]


def test_user_signed_in_by_a_sync_app_is_refreshed_by_an_async_app_and_back(
    emu: Emulator
) -> None:
    data: dict[str, str] = {}
    sync_cache = kv.KeyValueTokenCache(data)
    signed_in = pca(emu, sync_cache).acquire_token_by_username_password(
        ALICE, ALICE_PW, [USER_READ])
    assert "access_token" in signed_in, signed_in
    assert sync_cache.reads == [CallReads()]  # a sign-in only writes
    async_cache = kv.AsyncKeyValueTokenCache(kv.AsyncStore(data))

    async def from_async_app() -> tuple[Any, Any, Any]:
        app = aio_pca(emu, async_cache)
        async with app:
            [account] = await app.get_accounts(username=ALICE)
            emu.clear_log()
            hit = await app.acquire_token_silent([USER_READ], account)
            assert emu.requests_to("token") == []
            refreshed = await app.acquire_token_silent([USER_READ], account, force_refresh=True)
            return account, hit, refreshed

    account, hit, refreshed = asyncio.run(from_async_app())
    assert hit["access_token"] == signed_in["access_token"]
    assert refreshed["access_token"] != signed_in["access_token"]
    assert emu.requests_to("token")[-1].grant_type == "refresh_token"
    home = account["home_account_id"]
    assert async_cache.reads == [
        CallReads(all_accounts=True),
        CallReads(home_account_id=home, client_id=PUBLIC_CLIENT_ID),
        CallReads(home_account_id=home, client_id=PUBLIC_CLIENT_ID),
        CallReads(client_id=PUBLIC_CLIENT_ID, app_metadata=True),  # before the refresh
    ]
    emu.clear_log()
    back = pca(emu, kv.KeyValueTokenCache(data)).acquire_token_silent([USER_READ], account)
    assert back["access_token"] == refreshed["access_token"]  # the async app's write
    assert emu.requests_to("token") == []
    app = pca(emu, sync_cache)
    app.remove_account(account)
    assert sync_cache.reads[-1] == CallReads(
        home_account_id=home, client_id=PUBLIC_CLIENT_ID, app_metadata=True)
    assert pca(emu, kv.KeyValueTokenCache(data)).get_accounts() == []


def test_an_async_app_calls_a_sync_only_backend_too(emu: Emulator) -> None:
    cache = kv.KeyValueTokenCache({})

    async def twice() -> list[str]:
        async with aio_cca(emu, cache) as app:
            return [(await app.acquire_token_for_client(DEFAULT))["token_source"]
                    for _ in range(2)]

    assert asyncio.run(twice()) == ["identity_provider", "cache"]
    assert len(cache.reads) == 2


def test_a_sync_app_refuses_a_cache_that_loads_only_with_await(emu: Emulator) -> None:
    class _Client:
        def register_script(self, script: str) -> Any:
            return None

    for cache in (kv.AsyncKeyValueTokenCache(kv.AsyncStore({})),
                  AsyncRedisTokenCache(_Client())):
        with pytest.raises(ValueError, match=r"entra_auth\.aio"):
            cca(emu, cache)


def test_the_call_exception_wins_over_a_failed_flush(emu: Emulator) -> None:
    class _BrokenStore(dict[str, str]):
        def __setitem__(self, key: str, value: str) -> None:
            raise OSError("store down")

    cache = kv.KeyValueTokenCache(_BrokenStore())
    with pytest.raises(OSError, match="store down"):  # the call went well: the flush's error
        pca(emu, cache).acquire_token_by_username_password(ALICE, ALICE_PW, [USER_READ])
    with pytest.raises(KeyError, match="the call's own"), cache.around_call(CallReads()):
        cache.add(at_event(1))
        raise KeyError("the call's own failure")


def test_sync_and_async_applications_pass_the_same_reads(emu: Emulator) -> None:
    sync_cache = kv.KeyValueTokenCache({})
    user = pca(emu, entra_auth.TokenCache()).acquire_token_by_username_password(
        ALICE, ALICE_PW, [f"api://{WEB_API_ID}/access_as_user"])

    def sync_scenario() -> None:
        app = pca(emu, sync_cache)
        app.acquire_token_by_username_password(ALICE, ALICE_PW, [USER_READ])
        [account] = app.get_accounts()
        app.acquire_token_silent([USER_READ], account)
        app.acquire_token_silent([USER_READ], account, force_refresh=True)
        app.remove_account(account)
        api = cca(emu, sync_cache, WEB_API_ID, WEB_API_SECRET)
        api.acquire_token_for_client(DEFAULT)
        api.acquire_token_on_behalf_of(user["access_token"], [USER_READ])
        api.remove_tokens_for_client()

    async def async_scenario(cache: Any) -> None:
        async with aio_pca(emu, cache) as app:
            await app.acquire_token_by_username_password(ALICE, ALICE_PW, [USER_READ])
            [account] = await app.get_accounts()
            await app.acquire_token_silent([USER_READ], account)
            await app.acquire_token_silent([USER_READ], account, force_refresh=True)
            await app.remove_account(account)
        async with entra_auth.aio.ConfidentialClientApplication(
                WEB_API_ID, client_credential=WEB_API_SECRET, authority=emu.authority(),
                verify=emu.ca_bundle, token_cache=cache) as api:
            await api.acquire_token_for_client(DEFAULT)
            await api.acquire_token_on_behalf_of(user["access_token"], [USER_READ])
            await api.remove_tokens_for_client()

    sync_scenario()
    async_cache = kv.AsyncKeyValueTokenCache(kv.AsyncStore({}))
    asyncio.run(async_scenario(async_cache))
    assert len(sync_cache.reads) == 9  # 8 calls, and the metadata load before the refresh
    assert async_cache.reads == sync_cache.reads


@pytest.mark.parametrize("kind", ["status", "reset"])
@pytest.mark.parametrize("call", ["acquire_token_silent_with_error", "acquire_token_for_client"])
def test_a_failed_discovery_is_sent_as_often_as_with_a_plain_cache(
        emu: Emulator, call: str, kind: Any) -> None:
    """With a storage-backed cache the call discovers the authority before loading the cache;
    when that fails, its error is the call's answer after as many requests as with a plain
    cache (a 503 once; a reset GET is retried once), not a second round from the flow."""
    emu.inject_fault("openid_configuration", kind, times=None)

    def run(app: Any) -> Any:
        method = getattr(app, call)
        return method(DEFAULT, None) if call == "acquire_token_silent_with_error" else method(
            DEFAULT)

    async def run_async(cache: Any) -> dict[str, Any]:
        async with aio_cca(emu, cache) as app:
            result: dict[str, Any] = await run(app)
            return result

    answers: dict[str, dict[str, Any]] = {}
    sent: dict[str, int] = {}
    for name, call_with in (
            ("sync plain", lambda: run(cca(emu, entra_auth.TokenCache()))),
            ("sync storage", lambda: run(cca(emu, kv.KeyValueTokenCache({})))),
            ("aio plain", lambda: asyncio.run(run_async(entra_auth.TokenCache()))),
            ("aio storage", lambda: asyncio.run(run_async(
                kv.AsyncKeyValueTokenCache(kv.AsyncStore({})))))):
        emu.clear_log()
        answers[name] = call_with()
        sent[name] = len(emu.requests_to("openid_configuration"))
    assert sent == dict.fromkeys(sent, 1 if kind == "status" else 2)
    assert len({a["error"] for a in answers.values()}) == 1
