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
