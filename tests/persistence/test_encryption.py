"""Encryption at rest: AES-GCM files, key sources, clear errors, never plaintext on disk."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from entra_auth.cache.encryption import (
    MAGIC,
    CacheEncryption,
    encode_key,
    generate_key,
)
from entra_auth.cache.file_cache import FileTokenCache
from entra_auth.errors import CacheError
from entra_auth.testing import Emulator

from .test_file_cache import DEFAULT, at_event, cca


def all_bytes_on_disk(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


def test_encrypted_cache_round_trips_and_never_writes_plaintext(
    emu: Emulator, cache_dir: Path
) -> None:
    key = generate_key()
    path = cache_dir / "c.bin"
    first = cca(emu, FileTokenCache(path, encryption=key)).acquire_token_for_client(DEFAULT)
    assert first["token_source"] == "identity_provider"
    cache = FileTokenCache(path, encryption=CacheEncryption(key))
    for i in range(5):
        cache.add(at_event(i))
    disk = all_bytes_on_disk(cache_dir)
    assert path.read_bytes().startswith(MAGIC)
    assert first["access_token"].encode() not in disk
    # no plaintext: neither a secret nor any schema field name is on disk
    assert b"secret-3" not in disk and b"AccessToken" not in disk
    assert b"credential_type" not in disk and b"home_account_id" not in disk
    emu.clear_log()
    again = cca(emu, FileTokenCache(path, encryption=key)).acquire_token_for_client(DEFAULT)
    assert again["token_source"] == "cache" and again["access_token"] == first["access_token"]
    assert emu.requests_to("token") == []


def test_wrong_key_is_a_clear_error_and_the_file_is_untouched(cache_dir: Path) -> None:
    path = cache_dir / "c.bin"
    FileTokenCache(path, encryption=generate_key()).add(at_event(1))
    before = path.read_bytes()
    other = FileTokenCache(path, encryption=generate_key())
    with pytest.raises(CacheError) as caught:
        other.find_accounts()
    assert caught.value.error == "cache_decryption_failed"
    assert "different key" in str(caught.value) and str(path) in str(caught.value)
    with pytest.raises(CacheError):
        other.add(at_event(2))  # a write must not replace what it could not read
    assert path.read_bytes() == before


def test_altered_file_fails_the_integrity_check(cache_dir: Path) -> None:
    key = generate_key()
    path = cache_dir / "c.bin"
    FileTokenCache(path, encryption=key).add(at_event(1))
    blob = bytearray(path.read_bytes())
    blob[-5] ^= 1
    path.write_bytes(bytes(blob))
    with pytest.raises(CacheError, match="altered or damaged"):
        FileTokenCache(path, encryption=key).find_accounts()
    assert path.read_bytes() == bytes(blob)


def test_plaintext_file_with_encryption_on_is_refused(cache_dir: Path) -> None:
    path = cache_dir / "c.json"
    FileTokenCache(path).add(at_event(1))
    before = path.read_bytes()
    with pytest.raises(CacheError) as caught:
        FileTokenCache(path, encryption=generate_key()).add(at_event(2))
    assert caught.value.error == "cache_not_encrypted"
    assert path.read_bytes() == before


def test_encrypted_file_without_a_key_is_refused(cache_dir: Path) -> None:
    path = cache_dir / "c.bin"
    FileTokenCache(path, encryption=generate_key()).add(at_event(1))
    with pytest.raises(CacheError) as caught:
        FileTokenCache(path).find_accounts()
    assert caught.value.error == "cache_encrypted"


def test_key_from_environment(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = generate_key()
    monkeypatch.setenv("MY_CACHE_KEY", encode_key(key))
    path = cache_dir / "c.bin"
    FileTokenCache(path, encryption=CacheEncryption.from_env("MY_CACHE_KEY")).add(at_event(1))
    assert len(list(FileTokenCache(path, encryption=key).search("AccessToken"))) == 1
    monkeypatch.setenv("MY_CACHE_KEY", "not base64 !!")
    with pytest.raises(CacheError, match="not base64"):
        CacheEncryption.from_env("MY_CACHE_KEY")
    monkeypatch.setenv("MY_CACHE_KEY", encode_key(b"short"))
    with pytest.raises(CacheError, match="16, 24 or 32"):
        CacheEncryption.from_env("MY_CACHE_KEY")
    monkeypatch.delenv("MY_CACHE_KEY")
    with pytest.raises(CacheError, match="MY_CACHE_KEY is not set"):
        CacheEncryption.from_env("MY_CACHE_KEY")


def test_key_from_the_os_keyring(cache_dir: Path) -> None:
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.items: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.items.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.items[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.items.pop((service, username), None)

    previous: Any = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        with pytest.raises(CacheError, match="no key in the OS keyring"):
            CacheEncryption.from_keyring("svc", "acct", create=False)
        first = CacheEncryption.from_keyring("svc", "acct")  # creates and stores a key
        assert list(backend.items) == [("svc", "acct")]
        path = cache_dir / "c.bin"
        FileTokenCache(path, encryption=first).add(at_event(1))
        second = CacheEncryption.from_keyring("svc", "acct")
        assert len(list(FileTokenCache(path, encryption=second).search("AccessToken"))) == 1
    finally:
        keyring.set_keyring(previous)


def test_keyring_not_installed_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # makes `import keyring` fail
    with pytest.raises(CacheError) as caught:
        CacheEncryption.from_keyring()
    assert caught.value.error == "cache_keyring_unavailable"


def test_key_never_shows_in_repr() -> None:
    key = generate_key()
    assert key.hex() not in repr(CacheEncryption(key))
    with pytest.raises(ValueError):
        CacheEncryption(b"short")
