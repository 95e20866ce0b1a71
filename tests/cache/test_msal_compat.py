"""Identical events into msal's SerializableTokenCache and ours give identical caches and text."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import msal
import pytest
from cache_events import (
    AUTHORITY_HOST,
    CLIENT_ID,
    NOW,
    OTHER_CLIENT_ID,
    TENANT,
    app_event,
    b64url,
    client_info,
    jwt,
    user_event,
)

from entra_auth.cache import SerializableTokenCache

Events = list[dict[str, Any]]


def _adfs() -> Events:
    claims = {"sub": "adfs-sub", "upn": "bob@contoso.com", "aud": CLIENT_ID, "iat": NOW}
    return [{
        "client_id": CLIENT_ID,
        "scope": ["openid", "profile", "offline_access", "https://api/.default"],
        "token_endpoint": "https://adfs.contoso.com/adfs/oauth2/token",
        "environment": "adfs.contoso.com",
        "response": {
            "token_type": "Bearer", "expires_in": 3600, "access_token": "adfs-at",
            "refresh_token": "adfs-rt", "id_token": jwt(claims),
        },
        "data": {}, "grant_type": "authorization_code",
    }]


def _b2c() -> Events:
    host = "fabrikamb2c.b2clogin.com"
    endpoint = f"https://{host}/fabrikamb2c.onmicrosoft.com/b2c_1_signin/oauth2/v2.0/token"
    event = user_event(
        "b2cuser-b2c_1_signin", username=None, token_endpoint=endpoint, environment=host,
        client_info=client_info("b2cuser-b2c_1_signin", "b2c-tenant"),
    )
    return [event]


def _ropc_username_fallback() -> Events:
    event = user_event("u-ropc", username=None, grant_type="password")
    event["data"]["username"] = "carol@contoso.com"
    return [event]


def _federated_ropc_username() -> Events:
    event = user_event("u-fed", username=None, grant_type="password")
    event["username"] = "dave@fabrikam.com"
    return [event]


def _ssh_cert() -> Events:
    event = user_event(
        "u-ssh", token_type="ssh-cert",
        scope=["https://pas.windows.net/CheckMyAccess/Linux/.default"],
    )
    event["data"].update({"token_type": "ssh-cert", "key_id": "key-1", "req_cnf": "{}"})
    return [event]


def _fmi_path() -> Events:
    event = app_event()
    event["data"]["fmi_path"] = "SomeFmiPath/FmiCredentialPath"
    return [event, app_event()]


def _refresh_then_update() -> Events:
    first = user_event("u-refresh")
    refreshed = user_event("u-refresh", access_token="at-new", refresh_token="rt-new",
                           grant_type="refresh_token")
    refreshed["skip_account_creation"] = True
    refreshed["data"]["refresh_token"] = "rt-u-refresh-secret"
    return [first, refreshed]


def _skip_account_creation() -> Events:
    event = user_event("u-skip", grant_type="refresh_token")
    event["skip_account_creation"] = True
    return [event]


def _managed_identity_expires_on() -> Events:
    event = app_event(expires_on=str(NOW + 86400))
    del event["response"]["expires_in"]
    del event["response"]["ext_expires_in"]
    return [event]


def _client_info_without_uid() -> Events:
    return [user_event("u-noci", client_info=b64url({"foo": "bar"}))]


def _no_environment_key() -> Events:
    return [user_event("u-legacy", environment=None)]


def _ciam() -> Events:
    endpoint = "https://contoso.ciamlogin.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    return [user_event("u-ciam", token_endpoint=endpoint, environment="contoso.ciamlogin.com")]


def _caller_choices() -> Events:
    event = user_event("u-choice", grant_type="broker")
    event["authority_type"] = "MSSTS"
    event["_account_id"] = "account-id-from-mid-tier"
    return [event]


def _error_response() -> Events:
    event = user_event("u-err")
    event["response"] = {"error": "invalid_grant", "error_description": "AADSTS70008: expired"}
    return [event]


def _many_users_and_clients() -> Events:
    events = [user_event(f"u{i}", username=f"user{i}@contoso.com") for i in range(5)]
    events.append(user_event("u1", client_id=OTHER_CLIENT_ID, foci="1"))
    events.append(user_event("u2", scope=["Mail.Read"]))
    events.append(app_event(tenant="tenant-b"))
    events.append(user_event("u3", tenant="guest-tenant"))
    return events


CASES: dict[str, Callable[[], Events]] = {
    "auth_code": lambda: [user_event()],
    "device_code": lambda: [user_event(grant_type="urn:ietf:params:oauth:grant-type:device_code")],
    "refresh": _refresh_then_update,
    "client_credentials": lambda: [app_event()],
    "adfs_without_client_info": _adfs,
    "foci": lambda: [user_event(foci="1")],
    "refresh_in": lambda: [user_event(refresh_in=1800)],
    "no_ext_expires_in": lambda: [user_event(ext_expires_in=None)],
    "string_expires_in": lambda: [user_event(expires_in="3599", ext_expires_in="7200")],
    "no_expires_in": lambda: [user_event(expires_in=None, ext_expires_in=None)],
    "ssh_cert_key_id": _ssh_cert,
    "b2c": _b2c,
    "skip_account_creation": _skip_account_creation,
    "ropc_username_fallback": _ropc_username_fallback,
    "federated_ropc_username": _federated_ropc_username,
    "ext_cache_key": _fmi_path,
    "managed_identity_expires_on": _managed_identity_expires_on,
    "client_info_without_uid": _client_info_without_uid,
    "no_environment_key": _no_environment_key,
    "ciam": _ciam,
    "caller_choices": _caller_choices,
    "error_response": _error_response,
    "many": _many_users_and_clients,
}


def _fill_both(events: Events) -> tuple[Any, SerializableTokenCache]:
    theirs = msal.SerializableTokenCache()
    ours = SerializableTokenCache()
    for offset, event in enumerate(events):
        theirs.add(copy.deepcopy(event), now=NOW + offset)
        ours.add(copy.deepcopy(event), now=NOW + offset)
    return theirs, ours


@pytest.mark.parametrize("case", sorted(CASES))
def test_add_writes_the_same_entries_and_text_as_msal(case: str) -> None:
    theirs, ours = _fill_both(CASES[case]())
    assert json.loads(ours.serialize()) == json.loads(theirs.serialize())
    assert ours.serialize() == theirs.serialize()  # same order, same formatting


@pytest.mark.parametrize("case", sorted(CASES))
def test_caches_cross_load_both_ways(case: str) -> None:
    theirs, ours = _fill_both(CASES[case]())
    text = theirs.serialize()
    loaded_here = SerializableTokenCache()
    loaded_here.deserialize(text)
    assert loaded_here.serialize() == text
    loaded_there = msal.SerializableTokenCache()
    loaded_there.deserialize(ours.serialize())
    assert loaded_there.serialize() == text


def test_on_behalf_of_partition_field_is_extra_and_msal_carries_it() -> None:
    event = user_event("u-obo", grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer")
    event["data"].update({"assertion": "incoming-assertion", "requested_token_use": "on_behalf_of"})
    ours = SerializableTokenCache()
    ours.add(dict(event, user_assertion_hash="hash-1"), now=NOW)
    theirs = msal.SerializableTokenCache()
    theirs.add(copy.deepcopy(event), now=NOW)
    mine = json.loads(ours.serialize())
    for section in ("AccessToken", "RefreshToken"):
        (entry,) = mine[section].values()
        assert entry.pop("user_assertion_hash") == "hash-1"
    assert mine == json.loads(theirs.serialize())
    # msal loads ours and writes the extra field back untouched
    reloaded = msal.SerializableTokenCache()
    reloaded.deserialize(ours.serialize())
    assert reloaded.serialize() == ours.serialize()


def test_msal_tokens_are_found_by_our_indexed_lookups() -> None:
    theirs, _ = _fill_both(CASES["many"]())
    ours = SerializableTokenCache()
    ours.deserialize(theirs.serialize())
    at = ours.find_access_token(
        client_id=CLIENT_ID, environments=[AUTHORITY_HOST], realm=TENANT,
        scopes=["user.read"], home_account_id=f"u3.{TENANT}",
    )
    assert at is not None and at["secret"] == "at-u3-secret"
    rts = ours.find_refresh_tokens(
        home_account_id=f"u1.{TENANT}", environments=[AUTHORITY_HOST], family_id="1"
    )
    assert [rt["client_id"] for rt in rts] == [OTHER_CLIENT_ID]


QUERIES: list[tuple[str, list[str] | None, dict[str, Any] | None]] = [
    ("AccessToken", ["User.Read"], {
        "client_id": CLIENT_ID, "environment": AUTHORITY_HOST, "realm": TENANT,
        "home_account_id": f"u1.{TENANT}"}),
    ("AccessToken", ["openid", "User.Read"], {
        "client_id": CLIENT_ID, "environment": "Login.MicrosoftOnline.com", "realm": TENANT,
        "home_account_id": f"u2.{TENANT}"}),
    ("AccessToken", None, {"environment": AUTHORITY_HOST, "home_account_id": f"u1.{TENANT}"}),
    ("AccessToken", None, {
        "client_id": CLIENT_ID, "environment": AUTHORITY_HOST, "home_account_id": None}),
    ("AccessToken", ["Mail.Read"], None),
    ("RefreshToken", None, {"environment": AUTHORITY_HOST, "home_account_id": f"u1.{TENANT}"}),
    ("RefreshToken", None, {"home_account_id": f"u1.{TENANT}", "client_id": CLIENT_ID}),
    ("RefreshToken", None, {"environment": AUTHORITY_HOST}),
    ("RefreshToken", None, {"family_id": "1"}),
    ("IdToken", None, {"environment": AUTHORITY_HOST, "home_account_id": f"u3.{TENANT}"}),
    ("Account", None, {"environment": AUTHORITY_HOST}),
    ("Account", None, {"home_account_id": f"u3.{TENANT}"}),
    ("Account", None, {"username": "user4@contoso.com"}),
    ("Account", None, None),
    ("AppMetadata", None, {"client_id": OTHER_CLIENT_ID}),
]


@pytest.mark.parametrize(("section", "target", "query"), QUERIES)
def test_search_returns_what_msal_returns(
    section: str, target: list[str] | None, query: dict[str, Any] | None
) -> None:
    theirs, ours = _fill_both(CASES["many"]())
    expected = list(theirs.search(section, target=target, query=query, now=NOW))
    assert expected, "the query should match something"
    assert list(ours.search(section, target=target, query=query, now=NOW)) == expected


def test_search_drops_expired_access_tokens_like_msal() -> None:
    theirs, ours = _fill_both(CASES["many"]())
    later = NOW + 3599 + 100
    query = {"client_id": CLIENT_ID, "environment": AUTHORITY_HOST, "realm": TENANT,
             "home_account_id": f"u1.{TENANT}"}
    for cache in (theirs, ours):
        cache.serialize()
        assert list(cache.search("AccessToken", target=["User.Read"], query=query, now=NOW)) != []
    results = [list(cache.search("AccessToken", query=query, now=later))
               for cache in (theirs, ours)]
    assert results[0] == results[1] == []
    assert ours.has_state_changed and theirs.has_state_changed
    # Both dropped the account's expired token. msal's scan also drops every other expired
    # access token in the cache as a side effect; our indexed search only touches candidates.
    for cache in (theirs, ours):
        remaining = json.loads(cache.serialize())["AccessToken"].values()
        assert (f"u1.{TENANT}", CLIENT_ID) not in [
            (at["home_account_id"], at["client_id"]) for at in remaining]
    assert len(json.loads(ours.serialize())["AccessToken"]) == 8
    assert list(ours.search("AccessToken", now=later)) == []  # an unindexed scan drops them all
    assert ours.serialize() == theirs.serialize()


def test_ext_cache_key_tokens_only_match_queries_naming_it() -> None:
    theirs, ours = _fill_both(_fmi_path())
    query = {"client_id": CLIENT_ID, "environment": AUTHORITY_HOST, "home_account_id": None}
    for cache in (theirs, ours):
        found = list(cache.search("AccessToken", query=query, now=NOW))
        assert len(found) == 1 and "ext_cache_key" not in found[0]
    assert list(ours.search("AccessToken", query=query, now=NOW)) == list(
        theirs.search("AccessToken", query=query, now=NOW))


def test_update_rt_and_removals_match_msal() -> None:
    theirs, ours = _fill_both(CASES["many"]())
    query = {"home_account_id": f"u1.{TENANT}"}
    for cache in (theirs, ours):
        (rt,) = [r for r in cache.search("RefreshToken", query=query)
                 if r["client_id"] == CLIENT_ID]
        cache.update_rt(rt, "rt-rotated")
        (at,) = [a for a in cache.search("AccessToken", query=query, now=NOW)
                 if a["client_id"] == CLIENT_ID]
        cache.remove_at(at)
        (idt,) = list(cache.search("IdToken", query=dict(query, client_id=OTHER_CLIENT_ID)))
        cache.remove_idt(idt)
        (account,) = list(cache.search("Account", query=dict(query, realm=TENANT)))
        cache.remove_account(account)
        cache.remove_rt(next(iter(cache.search("RefreshToken", query=dict(
            query, client_id=OTHER_CLIENT_ID)))))
    mine, theirs_doc = json.loads(ours.serialize()), json.loads(theirs.serialize())
    for doc in (mine, theirs_doc):  # update_rt stamps the wall clock
        for entry in doc["RefreshToken"].values():
            if entry["secret"] == "rt-rotated":
                entry["last_modification_time"] = "stamped"
    assert mine == theirs_doc


def test_constants_match_msal() -> None:
    for name in ("ACCESS_TOKEN", "ACCESS_TOKEN_EXTENDED", "REFRESH_TOKEN", "ACCOUNT",
                 "ID_TOKEN", "APP_METADATA"):
        assert getattr(SerializableTokenCache.CredentialType, name) == getattr(
            msal.TokenCache.CredentialType, name)
    for name in ("ADFS", "MSSTS"):
        assert getattr(SerializableTokenCache.AuthorityType, name) == getattr(
            msal.TokenCache.AuthorityType, name)


def test_key_makers_match_msal() -> None:
    theirs, ours = msal.TokenCache(), SerializableTokenCache()
    entry = {"home_account_id": "U.T", "environment": "Login.X", "client_id": "C",
             "realm": "R", "target": "a B", "ext_cache_key": "k"}
    for section in theirs.key_makers:
        assert ours.key_makers[section](**entry) == theirs.key_makers[section](**entry)
        bare = {k: v for k, v in entry.items() if k != "ext_cache_key"}
        assert ours.key_makers[section](**bare) == theirs.key_makers[section](**bare)


def test_ext_cache_key_value_matches_msal() -> None:
    from msal.token_cache import _compute_ext_cache_key

    from entra_auth.cache import compute_ext_cache_key

    for data in ({}, {"fmi_path": "a/b"}, {"fmi_path": "é", "x": 5, "scope": "s", "y": ""},
                 {"client_claims": '{"a": 1}', "grant_type": "client_credentials"}):
        assert compute_ext_cache_key(data) == _compute_ext_cache_key(data)
