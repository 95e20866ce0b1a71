"""Encrypted caches are bound to their place: a blob copied to another file or Redis field does
not decrypt; a caller-given context makes a file portable; old unbound blobs need an opt-in;
rollback of the same file is (documented as) not detected."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

import pytest

from entra_auth.cache.encryption import MAGIC, CacheEncryption, generate_key
from entra_auth.cache.file_cache import FileTokenCache
from entra_auth.cache.redis_cache import RedisTokenCache
from entra_auth.errors import CacheError

from .test_file_cache import at_event
from .test_redis_cache import app_keys


def _secrets(cache: Any) -> list[str]:
    return sorted(e["secret"] for e in cache.search("AccessToken"))


def test_a_file_copied_to_another_path_does_not_decrypt(cache_dir: Path) -> None:
    key = generate_key()
    theirs = cache_dir / "theirs" / "cache.bin"  # another user's or app's, same keyring key
    FileTokenCache(theirs, encryption=key).add(at_event(1))
    ours = cache_dir / "ours" / "cache.bin"
    ours.parent.mkdir(mode=0o700)
    shutil.copyfile(theirs, ours)
    with pytest.raises(CacheError) as caught:
        _secrets(FileTokenCache(ours, encryption=key))
    assert caught.value.error == "cache_decryption_failed"
    assert "another file or context" in str(caught.value)
    assert ours.read_bytes() == theirs.read_bytes()  # left untouched
    assert _secrets(FileTokenCache(theirs, encryption=key)) == ["secret-1"]


def test_a_caller_given_context_binds_to_a_purpose_not_a_path(cache_dir: Path) -> None:
    key = generate_key()
    first = cache_dir / "a" / "cache.bin"
    FileTokenCache(first, encryption=CacheEncryption(key, context="my-app")).add(at_event(2))
    moved = cache_dir / "b" / "cache.bin"
    moved.parent.mkdir(mode=0o700)
    shutil.copyfile(first, moved)
    assert _secrets(FileTokenCache(moved, encryption=CacheEncryption(key, context="my-app"))
                    ) == ["secret-2"]
    with pytest.raises(CacheError, match="another file or context"):
        _secrets(FileTokenCache(moved, encryption=CacheEncryption(key, context="other-app")))
    blob = CacheEncryption(key).encrypt(b"x", context="one")
    assert CacheEncryption(key).decrypt(blob, context="one") == b"x"
    with pytest.raises(CacheError):
        CacheEncryption(key).decrypt(blob, context="two")


def _unbound_blob(key: bytes, plaintext: bytes) -> bytes:
    """A version-1 blob, as earlier releases wrote it (only the header authenticated)."""
    import hashlib

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    header = MAGIC + bytes([1]) + hashlib.sha256(key).digest()[:4]
    nonce = secrets.token_bytes(12)
    return header + nonce + AESGCM(key).encrypt(nonce, plaintext, header)


def test_unbound_blobs_are_refused_unless_migrating(cache_dir: Path) -> None:
    key = generate_key()
    source = cache_dir / "plain" / "cache.json"
    FileTokenCache(source).add(at_event(3))
    path = cache_dir / "old" / "cache.bin"
    path.parent.mkdir(mode=0o700)
    path.write_bytes(_unbound_blob(key, source.read_bytes()))
    with pytest.raises(CacheError, match="accept_unbound=True"):
        _secrets(FileTokenCache(path, encryption=key))
    migrating = FileTokenCache(path, encryption=CacheEncryption(key, accept_unbound=True))
    assert _secrets(migrating) == ["secret-3"]
    migrating.add(at_event(4))  # the next write binds the file
    assert path.read_bytes()[len(MAGIC)] == 2
    assert _secrets(FileTokenCache(path, encryption=key)) == ["secret-3", "secret-4"]


def test_rollback_of_the_same_file_is_not_detected(cache_dir: Path) -> None:
    key = generate_key()
    path = cache_dir / "cache.bin"
    FileTokenCache(path, encryption=key).add(at_event(5))
    backup = path.read_bytes()
    FileTokenCache(path, encryption=key).add(at_event(6))
    path.write_bytes(backup)  # documented limitation: an older copy of the same file decrypts
    assert _secrets(FileTokenCache(path, encryption=key)) == ["secret-5"]


def test_redis_entries_are_bound_to_their_field(redis_client: Any) -> None:
    key = generate_key()
    cache = RedisTokenCache(redis_client, encryption=key)
    cache.add(at_event(7))
    cache.add(at_event(8))
    [name] = app_keys(redis_client)
    fields = {f: v for f, v in redis_client.hgetall(name).items() if b"AccessToken" in f}
    first, second = sorted(fields)
    redis_client.hset(name, mapping={first: fields[second], second: fields[first]})
    with pytest.raises(CacheError, match="another file or context"):
        _secrets(RedisTokenCache(redis_client, encryption=key))
