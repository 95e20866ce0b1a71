"""SqliteTokenCache: sharing between instances, partitions, 0600, corrupt files, concurrency."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

import entra_auth
from entra_auth.cache.encryption import generate_key
from entra_auth.cache.sqlite_cache import SqliteTokenCache
from entra_auth.errors import CacheError
from entra_auth.testing import (
    DEFAULT_TENANT_ID,
    WEB_API_ID,
    WEB_API_SECRET,
    WEB_APP_ID,
    Emulator,
)

from .test_file_cache import DEFAULT, at_event
from .test_redis_cache import ALICE, ALICE_PW, USER_READ, cca, pca

LOOKUP = {"client_id": "cid", "environments": ["login.microsoftonline.com"], "realm": "t1",
          "home_account_id": None}


def partitions(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        return dict(db.execute(
            "SELECT p.name, count(e.field) FROM partitions p "
            "LEFT JOIN entries e ON e.partition = p.name GROUP BY p.name"))


def test_app_token_shared_by_instances(emu: Emulator, cache_dir: Path) -> None:
    path = cache_dir / "tokens.db"
    first = cca(emu, SqliteTokenCache(path)).acquire_token_for_client(DEFAULT)
    assert first["token_source"] == "identity_provider"
    assert partitions(path) == {f"p:app:{{a:{WEB_APP_ID}}}:{DEFAULT_TENANT_ID}": 1,
                                f"p:meta:{{m:{WEB_APP_ID}}}": 1}
    emu.clear_log()
    again = cca(emu, SqliteTokenCache(path)).acquire_token_for_client(DEFAULT)
    assert again["token_source"] == "cache" and again["access_token"] == first["access_token"]
    assert emu.requests_to("token") == []


def test_user_tokens_refresh_and_sign_out(emu: Emulator, cache_dir: Path) -> None:
    path = cache_dir / "tokens.db"
    signed_in = pca(emu, SqliteTokenCache(path)).acquire_token_by_username_password(
        ALICE, ALICE_PW, [USER_READ])
    assert "access_token" in signed_in, signed_in
    app = pca(emu, SqliteTokenCache(path))
    [account] = app.get_accounts(username=ALICE)
    user_partition = SqliteTokenCache(path)._codec.user_key(account["home_account_id"])
    assert partitions(path)[user_partition] == 4  # AT, RT, IdToken, Account
    emu.clear_log()
    assert app.acquire_token_silent([USER_READ], account)["access_token"] == \
        signed_in["access_token"]
    assert emu.requests_to("token") == []
    refreshed = pca(emu, SqliteTokenCache(path)).acquire_token_silent(
        [USER_READ], account, force_refresh=True)
    assert refreshed["access_token"] != signed_in["access_token"]
    assert app.acquire_token_silent([USER_READ], account)["access_token"] == \
        refreshed["access_token"]  # app's in-memory copy noticed the new version
    app.remove_account(account)
    assert pca(emu, SqliteTokenCache(path)).get_accounts() == []
    assert user_partition not in partitions(path)


def test_on_behalf_of_tokens_are_partitioned_by_assertion(
        emu: Emulator, cache_dir: Path) -> None:
    path = cache_dir / "tokens.db"
    user = pca(emu, entra_auth.TokenCache()).acquire_token_by_username_password(
        ALICE, ALICE_PW, [f"api://{WEB_API_ID}/access_as_user"])
    api = cca(emu, SqliteTokenCache(path), WEB_API_ID, WEB_API_SECRET)
    first = api.acquire_token_on_behalf_of(user["access_token"], [USER_READ])
    assert first["token_source"] == "identity_provider", first
    assert len([p for p in partitions(path) if p.startswith("p:obo:")]) == 1
    other = cca(emu, SqliteTokenCache(path), WEB_API_ID, WEB_API_SECRET)
    again = other.acquire_token_on_behalf_of(user["access_token"], [USER_READ])
    assert again["token_source"] == "cache" and again["access_token"] == first["access_token"]


def test_files_are_0600_in_a_new_0700_directory(tmp_path: Path) -> None:
    path = tmp_path / "new" / "tokens.db"
    cache = SqliteTokenCache(path)  # kept open: closing the last connection removes -wal/-shm
    cache.add(at_event(1))
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    made = [p for p in path.parent.iterdir()]
    assert {p.name for p in made} >= {"tokens.db", "tokens.db-wal", "tokens.db-shm"}
    assert {stat.S_IMODE(os.stat(p).st_mode) for p in made} == {0o600}
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_threads_and_instances_writing_at_once_lose_nothing(cache_dir: Path) -> None:
    path = cache_dir / "tokens.db"

    def work(n: int) -> None:
        cache = SqliteTokenCache(path)  # an instance each, as in separate workers
        for i in range(30):
            cache.add(at_event(n * 1000 + i))

    shared = SqliteTokenCache(path)
    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    threads += [threading.Thread(target=lambda n=n: [shared.add(at_event(n * 1000 + i))
                                                     for i in range(30)]) for n in (6, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(list(SqliteTokenCache(path).search("AccessToken"))) == 240


def test_each_instance_sees_the_others_changes(cache_dir: Path) -> None:
    path = cache_dir / "tokens.db"
    a, b = SqliteTokenCache(path), SqliteTokenCache(path)
    a.add(at_event(1))
    assert b.find_access_token(scopes=["api://r1/.default"], **LOOKUP) is not None
    a.add(at_event(2))
    assert b.find_access_token(scopes=["api://r2/.default"], **LOOKUP) is not None
    b.add(at_event(3))
    assert a.find_access_token(scopes=["api://r3/.default"], **LOOKUP) is not None
    assert a.remove_app_tokens(client_id="cid") == 3
    assert b.find_access_token(scopes=["api://r1/.default"], **LOOKUP) is None
    assert list(partitions(path)) == ["p:meta:{m:cid}"]  # the app partition is gone
    # A partition deleted and created again is not mistaken for the copy b had.
    a.add(at_event(4))
    assert b.find_access_token(scopes=["api://r4/.default"], **LOOKUP) is not None


def test_expired_partitions_are_empty_and_expired_tokens_leave(cache_dir: Path) -> None:
    path = cache_dir / "tokens.db"
    cache = SqliteTokenCache(path)
    cache.add(at_event(1), now=1_000)  # its access token expired long ago: so did its partition
    assert list(cache.search("AccessToken")) == []
    cache.add(at_event(2))
    assert partitions(path)["p:app:{a:cid}:t1"] == 1  # the fresh token only
    assert [e["secret"] for e in cache.search("AccessToken")] == ["secret-2"]


def test_entries_can_be_encrypted(cache_dir: Path) -> None:
    path = cache_dir / "tokens.db"
    key = generate_key()
    writer = SqliteTokenCache(path, encryption=key)  # kept open, so the -wal file stays
    writer.add(at_event(7))
    wal = Path(str(path) + "-wal")
    raw = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert b"secret-7" not in raw
    assert [e["secret"] for e in SqliteTokenCache(path, encryption=key).search(
        "AccessToken")] == ["secret-7"]
    with pytest.raises(CacheError, match="different key"):
        list(SqliteTokenCache(path, encryption=generate_key()).search("AccessToken"))


@pytest.mark.parametrize("content", [b"not a database at all" * 100, b"SQLite format 3\x00"
                                     + b"\xff" * 200])
def test_a_corrupt_file_is_a_cache_error_and_left_untouched(
        cache_dir: Path, content: bytes) -> None:
    path = cache_dir / "tokens.db"
    path.write_bytes(content)
    with pytest.raises(CacheError) as caught:
        SqliteTokenCache(path).add(at_event(1))
    assert caught.value.error == "cache_corrupt"
    assert str(path) in str(caught.value)
    assert path.read_bytes() == content


def test_another_programs_database_is_refused(cache_dir: Path) -> None:
    path = cache_dir / "app.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (name TEXT)")
    with pytest.raises(CacheError) as caught:
        SqliteTokenCache(path)
    assert caught.value.error == "cache_corrupt"
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("users",)]


def test_a_writer_holding_the_database_too_long_is_a_timeout(cache_dir: Path) -> None:
    path = cache_dir / "tokens.db"
    cache = SqliteTokenCache(path, lock_timeout=0.2)
    cache.add(at_event(1))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(CacheError) as caught:
            cache.add(at_event(2))
        assert caught.value.error == "cache_lock_timeout"
        # readers are not blocked by the writer (WAL)
        assert cache.find_access_token(scopes=["api://r1/.default"], **LOOKUP) is not None
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    cache.add(at_event(3))
    assert len(list(cache.search("AccessToken"))) == 2


def test_exported_from_the_package(cache_dir: Path) -> None:
    assert entra_auth.SqliteTokenCache is SqliteTokenCache
    assert "encrypted=False" in repr(SqliteTokenCache(cache_dir / "t.db"))




def test_a_forked_child_opens_its_own_connection(cache_dir: Path) -> None:
    path = cache_dir / "tokens.db"
    cache = SqliteTokenCache(path)
    cache.add(at_event(1))
    parent_connection = cache._connection()
    child = os.fork()
    if child == 0:
        code = 1
        try:
            cache.add(at_event(2))  # through a new connection, not the parent's
            code = 0 if cache._connection() is not parent_connection else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert cache._connection() is parent_connection
    assert len(list(cache.search("AccessToken"))) == 2
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
