"""The keyword-only indexed lookups and removals of TokenCache, and search() through indexes."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from cache_events import (
    AUTHORITY_HOST,
    CLIENT_ID,
    NOW,
    OTHER_CLIENT_ID,
    TENANT,
    app_event,
    user_event,
)

from entra_auth.cache import SerializableTokenCache, TokenCache

ALIASES = [AUTHORITY_HOST, "login.windows.net", "login.microsoft.com"]


def home(uid: str) -> str:
    return f"{uid}.{TENANT}"


def filled(*events: dict[str, Any]) -> TokenCache:
    cache = TokenCache()
    for offset, event in enumerate(events):
        cache.add(event, now=NOW + offset)
    return cache


def test_access_token_hit_for_scope_subset_case_insensitively() -> None:
    cache = filled(user_event("a", scope=["User.Read", "Mail.Read"]), user_event("b"))
    at = cache.find_access_token(
        client_id=CLIENT_ID.upper(), environments=ALIASES, realm=TENANT.upper(),
        scopes=["mail.read"], home_account_id=home("a"),
    )
    assert at is not None and at["secret"] == "at-a-secret"


@pytest.mark.parametrize("miss", [
    {"scopes": ["Files.Read"]},
    {"client_id": OTHER_CLIENT_ID},
    {"realm": "another-tenant"},
    {"environments": ["login.chinacloudapi.cn"]},
    {"home_account_id": home("nobody")},
    {"home_account_id": None},
    {"key_id": "some-key"},
    {"ext_cache_key": "abc"},
    {"user_assertion_hash": "other-assertion"},
])
def test_access_token_miss(miss: dict[str, Any]) -> None:
    cache = filled(user_event("a"))
    query: dict[str, Any] = {
        "client_id": CLIENT_ID, "environments": ALIASES, "realm": TENANT,
        "scopes": ["User.Read"], "home_account_id": home("a"),
    }
    assert cache.find_access_token(**query) is not None
    assert cache.find_access_token(**dict(query, **miss)) is None


def test_access_token_found_via_alias_environment() -> None:
    cache = filled(user_event("a", environment="login.windows.net"))
    at = cache.find_access_token(
        client_id=CLIENT_ID, environments=ALIASES, realm=TENANT, scopes=["User.Read"],
        home_account_id=home("a"),
    )
    assert at is not None and at["environment"] == "login.windows.net"


def test_latest_expiry_wins_among_matches() -> None:
    cache = TokenCache()
    cache.add(user_event("a", scope=["User.Read"], access_token="short"), now=NOW)
    cache.add(user_event("a", scope=["User.Read", "Mail.Read"], access_token="long"), now=NOW + 50)
    cache.add(user_event("a", scope=["User.Read", "Files.Read"], access_token="mid"), now=NOW + 9)
    at = cache.find_access_token(
        client_id=CLIENT_ID, environments=ALIASES, realm=TENANT, scopes=["User.Read"],
        home_account_id=home("a"),
    )
    assert at is not None and at["secret"] == "long"


def test_expired_tokens_are_still_returned_for_the_caller_to_judge() -> None:
    cache = filled(user_event("a"))
    at = cache.find_access_token(
        client_id=CLIENT_ID, environments=ALIASES, realm=TENANT, scopes=["User.Read"],
        home_account_id=home("a"),
    )
    assert at is not None and int(at["expires_on"]) == NOW + 3599


def test_app_only_tokens_with_empty_or_none_home_account() -> None:
    cache = filled(app_event(), app_event(tenant="tenant-b"))
    for account in ("", None):
        at = cache.find_access_token(
            client_id=CLIENT_ID, environments=[AUTHORITY_HOST], realm="tenant-b",
            scopes=["https://graph.microsoft.com/.default"], home_account_id=account,
        )
        assert at is not None and at["secret"] == "app-at-tenant-b-secret"
        assert at["home_account_id"] is None  # stored as msal stores it


def test_key_bound_tokens_only_match_their_key() -> None:
    event = user_event("a", token_type="ssh-cert")
    event["data"]["key_id"] = "key-1"
    cache = filled(event)
    query: dict[str, Any] = {
        "client_id": CLIENT_ID, "environments": ALIASES, "realm": TENANT,
        "scopes": ["User.Read"], "home_account_id": home("a"),
    }
    assert cache.find_access_token(**query) is None
    found = cache.find_access_token(**query, key_id="key-1")
    assert found is not None and found["token_type"] == "ssh-cert"


def test_on_behalf_of_tokens_by_assertion_hash() -> None:
    cache = TokenCache()
    for uid, digest in (("a", "hash-a"), ("b", "hash-b")):
        cache.add(dict(user_event(uid), user_assertion_hash=digest), now=NOW)
    found = cache.find_access_token(
        client_id=CLIENT_ID, environments=ALIASES, realm=TENANT, scopes=["User.Read"],
        home_account_id=None, user_assertion_hash="hash-b",
    )
    assert found is not None and found["secret"] == "at-b-secret"
    assert found["user_assertion_hash"] == "hash-b"
    assert cache.find_access_token(
        client_id=CLIENT_ID, environments=ALIASES, realm=TENANT, scopes=["User.Read"],
        home_account_id=home("a"), user_assertion_hash="hash-b",
    ) is None
    rts = cache.find_refresh_tokens(
        home_account_id=None, environments=ALIASES, user_assertion_hash="hash-a")
    assert [rt["secret"] for rt in rts] == ["rt-a-secret"]
    assert [e["secret"] for e in cache.search(
        "AccessToken", query={"user_assertion_hash": "hash-a"}, now=NOW)] == ["at-a-secret"]


def test_new_assertion_for_same_user_moves_the_partition() -> None:
    cache = TokenCache()
    cache.add(dict(user_event("a"), user_assertion_hash="old"), now=NOW)
    cache.add(dict(user_event("a"), user_assertion_hash="new"), now=NOW + 1)
    query: dict[str, Any] = {
        "client_id": CLIENT_ID, "environments": ALIASES, "realm": TENANT,
        "scopes": ["User.Read"], "home_account_id": None,
    }
    assert cache.find_access_token(**query, user_assertion_hash="old") is None
    assert cache.find_access_token(**query, user_assertion_hash="new") is not None


def test_refresh_tokens_newest_first_and_family_filter() -> None:
    cache = TokenCache()
    cache.add(user_event("a", client_id=OTHER_CLIENT_ID, foci="1"), now=NOW + 10)
    cache.add(user_event("a"), now=NOW + 20)
    cache.add(user_event("a", client_id="third-client"), now=NOW + 5)
    cache.add(user_event("b"), now=NOW + 30)
    everyone = cache.find_refresh_tokens(home_account_id=home("a"), environments=ALIASES)
    assert [rt["client_id"] for rt in everyone] == [CLIENT_ID, OTHER_CLIENT_ID, "third-client"]
    mine_or_family = cache.find_refresh_tokens(
        home_account_id=home("a"), environments=ALIASES, client_id=CLIENT_ID, family_id="1")
    assert [rt["client_id"] for rt in mine_or_family] == [CLIENT_ID, OTHER_CLIENT_ID]
    family = cache.find_refresh_tokens(
        home_account_id=home("a"), environments=[AUTHORITY_HOST], family_id="1")
    assert [rt["secret"] for rt in family] == ["rt-a-secret"]
    assert family[0]["family_id"] == "1"
    assert cache.find_refresh_tokens(home_account_id=home("a"), environments=["x"]) == []


def test_refresh_token_ties_prefer_the_later_insertion() -> None:
    cache = TokenCache()
    cache.add(user_event("a", scope=["A"]), now=NOW)
    cache.add(user_event("a", scope=["B"], refresh_token="second"), now=NOW)
    rts = cache.find_refresh_tokens(home_account_id=home("a"), environments=ALIASES)
    assert [rt["secret"] for rt in rts] == ["second", "rt-a-secret"]


def test_app_metadata_in_preferred_environment_order() -> None:
    cache = filled(user_event("a", environment="login.windows.net", foci="1"), user_event("a"))
    first = cache.get_app_metadata(client_id=CLIENT_ID, environments=ALIASES)
    assert first == {"client_id": CLIENT_ID, "environment": AUTHORITY_HOST}
    second = cache.get_app_metadata(client_id=CLIENT_ID, environments=["login.windows.net"])
    assert second is not None and second["family_id"] == "1"
    assert cache.get_app_metadata(client_id=OTHER_CLIENT_ID, environments=ALIASES) is None


def test_accounts_by_username_environment_and_home() -> None:
    cache = filled(
        user_event("a", username="Alice@Contoso.com"),
        user_event("a", tenant="guest-tenant"),
        user_event("b", username="bob@contoso.com"),
        user_event("c", username="carol@contoso.com", environment="login.windows.net"),
    )
    by_name = cache.find_accounts(username="alice@contoso.COM")
    assert [(a["home_account_id"], a["realm"]) for a in by_name] == [
        (home("a"), TENANT), (home("a"), "guest-tenant")]
    assert len(cache.find_accounts(home_account_id=home("a"))) == 2
    listed = cache.find_accounts(environments=[AUTHORITY_HOST])
    assert {a["username"] for a in listed} == {"Alice@Contoso.com", "alice@contoso.com",
                                               "bob@contoso.com"}
    assert len(cache.find_accounts()) == 4
    assert cache.find_accounts(username="carol@contoso.com", environments=[AUTHORITY_HOST]) == []


def test_id_token_lookup() -> None:
    cache = filled(user_event("a"), user_event("a", tenant="guest-tenant"))
    idt = cache.find_id_token(home_account_id=home("a"), environments=ALIASES,
                              client_id=CLIENT_ID, realm="guest-tenant")
    assert idt is not None and idt["realm"] == "guest-tenant"
    assert cache.find_id_token(home_account_id=home("a"), environments=ALIASES,
                               client_id=OTHER_CLIENT_ID, realm=TENANT) is None


def test_forget_account_removes_its_entries_and_keeps_others() -> None:
    cache = SerializableTokenCache()
    for offset, event in enumerate([
        app_event(), user_event("a", foci="1"),
        user_event("a", client_id=OTHER_CLIENT_ID, foci="1"),
        user_event("a", client_id="unrelated"), user_event("b", foci="1"),
    ]):
        cache.add(event, now=NOW + offset)
    cache.serialize()
    removed = cache.forget_account(home_account_id=home("a"), environments=ALIASES,
                                   client_id=CLIENT_ID)
    # 2 family RTs + 3 ATs + 3 IdTokens + 1 Account (same home, env, realm for all three)
    assert removed == 9
    assert cache.has_state_changed
    left = cache.find_refresh_tokens(home_account_id=home("a"), environments=ALIASES)
    assert [rt["client_id"] for rt in left] == ["unrelated"]
    assert cache.find_accounts(home_account_id=home("a")) == []
    assert len(cache.find_accounts(home_account_id=home("b"))) == 1
    assert len(list(cache.search("AccessToken", now=NOW))) == 2  # b's and the app token


def test_remove_app_tokens_leaves_user_tokens() -> None:
    cache = filled(app_event(), app_event(tenant="t2"), app_event(client_id=OTHER_CLIENT_ID),
                   user_event("a"))
    assert cache.remove_app_tokens(client_id=CLIENT_ID) == 2
    assert cache.remove_app_tokens(client_id=CLIENT_ID) == 0
    remaining = {
        (e["client_id"], e["home_account_id"]) for e in cache.search("AccessToken", now=NOW)}
    assert remaining == {(OTHER_CLIENT_ID, None), (CLIENT_ID, home("a"))}


def test_returned_entries_are_copies() -> None:
    cache = filled(user_event("a"))
    query: dict[str, Any] = {
        "client_id": CLIENT_ID, "environments": ALIASES, "realm": TENANT,
        "scopes": ["User.Read"], "home_account_id": home("a"),
    }
    found = cache.find_access_token(**query)
    assert found is not None
    found["home_account_id"] = "tampered"
    found["secret"] = "tampered"
    again = cache.find_access_token(**query)
    assert again is not None and again["secret"] == "at-a-secret"


def _brute_force(cache: TokenCache, section: str, query: dict[str, Any]) -> list[dict[str, Any]]:
    def matches(entry: dict[str, Any]) -> bool:
        return all(
            entry.get(k, object()) == (v.lower() if k == "environment" else v)
            for k, v in query.items()
        )
    return [dict(e) for e in cache._cache.get(section, {}).values() if matches(e)]


def test_index_agrees_with_brute_force_after_random_churn() -> None:
    rng = random.Random(7)
    cache = TokenCache()
    users = [f"u{i}" for i in range(12)]
    for step in range(400):
        uid = rng.choice(users)
        action = rng.random()
        if action < 0.6:
            event = user_event(
                uid, client_id=rng.choice([CLIENT_ID, OTHER_CLIENT_ID]),
                scope=[rng.choice(["A", "B", "C"])], tenant=rng.choice([TENANT, "t2"]),
                environment=rng.choice(ALIASES[:2]), access_token=f"at{step}",
            )
            if rng.random() < 0.3:
                event["user_assertion_hash"] = rng.choice(["h1", "h2"])
            cache.add(event, now=NOW + step)
        elif action < 0.75:
            cache.add(app_event(tenant=rng.choice(["t1", "t2"])), now=NOW + step)
        elif action < 0.9:
            for at in list(cache.search("AccessToken", query={"home_account_id": f"{uid}.{TENANT}"},
                                        now=NOW)):
                if rng.random() < 0.5:
                    cache.remove_at(at)
        else:
            cache.forget_account(home_account_id=f"{uid}.{TENANT}", environments=ALIASES,
                                 client_id=CLIENT_ID)
    for uid in users:
        for section in ("AccessToken", "RefreshToken", "IdToken", "Account"):
            query = {"home_account_id": f"{uid}.{TENANT}"}
            got = list(cache.search(section, query=query, now=NOW))
            assert sorted(map(repr, got)) == sorted(map(repr, _brute_force(cache, section, query)))
    for digest in ("h1", "h2"):
        query = {"user_assertion_hash": digest}
        got = list(cache.search("RefreshToken", query=query))
        assert sorted(map(repr, got)) == sorted(
            map(repr, _brute_force(cache, "RefreshToken", query)))
    snapshot = copy.deepcopy(cache._cache)
    rebuilt = SerializableTokenCache()
    import json
    rebuilt.deserialize(json.dumps(snapshot))
    for uid in users:
        for realm in (TENANT, "t2"):
            for scope in ("A", "B", "C"):
                kwargs: dict[str, Any] = {
                    "client_id": CLIENT_ID, "environments": ALIASES, "realm": realm,
                    "scopes": [scope], "home_account_id": f"{uid}.{realm}",
                }
                assert cache.find_access_token(**kwargs) == rebuilt.find_access_token(**kwargs)


def test_scopes_may_be_a_space_separated_string() -> None:
    cache = filled(user_event("a", scope=["User.Read", "Mail.Read"]))
    found = cache.find_access_token(
        client_id=CLIENT_ID, environments=AUTHORITY_HOST, realm=TENANT,
        scopes="mail.read user.read", home_account_id=home("a"),
    )
    assert found is not None and found["secret"] == "at-a-secret"


def test_stored_access_token_is_the_entry_itself_and_agrees_with_find() -> None:
    # The applications' hit path reads the stored entry; the public method still copies.
    cache = filled(user_event("a", environment="Login.Windows.Net"), user_event("b"))
    query: dict[str, Any] = {
        "client_id": CLIENT_ID, "environments": ALIASES, "realm": TENANT,
        "scopes": ["User.Read"], "home_account_id": home("a"),
    }
    stored = cache._stored_access_token(**query)
    found = cache.find_access_token(**query)
    assert stored is not None and stored == found and stored is not found
    assert any(stored is entry for entry in cache._cache["AccessToken"].values())
    assert cache._stored_access_token(**dict(query, scopes=["Files.Read"])) is None


def test_stored_access_token_obeys_an_overriding_find_and_the_read_hook() -> None:
    calls: list[str] = []

    class Custom(TokenCache):
        def _before_read(self) -> None:
            calls.append("read")

        def find_access_token(self, **query: Any) -> dict[str, Any] | None:
            calls.append("find")
            return super().find_access_token(**query)

    cache = Custom()
    cache.add(user_event("a"), now=NOW)
    found = cache._stored_access_token(
        client_id=CLIENT_ID, environments=ALIASES, realm=TENANT, scopes=["User.Read"],
        home_account_id=home("a"),
    )
    assert found is not None and found["secret"] == "at-a-secret"
    assert calls == ["find", "read"]
