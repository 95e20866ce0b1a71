"""Token caches at rest: private directories (even under umask 0), directories other users
could write refused as OpenSSH refuses them, symlinks at the cache or lock path never followed."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from entra_auth.cache.file_cache import FileTokenCache
from entra_auth.errors import CacheError

NOBODY = 65534


def _event(secret: str = "at-secret") -> dict[str, Any]:
    return {
        "client_id": "cid", "scope": ["api://r/.default"],
        "token_endpoint": "https://login.microsoftonline.com/t1/oauth2/v2.0/token",
        "environment": "login.microsoftonline.com", "grant_type": "client_credentials",
        "data": {}, "response": {"access_token": secret, "expires_in": 3600,
                                 "token_type": "Bearer", "scope": "api://r/.default"},
    }


@pytest.fixture
def umask0() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_every_missing_directory_is_created_0700(tmp_path: Path, umask0: None) -> None:
    path = tmp_path / "cfg" / "tool" / "cache.json"
    FileTokenCache(path).add(_event())
    for directory in (tmp_path / "cfg", tmp_path / "cfg" / "tool"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757, 0o722], ids=oct)
def test_directories_others_can_write_are_refused(tmp_path: Path, mode: int) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(mode)
    for path in (shared / "cache.json", shared / "sub" / "cache.json"):  # the dir or above
        with pytest.raises(CacheError) as caught:
            FileTokenCache(path)
        assert caught.value.error == "cache_unsafe_directory"
        assert str(shared) in str(caught.value) and "writable" in str(caught.value)
    assert not (shared / "sub").exists()  # nothing is created below an unsafe directory
    shared.chmod(mode | stat.S_ISVTX)  # sticky, as /tmp: others can't replace our entries
    FileTokenCache(shared / "cache.json").add(_event())


@pytest.mark.skipif(os.getuid() != 0, reason="giving a directory away needs root")
def test_directories_owned_by_another_user_are_refused(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o755)
    os.chown(theirs, NOBODY, NOBODY)
    with pytest.raises(CacheError) as caught:
        FileTokenCache(theirs / "cache.json")
    assert caught.value.error == "cache_unsafe_directory"
    assert "owned by another user" in str(caught.value)
    os.chown(theirs, os.getuid(), os.getgid())
    FileTokenCache(theirs / "cache.json").add(_event())


def test_a_symlink_at_the_cache_path_is_not_followed(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    planted = tmp_path / "attacker.json"  # a cache signed in to someone else's account
    other = FileTokenCache(tmp_path / "other" / "cache.json")
    other.add(_event("attackers-token"))
    planted.write_text(Path(other.path).read_text())
    path = private / "cache.json"
    path.symlink_to(planted)
    cache = FileTokenCache(path)
    with pytest.raises(CacheError) as caught:
        list(cache.search("AccessToken"))
    assert caught.value.error == "cache_unsafe_path"
    assert "symbolic link" in str(caught.value) and "attackers-token" not in str(caught.value)


@pytest.mark.parametrize("suffix", [".lock", ".lockfile"])  # our queue, msal-extensions' lock
def test_a_symlink_at_the_lock_path_is_not_followed(tmp_path: Path, suffix: str) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    cache = FileTokenCache(private / "cache.json")
    lock_path = private / ("cache.json" + suffix)
    victim = tmp_path / "victim-file"
    lock_path.symlink_to(victim)  # O_CREAT through it would create (and lock) the target
    with pytest.raises(CacheError) as caught:
        cache.add(_event())
    assert caught.value.error in ("cache_unsafe_path", "cache_lock_failed"), caught.value
    assert not victim.exists()
    assert not (private / "cache.json").exists()
    lock_path.unlink()
    cache.add(_event())
    assert json.loads((private / "cache.json").read_text())["AccessToken"]


# --- the SQLite cache keeps the same rules -----------------------------------------------------

def test_sqlite_cache_directories_are_private_and_checked(tmp_path: Path, umask0: None) -> None:
    from entra_auth.cache.sqlite_cache import SqliteTokenCache

    path = tmp_path / "cfg" / "api" / "tokens.db"
    SqliteTokenCache(path).add(_event())
    for directory in (tmp_path / "cfg", tmp_path / "cfg" / "api"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(CacheError) as caught:
        SqliteTokenCache(shared / "tokens.db")
    assert caught.value.error == "cache_unsafe_directory"
    assert not (shared / "tokens.db").exists()


def test_sqlite_cache_refuses_a_symlink_at_its_path(tmp_path: Path) -> None:
    from entra_auth.cache.sqlite_cache import SqliteTokenCache

    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    victim = tmp_path / "victim.db"
    (private / "tokens.db").symlink_to(victim)
    with pytest.raises(CacheError) as caught:
        SqliteTokenCache(private / "tokens.db")
    assert caught.value.error == "cache_unsafe_path"
    assert not victim.exists()
