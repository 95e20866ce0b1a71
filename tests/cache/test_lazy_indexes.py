"""deserialize() defers index building to the first lookup; changes made before it count."""

from __future__ import annotations

from cache_events import AUTHORITY_HOST, NOW, TENANT, user_event

from entra_auth.cache import SerializableTokenCache


def _refresh_tokens(cache: SerializableTokenCache, uid: str) -> list[object]:
    return list(cache.find_refresh_tokens(home_account_id=f"{uid}.{TENANT}",
                                          environments=[AUTHORITY_HOST]))


def test_indexes_are_built_on_first_use_and_see_earlier_changes() -> None:
    source = SerializableTokenCache()
    for i in range(20):
        source.add(user_event(f"uid-{i}"), now=NOW)
    text = source.serialize()
    loaded = SerializableTokenCache()
    loaded.deserialize(text)
    assert loaded._store._pending  # deserialize() indexed nothing
    assert len(_refresh_tokens(loaded, "uid-3")) == 1
    assert not loaded._store._pending  # the lookup built the indexes

    # Changes made while the indexes are pending are in them once built.
    changed = SerializableTokenCache()
    changed.deserialize(text)
    key = next(k for k, e in changed._store.section("RefreshToken").items()
               if e["home_account_id"] == f"uid-3.{TENANT}")
    changed._store.pop("RefreshToken", key)
    changed._store.put("RefreshToken", "added-key", {
        **changed._store.section("RefreshToken")[next(iter(
            changed._store.section("RefreshToken")))], "home_account_id": f"uid-new.{TENANT}"})
    assert changed._store._pending
    assert _refresh_tokens(changed, "uid-3") == []
    assert len(_refresh_tokens(changed, "uid-new")) == 1
    assert len(_refresh_tokens(changed, "uid-7")) == 1
    assert len(changed.find_accounts()) == 20


def test_dumps_with_a_memo_writes_the_same_text_as_without() -> None:
    import json

    from entra_auth.cache.json_format import dumps

    cache = SerializableTokenCache()
    for i in range(10):
        cache.add(user_event(f"uid-{i}"), now=NOW)
    sections = json.loads(cache.serialize())
    memo: dict = {}  # type: ignore[type-arg]
    assert dumps(sections, memo) == dumps(sections) == json.dumps(sections, indent=4)
    assert memo
    # Entries replaced, changed in place, removed, added, and a nested value.
    first_key = next(iter(sections["AccessToken"]))
    sections["AccessToken"][first_key]["secret"] = "changed in place"
    sections["RefreshToken"].pop(next(iter(sections["RefreshToken"])))
    sections["IdToken"]["new"] = {"a": 1, "b": [1, 2], "c": None}
    sections["Account"]["another"] = {"x": 1.5, "y": True}
    for _ in range(2):
        assert dumps(sections, memo) == json.dumps(sections, indent=4)
