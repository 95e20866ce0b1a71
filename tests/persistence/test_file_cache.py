"""FileTokenCache: persistence across instances, 0600, stat-only hot path, locking, atomicity."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from msal_extensions.token_cache import CrossPlatLock  # type: ignore[import-untyped]

import entra_auth
from entra_auth.cache.file_cache import FileTokenCache
from entra_auth.cache.file_lock import FileLock
from entra_auth.errors import CacheError
from entra_auth.testing import GRAPH_RESOURCE, WEB_APP_ID, WEB_APP_SECRET, Emulator

DEFAULT = [f"{GRAPH_RESOURCE}/.default"]


def cca(emu: Emulator, cache: Any) -> Any:
    return entra_auth.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        verify=emu.ca_bundle, token_cache=cache)


def at_event(i: int, realm: str = "t1") -> dict[str, Any]:
    return {
        "client_id": "cid", "scope": [f"api://r{i}/.default"],
        "token_endpoint": f"https://login.microsoftonline.com/{realm}/oauth2/v2.0/token",
        "environment": "login.microsoftonline.com", "grant_type": "client_credentials",
        "data": {}, "response": {"access_token": f"secret-{i}", "expires_in": 3600,
                                 "token_type": "Bearer", "scope": f"api://r{i}/.default"},
    }


def count_tokens(path: Path) -> int:
    return len(list(FileTokenCache(path).search("AccessToken")))


def test_survives_restart_and_hits_without_network(emu: Emulator, cache_dir: Path) -> None:
    path = cache_dir / "tokens.json"
    first = cca(emu, FileTokenCache(path)).acquire_token_for_client(DEFAULT)
    assert first["token_source"] == "identity_provider"
    emu.clear_log()
    again = cca(emu, FileTokenCache(path)).acquire_token_for_client(DEFAULT)  # a "new process"
    assert again["token_source"] == "cache"
    assert again["access_token"] == first["access_token"]
    assert emu.requests_to("token") == []


def test_file_is_created_0600_in_a_new_0700_directory(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "cache.json"
    cache = FileTokenCache(path)
    cache.add(at_event(1))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_rewrite_tightens_a_world_readable_file(cache_dir: Path) -> None:
    path = cache_dir / "msal_token_cache.json"
    path.write_text("{}")
    os.chmod(path, 0o644)
    FileTokenCache(path).add(at_event(1))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


class CountingCache(FileTokenCache):
    loads = 0

    def deserialize(self, state: str | bytes | bytearray | None) -> None:
        self.loads += 1
        super().deserialize(state)


def test_reads_parse_only_when_the_file_changed(cache_dir: Path) -> None:
    path = cache_dir / "c.json"
    writer = FileTokenCache(path)
    writer.add(at_event(1))
    reader = CountingCache(path)
    lookup = {"client_id": "cid", "environments": ["login.microsoftonline.com"],
              "realm": "t1", "scopes": ["api://r1/.default"], "home_account_id": None}
    assert reader.find_access_token(**lookup) is not None
    for _ in range(50):
        assert reader.find_access_token(**lookup) is not None
    assert reader.loads == 1  # a stat per read, no parse
    writer.add(at_event(2))
    assert reader.find_access_token(**{**lookup, "scopes": ["api://r2/.default"]}) is not None
    assert reader.loads == 2


def test_two_instances_never_drop_each_others_entries(cache_dir: Path) -> None:
    path = cache_dir / "c.json"
    a, b = FileTokenCache(path), FileTokenCache(path)
    for i in range(10):
        (a if i % 2 else b).add(at_event(i))
    assert count_tokens(path) == 10
    assert len(a._store.section("AccessToken")) == 10  # a re-loaded before its last write


def test_threads_sharing_one_instance_lose_nothing(cache_dir: Path) -> None:
    path = cache_dir / "c.json"
    caches = [FileTokenCache(path), FileTokenCache(path)]

    def work(n: int) -> None:
        for i in range(20):
            caches[n % 2].add(at_event(n * 100 + i))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert count_tokens(path) == 160


def test_lock_timeout_raises_cache_error_and_writes_nothing(cache_dir: Path) -> None:
    path = cache_dir / "c.json"
    cache = FileTokenCache(path, lock_timeout=0.3)
    cache.add(at_event(1))
    before = path.read_bytes()
    with CrossPlatLock(str(path) + ".lockfile"):  # msal-extensions holds the cache
        start = time.monotonic()
        with pytest.raises(CacheError) as caught:
            cache.add(at_event(2))
        waited = time.monotonic() - start
    assert caught.value.error == "cache_lock_timeout"
    assert str(path) in str(caught.value)
    assert 0.25 <= waited < 3
    assert path.read_bytes() == before
    cache.add(at_event(3))  # the lock is free again
    assert count_tokens(path) == 2


def test_corrupt_file_raises_and_is_left_untouched(cache_dir: Path) -> None:
    path = cache_dir / "c.json"
    path.write_text('{"AccessToken": [1, 2')
    cache = FileTokenCache(path)
    with pytest.raises(CacheError) as caught:
        cache.add(at_event(1))
    assert caught.value.error == "cache_corrupt"
    with pytest.raises(CacheError):
        cache.find_accounts()
    assert path.read_text() == '{"AccessToken": [1, 2'


def test_empty_or_deleted_file_is_an_empty_cache(cache_dir: Path) -> None:
    path = cache_dir / "c.json"
    path.write_bytes(b"")
    cache = FileTokenCache(path)
    assert cache.find_accounts() == []
    cache.add(at_event(1))
    assert count_tokens(path) == 1
    path.unlink()  # e.g. a sign-out that deleted the file
    assert list(cache.search("AccessToken")) == []


def test_stale_temp_files_of_a_dead_writer_are_removed(cache_dir: Path) -> None:
    path = cache_dir / "c.json"
    stale = cache_dir / ".c.json.99999.deadbeef.tmp"
    stale.write_text("half a write")
    FileTokenCache(path).add(at_event(1))
    assert not stale.exists()
    assert count_tokens(path) == 1


def test_lock_rejects_negative_timeout(cache_dir: Path) -> None:
    with pytest.raises(ValueError):
        FileLock(str(cache_dir / "x.lock"), timeout=-1)
