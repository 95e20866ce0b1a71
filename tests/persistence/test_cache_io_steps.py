"""The sync caches do their reads in the protocol's load step (``around_call``), not in lookups.

Inside an application call, lookups are served from what the load read: a change another
instance makes mid-call is seen by the next call, and the sync Redis cache sends no command
for the call's lookups. Outside a call, every lookup still reads storage, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from entra_auth.cache import CallReads
from entra_auth.cache.file_cache import FileTokenCache
from entra_auth.cache.redis_cache import RedisTokenCache
from entra_auth.cache.sqlite_cache import SqliteTokenCache

from .test_file_cache import at_event
from .test_redis_cache import calls

APP_READS = CallReads(client_id="cid", tenant="t1")  # the partition at_event's tokens live in


def app_token(cache: Any, i: int) -> Any:
    return cache.find_access_token(
        client_id="cid", environments=["login.microsoftonline.com"], realm="t1",
        scopes=[f"api://r{i}/.default"], home_account_id=None)


def _file(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[], Any]:
    return lambda: FileTokenCache(tmp_path / "tokens.json")


def _sqlite(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[], Any]:
    return lambda: SqliteTokenCache(tmp_path / "tokens.db")


def _redis(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[], Any]:
    client = request.getfixturevalue("redis_client")
    return lambda: RedisTokenCache(client)


@pytest.mark.parametrize("make", [_file, _sqlite, _redis], ids=["file", "sqlite", "redis"])
def test_lookups_in_a_call_read_what_its_load_read(
    make: Callable[[Path, pytest.FixtureRequest], Callable[[], Any]], tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    new_cache = make(tmp_path, request)
    writer, reader = new_cache(), new_cache()
    writer.add(at_event(1))
    with reader.around_call(APP_READS):
        assert app_token(reader, 1)["secret"] == "secret-1"
        writer.add(at_event(2))  # another instance, mid-call
        assert app_token(reader, 2) is None  # not read again until the next call
        assert app_token(reader, 1)["secret"] == "secret-1"
    with reader.around_call(APP_READS):
        assert app_token(reader, 2)["secret"] == "secret-2"
    writer.add(at_event(3))
    assert app_token(reader, 3)["secret"] == "secret-3"  # outside a call: read at once


def test_a_call_sees_its_own_writes(tmp_path: Path, redis_client: Any) -> None:
    for cache in (FileTokenCache(tmp_path / "t.json"), SqliteTokenCache(tmp_path / "t.db"),
                  RedisTokenCache(redis_client)):
        with cache.around_call(APP_READS):
            assert app_token(cache, 1) is None
            cache.add(at_event(1))
            assert app_token(cache, 1)["secret"] == "secret-1", cache


def test_sync_redis_lookups_in_a_call_send_no_command(redis_client: Any) -> None:
    RedisTokenCache(redis_client).add(at_event(1))
    home = "uid.utid"
    reader = RedisTokenCache(redis_client)
    reads = CallReads(home_account_id=home, client_id="cid", tenant="t1", app_metadata=True)
    redis_client.config_resetstat()
    with reader.around_call(reads):
        loaded = calls(redis_client)
        for _ in range(3):
            assert app_token(reader, 1)["secret"] == "secret-1"
            assert reader.get_app_metadata(client_id="cid",
                                           environments=["login.microsoftonline.com"])
            assert reader.find_refresh_tokens(home_account_id=home,
                                              environments=["login.microsoftonline.com"]) == []
        after = calls(redis_client)
    # the load: three partitions (user, app, metadata) in one pipelined round trip
    assert loaded.get("evalsha", 0) + loaded.get("eval", 0) == 3
    reads_of = ("evalsha", "eval", "hget", "hgetall", "scan", "keys")
    assert {name: after.get(name) for name in reads_of} == {
        name: loaded.get(name) for name in reads_of}
