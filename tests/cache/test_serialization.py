"""serialize()/deserialize(): exact text, round trips, corrupt input, has_state_changed."""

from __future__ import annotations

import json
from typing import Any

import msal
import pytest
from cache_events import AUTHORITY_HOST, CLIENT_ID, NOW, TENANT, app_event, user_event
from hypothesis import given
from hypothesis import strategies as st
from property.budget import examples

from entra_auth.cache import SerializableTokenCache
from entra_auth.cache.json_format import dumps

json_scalars = st.none() | st.booleans() | st.integers() | st.text() | st.floats(
    allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
documents = st.dictionaries(
    st.sampled_from(["AccessToken", "RefreshToken", "IdToken", "Account", "AppMetadata",
                     "Extra", "é"]),
    st.dictionaries(st.text(), st.dictionaries(st.text(), json_values, max_size=6), max_size=3),
    max_size=6,
)


@examples
@given(documents)
def test_dumps_is_byte_identical_to_json_dumps_indent_4(document: dict[str, Any]) -> None:
    assert dumps(document) == json.dumps(document, indent=4)


@examples
@given(st.dictionaries(st.text(), json_values, max_size=4))
def test_dumps_matches_for_odd_top_level_values(document: dict[str, Any]) -> None:
    assert dumps(document) == json.dumps(document, indent=4)


def _full_cache() -> SerializableTokenCache:
    cache = SerializableTokenCache()
    cache.add(user_event("a", foci="1", refresh_in=600), now=NOW)
    cache.add(app_event(), now=NOW)
    return cache


def test_unknown_fields_and_sections_round_trip_and_survive_changes() -> None:
    document = json.loads(_full_cache().serialize())
    for entry in document["AccessToken"].values():
        entry["x_future_field"] = {"nested": [1, 2.5, None, "é"]}
    document["Account"][next(iter(document["Account"]))]["account_source"] = "broker"
    document["FutureSection"] = {"k": {"v": 1}}
    document["Version"] = 2
    text = json.dumps(document, indent=4)
    cache = SerializableTokenCache()
    cache.deserialize(text)
    assert cache.serialize() == text
    cache.add(user_event("b"), now=NOW)  # a change elsewhere keeps them
    again = json.loads(cache.serialize())
    assert again["FutureSection"] == {"k": {"v": 1}} and again["Version"] == 2
    assert sum("x_future_field" in e for e in again["AccessToken"].values()) == 2
    theirs = msal.SerializableTokenCache()
    theirs.deserialize(text)
    assert theirs.serialize() == text


def test_empty_states() -> None:
    cache = _full_cache()
    for state in ("", None, "{}"):
        cache.deserialize(state)
        assert cache.serialize() == "{}"
        assert list(cache.search("RefreshToken")) == []


def test_bytes_state_is_accepted() -> None:
    text = _full_cache().serialize()
    cache = SerializableTokenCache()
    cache.deserialize(text.encode())
    assert cache.serialize() == text


CORRUPT = {
    "not json": ('{"AccessToken": {"k": {"secret": "SEKRIT-1"', "not valid JSON"),
    "garbage": ("SEKRIT-2 is not a cache", "not valid JSON"),
    "array": ('["SEKRIT-3"]', "must be a JSON object, not an array"),
    "string": ('"SEKRIT-4"', "must be a JSON object, not a string"),
    "null": ("null", "must be a JSON object, not null"),
    "section is a list": ('{"RefreshToken": ["SEKRIT-5"]}', "'RefreshToken' must be a JSON"),
    "section is null": ('{"Account": null}', "'Account' must be a JSON object, not null"),
    "entry is a string": ('{"AccessToken": {"k": "SEKRIT-6"}}', "entry #1 must be a JSON"),
    "entry is a number": ('{"IdToken": {"a": {}, "b": 7}}', "entry #2 must be a JSON object"),
    "bad utf-8": (b'{"AccessToken": "\xff\xfeSEKRIT-7"}', "not valid"),
}


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_corrupt_state_raises_value_error_and_leaves_cache_untouched(case: str) -> None:
    state, message = CORRUPT[case]
    cache = _full_cache()
    cache.add(user_event("pending"), now=NOW)
    before = json.dumps(cache._cache, indent=4)
    with pytest.raises(ValueError, match=message) as caught:
        cache.deserialize(state)
    assert "SEKRIT" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert cache.serialize() == before
    assert cache.find_access_token(
        client_id=CLIENT_ID, environments=[AUTHORITY_HOST], realm=TENANT,
        scopes=["User.Read"], home_account_id=f"pending.{TENANT}") is not None


def test_corrupt_state_keeps_has_state_changed() -> None:
    cache = _full_cache()
    assert cache.has_state_changed
    with pytest.raises(ValueError):
        cache.deserialize("{")
    assert cache.has_state_changed


def test_non_text_state_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="str or bytes"):
        SerializableTokenCache().deserialize(42)  # type: ignore[arg-type]


def test_has_state_changed_follows_msal() -> None:
    ours, theirs = SerializableTokenCache(), msal.SerializableTokenCache()
    at_query = {"client_id": CLIENT_ID, "environment": AUTHORITY_HOST, "realm": TENANT,
                "home_account_id": f"a.{TENANT}"}
    steps: list[tuple[str, Any]] = [
        ("new", lambda c: None),
        ("add", lambda c: c.add(user_event("a"), now=NOW)),
        ("serialize", lambda c: c.serialize()),
        ("search hit", lambda c: list(c.search("AccessToken", ["User.Read"], at_query, now=NOW))),
        ("search early stop on expired", lambda c: next(
            iter(c.search("AccessToken", ["User.Read"], at_query, now=NOW + 9999)), None)),
        ("modify remove missing", lambda c: c.modify("AccessToken", {"home_account_id": "x"})),
        ("deserialize", lambda c: c.deserialize(c.serialize())),
        ("search removing expired", lambda c: list(
            c.search("AccessToken", ["User.Read"], at_query, now=NOW + 9999))),
        ("serialize again", lambda c: c.serialize()),
        ("error event", lambda c: c.add({"client_id": CLIENT_ID, "response": {}}, now=NOW)),
    ]
    for name, step in steps:
        step(ours)
        step(theirs)
        assert ours.has_state_changed == theirs.has_state_changed, name
    assert ours.serialize() == theirs.serialize()


def test_a_cache_reused_by_msal_after_more_tokens_is_still_readable_here() -> None:
    theirs = msal.SerializableTokenCache()
    ours = _full_cache()
    theirs.deserialize(ours.serialize())
    theirs.add(user_event("c"), now=NOW + 5)
    ours.deserialize(theirs.serialize())
    assert ours.serialize() == theirs.serialize()
    found = ours.find_refresh_tokens(home_account_id=f"c.{TENANT}",
                                     environments=[AUTHORITY_HOST])
    assert [rt["secret"] for rt in found] == ["rt-c-secret"]
