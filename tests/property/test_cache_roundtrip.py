"""Token cache serialization: MSAL-shaped documents round-trip exactly (and through msal);
hostile documents are refused with ValueError and leave the cache as it was."""

from __future__ import annotations

import json
from typing import Any

import msal as real_msal
from hypothesis import given
from hypothesis import strategies as st

import entra_auth as msal

from .budget import examples
from .strategies import hostile_text, json_values

SECTIONS = ("AccessToken", "RefreshToken", "IdToken", "Account", "AppMetadata")
numeric = st.integers(0, 2**40).map(str)
text = st.text(max_size=16)


def _entry(section: str, env: str, client: str, realm: str, field_values: Any) -> Any:
    common = {"home_account_id": field_values, "environment": st.just(env)}
    extra = st.dictionaries(st.text(min_size=1, max_size=8), json_values, max_size=2)
    if section == "Account":
        fields = {**common, "realm": st.just(realm), "local_account_id": field_values,
                  "username": field_values, "authority_type": st.sampled_from(["MSSTS", "ADFS"])}
    elif section == "AppMetadata":
        fields = {"client_id": st.just(client), "environment": st.just(env)}
    else:
        fields = {**common, "credential_type": st.just(section), "client_id": st.just(client),
                  "secret": field_values}
        if section != "IdToken":
            fields["target"] = field_values
        if section != "RefreshToken":
            fields["realm"] = st.just(realm)
        if section == "AccessToken":
            fields.update(cached_at=numeric | field_values, expires_on=numeric | field_values,
                          extended_expires_on=numeric | field_values)
    return st.fixed_dictionaries(fields).flatmap(
        lambda e: extra.map(lambda x: {**x, **e}))


def documents(field_values: Any, env: Any = text, client: Any = text, realm: Any = text) -> Any:
    def section(name: str) -> Any:
        entries = st.tuples(env, client, realm).flatmap(
            lambda t: _entry(name, t[0], t[1], t[2], field_values))
        return st.dictionaries(st.text(max_size=40), entries, max_size=3)

    return st.fixed_dictionaries({}, optional={name: section(name) for name in SECTIONS})


@examples
@given(documents(text))
def test_msal_shaped_documents_round_trip_exactly(doc: dict[str, Any]) -> None:
    cache = msal.SerializableTokenCache()
    cache.deserialize(json.dumps(doc))
    ours = cache.serialize()
    assert json.loads(ours) == doc
    theirs = real_msal.SerializableTokenCache()
    theirs.deserialize(ours)
    assert json.loads(theirs.serialize()) == doc
    again = msal.SerializableTokenCache()
    again.deserialize(theirs.serialize())
    assert json.loads(again.serialize()) == doc


@examples
@given(st.one_of(hostile_text, json_values.map(json.dumps), st.binary(max_size=64),
                 documents(json_values).map(lambda d: {k: [v] for k, v in d.items()})
                 .map(json.dumps)))
def test_hostile_documents_are_refused_and_leave_the_cache_alone(state: Any) -> None:
    cache = msal.SerializableTokenCache()
    cache.deserialize('{"AccessToken": {}, "Account": {"k": {"home_account_id": "h"}}}')
    before = cache.serialize()
    try:
        cache.deserialize(state)
    except ValueError as exc:
        assert cache.serialize() == before
        text = state if isinstance(state, str) else ""
        assert len(text) < 20 or text not in str(exc)  # messages never quote the document
        return
    json.loads(cache.serialize())
