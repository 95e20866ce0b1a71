"""Thread safety, persistence hooks, subclass overrides of modify(), and what gets logged."""

from __future__ import annotations

import logging
import threading
from typing import Any

import msal
import pytest
from cache_events import AUTHORITY_HOST, CLIENT_ID, NOW, TENANT, app_event, user_event

from entra_auth.cache import SerializableTokenCache, TokenCache

THREADS = 16
PER_THREAD = 40


def test_concurrent_add_and_lookup_lose_nothing() -> None:
    cache = SerializableTokenCache()
    barrier = threading.Barrier(THREADS)
    misses: list[str] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            barrier.wait()
            for i in range(PER_THREAD):
                uid = f"t{n}-u{i}"
                cache.add(user_event(uid, username=f"{uid}@contoso.com"), now=NOW)
                found = cache.find_access_token(
                    client_id=CLIENT_ID, environments=[AUTHORITY_HOST], realm=TENANT,
                    scopes=["User.Read"], home_account_id=f"{uid}.{TENANT}")
                if found is None or found["secret"] != f"at-{uid}-secret":
                    misses.append(uid)
                list(cache.search("RefreshToken", query={"home_account_id": f"{uid}.{TENANT}"}))
                if i % 10 == 0:
                    cache.serialize()
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and misses == []
    total = THREADS * PER_THREAD
    for section in ("AccessToken", "RefreshToken", "IdToken", "Account"):
        assert len(cache._cache[section]) == total
    assert len(cache.find_accounts(environments=[AUTHORITY_HOST])) == total
    reloaded = SerializableTokenCache()
    reloaded.deserialize(cache.serialize())
    assert len(reloaded.find_refresh_tokens(
        home_account_id=f"t7-u39.{TENANT}", environments=[AUTHORITY_HOST])) == 1


def test_concurrent_removals_and_adds_keep_indexes_consistent() -> None:
    cache = TokenCache()
    for i in range(50):
        cache.add(user_event(f"u{i}"), now=NOW)
    barrier = threading.Barrier(THREADS)

    def worker(n: int) -> None:
        barrier.wait()
        for i in range(n % 2, 50, 2):
            if n < THREADS // 2:
                cache.forget_account(home_account_id=f"u{i}.{TENANT}",
                                     environments=[AUTHORITY_HOST], client_id=CLIENT_ID)
            else:
                cache.add(app_event(tenant=f"t{n}-{i}"), now=NOW)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache._cache["Account"] == {}
    assert cache.find_accounts() == []
    assert len(cache._cache["AccessToken"]) == THREADS // 2 * 25
    assert cache.remove_app_tokens(client_id=CLIENT_ID) == THREADS // 2 * 25
    assert list(cache.search("AccessToken", now=NOW)) == []


class RecordingCache(SerializableTokenCache):
    """A stand-in for a file-backed cache: records hook calls and what the lock state was."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []
        self.lock_free_in_hooks: list[bool] = []

    def _lock_is_free(self) -> bool:
        # An RLock owned by this thread would be re-entered; test from another thread.
        result: list[bool] = []

        def probe() -> None:
            acquired = self._lock.acquire(timeout=1)
            result.append(acquired)
            if acquired:
                self._lock.release()

        thread = threading.Thread(target=probe)
        thread.start()
        thread.join()
        return result[0]

    def _before_read(self) -> None:
        self.calls.append("before_read")
        self.lock_free_in_hooks.append(self._lock_is_free())

    def _before_write(self) -> None:
        self.calls.append("before_write")
        self.lock_free_in_hooks.append(self._lock_is_free())

    def _after_write(self) -> None:
        self.calls.append("after_write")
        self.lock_free_in_hooks.append(self._lock_is_free())


def test_every_operation_runs_its_hooks_once_outside_the_lock() -> None:
    cache = RecordingCache()
    operations: dict[str, Any] = {
        "add": lambda: cache.add(user_event("a"), now=NOW),
        "search": lambda: list(cache.search("Account")),
        "find_access_token": lambda: cache.find_access_token(
            client_id=CLIENT_ID, environments=[AUTHORITY_HOST], realm=TENANT,
            scopes=["User.Read"], home_account_id=f"a.{TENANT}"),
        "find_refresh_tokens": lambda: cache.find_refresh_tokens(
            home_account_id=f"a.{TENANT}", environments=[AUTHORITY_HOST]),
        "get_app_metadata": lambda: cache.get_app_metadata(
            client_id=CLIENT_ID, environments=[AUTHORITY_HOST]),
        "find_accounts": lambda: cache.find_accounts(),
        "find_id_token": lambda: cache.find_id_token(
            home_account_id=f"a.{TENANT}", environments=[AUTHORITY_HOST],
            client_id=CLIENT_ID, realm=TENANT),
        "update_rt": lambda: cache.update_rt(
            next(iter(cache._cache["RefreshToken"].values())), "new-rt"),
        "remove_app_tokens": lambda: cache.remove_app_tokens(client_id=CLIENT_ID),
    }
    expected_reads = {"search", "find_access_token", "find_refresh_tokens", "get_app_metadata",
                      "find_accounts", "find_id_token"}
    for name, operation in operations.items():
        cache.calls.clear()
        operation()
        expected = ["before_read"] if name in expected_reads else [
            "before_write", "after_write"]
        assert cache.calls == expected, name
    cache.calls.clear()
    cache.forget_account(home_account_id=f"a.{TENANT}", environments=[AUTHORITY_HOST],
                         client_id=CLIENT_ID)
    assert cache.calls == ["before_write", "after_write"]  # its metadata read is nested
    assert all(cache.lock_free_in_hooks)


def test_after_write_runs_when_the_change_fails() -> None:
    cache = RecordingCache()
    with pytest.raises(ValueError, match="unknown credential type"):
        cache.modify("NoSuchSection", {"a": 1}, {"b": 2})
    cache.calls.clear()

    class Boom(Exception):
        pass

    def failing_mark() -> None:
        raise Boom

    cache._mark_changed = failing_mark  # type: ignore[method-assign]
    with pytest.raises(Boom):
        cache.add(user_event("a"), now=NOW)
    assert cache.calls == ["before_write", "after_write"]


def test_a_hook_may_read_the_cache_without_recursing() -> None:
    class Reloading(SerializableTokenCache):
        reloads = 0

        def _before_read(self) -> None:
            self.reloads += 1
            self.find_accounts()  # nested read: must not re-enter this hook

    cache = Reloading()
    cache.add(user_event("a"), now=NOW)
    assert len(cache.find_accounts()) == 1
    assert cache.reloads == 1


def test_overridden_modify_sees_every_change_like_in_msal() -> None:
    seen: list[tuple[str, bool]] = []

    class Tracking(TokenCache):
        def modify(self, credential_type: str, old_entry: Any, new: Any = None) -> None:
            seen.append((credential_type, bool(new)))
            super().modify(credential_type, old_entry, new)

    cache = Tracking()
    cache.add(user_event("a"), now=NOW)
    assert seen == [("AccessToken", True), ("Account", True), ("IdToken", True),
                    ("RefreshToken", True), ("AppMetadata", True)]
    seen.clear()
    cache.forget_account(home_account_id=f"a.{TENANT}", environments=[AUTHORITY_HOST],
                         client_id=CLIENT_ID)
    assert sorted(seen) == [("AccessToken", False), ("Account", False), ("IdToken", False),
                            ("RefreshToken", False)]
    assert cache.find_accounts() == []


def test_logs_never_contain_secrets(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="entra_auth.cache")
    cache = SerializableTokenCache()
    event = user_event("a", foci="1")
    event["data"].update({"password": "P@ss-SEKRIT", "client_secret": "CS-SEKRIT",
                          "assertion": "ASSERTION-SEKRIT", "refresh_token": "RT-SEKRIT"})
    cache.add(dict(event, user_assertion_hash="HASH"), now=NOW)
    cache.deserialize(cache.serialize())
    cache.forget_account(home_account_id=f"a.{TENANT}", environments=[AUTHORITY_HOST],
                         client_id=CLIENT_ID)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert len(caplog.records) >= 3
    for secret in ("SEKRIT", "at-a-secret", "rt-a-secret", event["response"]["id_token"],
                   "alice@contoso.com"):
        assert secret not in text


def test_bad_events_raise_value_error_and_change_nothing() -> None:
    cache = SerializableTokenCache()
    bad_events = [
        user_event("a", id_token="not-a-jwt"),
        user_event("a", id_token="a.!!!!.c"),
        user_event("a", client_info="%%%"),
        user_event("a", client_info=12),
        user_event("a", expires_in="soon"),
        user_event("a", refresh_in=[1]),
        user_event("a", token_endpoint="ftp://login.microsoftonline.com/x"),
        user_event("a", token_endpoint="https://login.microsoftonline.com"),
        dict(user_event("a"), response="not a mapping"),
    ]
    for event in bad_events:
        with pytest.raises(ValueError) as caught:
            cache.add(event, now=NOW)
        assert "secret" not in str(caught.value)
    assert cache.serialize() == "{}"
    assert not cache.has_state_changed
    with pytest.raises(TypeError):
        cache.add(["not", "an", "event"])  # type: ignore[arg-type]


def test_misuse_of_msal_methods_is_a_clear_value_error() -> None:
    cache = TokenCache()
    with pytest.raises(ValueError, match="RefreshToken"):
        cache.remove_rt({"credential_type": "AccessToken"})
    with pytest.raises(ValueError, match="AccessToken"):
        cache.remove_at({})
    with pytest.raises(ValueError, match="Account"):
        cache.remove_account({"home_account_id": "x"})


def test_find_is_deprecated_but_works() -> None:
    cache = TokenCache()
    cache.add(user_event("a"), now=NOW)
    with pytest.warns(DeprecationWarning):
        found = cache.find("RefreshToken", query={"home_account_id": f"a.{TENANT}"})
    assert [rt["secret"] for rt in found] == ["rt-a-secret"]


def test_clock_is_injectable() -> None:
    cache = TokenCache(clock=lambda: NOW + 0.9)
    cache.add(user_event("a"))
    (at,) = list(cache.search("AccessToken"))
    assert at["cached_at"] == str(NOW)
    (rt,) = list(cache.search("RefreshToken"))
    cache.update_rt(rt, "rotated")
    (rt,) = list(cache.search("RefreshToken"))
    assert rt["secret"] == "rotated" and rt["last_modification_time"] == str(NOW)


class FileTokenCache(SerializableTokenCache):
    """The docs/cache.md example of a file-backed cache built on the hooks."""

    def __init__(self, path: Any) -> None:
        super().__init__()
        self._path = path
        self._seen = ""

    def _reload(self) -> None:
        text = self._path.read_text() if self._path.exists() else ""
        if text != self._seen:
            self.deserialize(text)
            self._seen = text

    def _before_read(self) -> None:
        self._reload()

    def _before_write(self) -> None:
        self._reload()

    def _after_write(self) -> None:
        if self.has_state_changed:
            self._seen = self.serialize()
            self._path.write_text(self._seen)


def test_hooks_are_enough_for_a_write_through_file_cache(tmp_path: Any) -> None:
    path = tmp_path / "cache.json"
    first, second = FileTokenCache(path), FileTokenCache(path)
    first.add(user_event("a"), now=NOW)
    second.add(user_event("b"), now=NOW)  # reloads a's tokens first, then writes both
    found = first.find_access_token(
        client_id=CLIENT_ID, environments=[AUTHORITY_HOST], realm=TENANT,
        scopes=["User.Read"], home_account_id=f"b.{TENANT}")
    assert found is not None and found["secret"] == "at-b-secret"
    first.forget_account(home_account_id=f"b.{TENANT}", environments=[AUTHORITY_HOST],
                         client_id=CLIENT_ID)
    assert [a["home_account_id"] for a in second.find_accounts()] == [f"a.{TENANT}"]
    msal_view = msal.SerializableTokenCache()
    msal_view.deserialize(path.read_text())
    assert len(list(msal_view.search("RefreshToken"))) == 1
