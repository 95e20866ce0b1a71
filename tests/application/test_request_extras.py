"""``fmi_path``, ``forwarded_client_claims`` and ``data`` are sent and key the cache; any
other keyword is a ``TypeError`` (issue 18 point 1). Against the emulator over loopback.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

import entra_auth as msal
from entra_auth.testing import GRAPH_RESOURCE, WEB_API_ID, WEB_API_SECRET, WEB_APP_ID, Emulator
from entra_auth.testing import WEB_APP_SECRET as SECRET

from .conftest import public_app, sign_in

DEFAULT = [f"{GRAPH_RESOURCE}/.default"]
CLIENT_CLAIMS = json.dumps({"access_token": {"xms_ftd": {"value": "abc"}}})
BAD_TYPES: list[Any] = [123, True, ["path"], {"path": "value"}, b"bytes"]


def cca(emu: Emulator, client_id: str = WEB_APP_ID, secret: str = SECRET,
        **kw: Any) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        client_id, secret, authority=emu.authority(), verify=emu.ca_bundle, **kw)


def _sent(emu: Emulator) -> dict[str, str]:
    form: dict[str, str] = emu.requests_to("token")[-1].form
    return form


# -- fmi_path ---------------------------------------------------------------------------------

def test_fmi_path_must_be_a_string(emu: Emulator) -> None:
    app = cca(emu)
    for bad in BAD_TYPES:
        with pytest.raises(ValueError, match="fmi_path must be a string"):
            app.acquire_token_for_client(DEFAULT, fmi_path=bad)
    assert emu.requests_to("token") == []


def test_fmi_path_is_sent_and_cached_under_its_own_key(emu: Emulator) -> None:
    cache = msal.SerializableTokenCache()
    app = cca(emu, token_cache=cache)
    a = app.acquire_token_for_client(DEFAULT, fmi_path="PathA/credential")
    assert a["token_source"] == "identity_provider", a
    assert _sent(emu)["fmi_path"] == "PathA/credential"
    b = app.acquire_token_for_client(DEFAULT, fmi_path="PathB/credential")
    assert b["token_source"] == "identity_provider" and b["access_token"] != a["access_token"]
    again = app.acquire_token_for_client(DEFAULT, fmi_path="PathA/credential")
    assert again["token_source"] == "cache" and again["access_token"] == a["access_token"]
    plain = app.acquire_token_for_client(DEFAULT)  # never handed an fmi_path token
    assert plain["token_source"] == "identity_provider"
    assert "fmi_path" not in _sent(emu)
    assert len(emu.requests_to("token")) == 3
    # Filed as msal files them: "atext" keys with an ext_cache_key.
    ats = json.loads(cache.serialize())["AccessToken"]
    assert sum(1 for key, at in ats.items() if "-atext-" in key and at["ext_cache_key"]) == 2


# -- forwarded_client_claims ------------------------------------------------------------------

@pytest.mark.parametrize("bad", [*BAD_TYPES, "not json", "[1, 2]", "null"])
def test_forwarded_client_claims_must_be_a_json_object_string(emu: Emulator, bad: Any) -> None:
    app = cca(emu)
    with pytest.raises(ValueError, match="forwarded_client_claims") as caught:
        app.acquire_token_for_client(DEFAULT, forwarded_client_claims=bad)
    if isinstance(bad, str):
        assert bad not in str(caught.value) or bad == "null"  # the value is never echoed
    assert emu.requests_to("token") == []


def test_forwarded_client_claims_are_merged_into_claims_and_key_the_cache(
    emu: Emulator,
) -> None:
    app = cca(emu, client_capabilities=["CP1"])
    first = app.acquire_token_for_client(DEFAULT, forwarded_client_claims=CLIENT_CLAIMS)
    assert first["token_source"] == "identity_provider", first
    sent = _sent(emu)
    assert "client_claims" not in sent  # cache-key-only, never on the wire
    claims = json.loads(sent["claims"])
    assert claims["access_token"]["xms_ftd"] == {"value": "abc"}
    assert claims["access_token"]["xms_cc"] == {"values": ["CP1"]}
    again = app.acquire_token_for_client(DEFAULT, forwarded_client_claims=CLIENT_CLAIMS)
    assert again["token_source"] == "cache" and again["access_token"] == first["access_token"]
    other = json.dumps({"access_token": {"xms_ftd": {"value": "xyz"}}})
    assert app.acquire_token_for_client(
        DEFAULT, forwarded_client_claims=other)["token_source"] == "identity_provider"
    assert app.acquire_token_for_client(DEFAULT)["token_source"] == "identity_provider"


def test_forwarded_client_claims_merge_with_a_claims_challenge(emu: Emulator) -> None:
    challenge = json.dumps({"access_token": {"nbf": {"essential": True, "value": "1"}}})
    app = cca(emu)
    result = app.acquire_token_for_client(
        DEFAULT, claims_challenge=challenge, forwarded_client_claims=CLIENT_CLAIMS)
    assert "access_token" in result, result
    claims = json.loads(_sent(emu)["claims"])
    assert set(claims["access_token"]) == {"nbf", "xms_ftd"}


# -- data ---------------------------------------------------------------------------------------

def test_data_fields_are_sent_and_key_the_cache(emu: Emulator) -> None:
    app = cca(emu)
    first = app.acquire_token_for_client(DEFAULT, data={"my_field": "one"})
    assert _sent(emu)["my_field"] == "one" and first["token_source"] == "identity_provider"
    assert app.acquire_token_for_client(
        DEFAULT, data={"my_field": "one"})["token_source"] == "cache"
    assert app.acquire_token_for_client(
        DEFAULT, data={"my_field": "two"})["token_source"] == "identity_provider"
    both = app.acquire_token_for_client(DEFAULT, fmi_path="p", data={"my_field": "one"})
    assert both["token_source"] == "identity_provider"
    assert _sent(emu)["fmi_path"] == "p" and _sent(emu)["my_field"] == "one"


@pytest.mark.parametrize("bad", [["a"], {"f": None}, {"f": b"x"}, {1: "x"},
                                 {"client_secret": "x"}, {"grant_type": "password"}])
def test_bad_data_is_refused_before_sending(emu: Emulator, bad: Any) -> None:
    with pytest.raises(ValueError, match="data"):
        cca(emu).acquire_token_for_client(DEFAULT, data=bad)
    assert emu.requests_to("token") == []


# -- unknown keywords ------------------------------------------------------------------------

def test_unknown_keywords_are_a_type_error_naming_them(emu: Emulator) -> None:
    app = cca(emu)
    with pytest.raises(TypeError, match="'fmi_paht'"):
        app.acquire_token_for_client(DEFAULT, fmi_paht="typo")
    with pytest.raises(TypeError, match=r"'post'.*http_client"):
        app.acquire_token_for_client(DEFAULT, post=lambda *a, **k: None)
    with pytest.raises(TypeError, match="'forwarded_claims'"):
        app.acquire_token_on_behalf_of("assertion", DEFAULT, forwarded_claims="{}")
    assert emu.requests_to("token") == []


# -- on-behalf-of ------------------------------------------------------------------------------

def test_on_behalf_of_forwarded_client_claims(emu: Emulator) -> None:
    user = sign_in(public_app(emu), [f"api://{WEB_API_ID}/access_as_user"])
    api = cca(emu, client_id=WEB_API_ID, secret=WEB_API_SECRET)
    scopes = [f"{GRAPH_RESOURCE}/User.Read"]
    for bad in BAD_TYPES:
        with pytest.raises(ValueError, match="forwarded_client_claims"):
            api.acquire_token_on_behalf_of(user["access_token"], scopes,
                                           forwarded_client_claims=bad)
    first = api.acquire_token_on_behalf_of(user["access_token"], scopes,
                                           forwarded_client_claims=CLIENT_CLAIMS)
    assert first["token_source"] == "identity_provider", first
    assert json.loads(_sent(emu)["claims"])["access_token"]["xms_ftd"] == {"value": "abc"}
    again = api.acquire_token_on_behalf_of(user["access_token"], scopes,
                                           forwarded_client_claims=CLIENT_CLAIMS)
    assert again["token_source"] == "cache"
    plain = api.acquire_token_on_behalf_of(user["access_token"], scopes)
    assert plain["access_token"] != first["access_token"]


# -- async -------------------------------------------------------------------------------------

def test_async_client_takes_the_same_arguments(emu: Emulator) -> None:
    from entra_auth.aio import ConfidentialClientApplication

    async def main() -> None:
        async with ConfidentialClientApplication(
                WEB_APP_ID, SECRET, authority=emu.authority(), verify=emu.ca_bundle) as app:
            with pytest.raises(ValueError, match="fmi_path"):
                await app.acquire_token_for_client(DEFAULT, fmi_path=1)  # type: ignore[arg-type]
            with pytest.raises(TypeError, match="'bogus'"):
                await app.acquire_token_for_client(DEFAULT, bogus=1)
            a = await app.acquire_token_for_client(DEFAULT, fmi_path="a")
            b = await app.acquire_token_for_client(DEFAULT, fmi_path="a")
            assert (a["token_source"], b["token_source"]) == ("identity_provider", "cache")
            assert _sent(emu)["fmi_path"] == "a"

    asyncio.run(main())


# -- authorization code and silent --------------------------------------------------------------

def test_authorization_code_and_silent_with_forwarded_client_claims(emu: Emulator) -> None:
    from entra_auth.testing import Browser

    from .conftest import ALICE, ALICE_PW, USER_READ

    app = cca(emu)
    for bad in BAD_TYPES:
        with pytest.raises(ValueError, match="forwarded_client_claims"):
            app.acquire_token_by_authorization_code("code", [USER_READ],
                                                    forwarded_client_claims=bad)
    url = app.get_authorization_request_url([USER_READ], redirect_uri="http://localhost/callback",
                                            login_hint=ALICE)
    browser = Browser(verify=emu.ca_bundle or True)
    try:
        response = browser.authorize(url, ALICE, ALICE_PW)
    finally:
        browser.close()
    result = app.acquire_token_by_authorization_code(
        response["code"], [USER_READ], redirect_uri="http://localhost/callback",
        forwarded_client_claims=CLIENT_CLAIMS)
    assert result["token_source"] == "identity_provider", result
    assert json.loads(_sent(emu)["claims"])["access_token"]["xms_ftd"] == {"value": "abc"}
    [account] = app.get_accounts()
    # Silent with the same forwarded claims: the cached token; without them: a refresh.
    hit = app.acquire_token_silent([USER_READ], account, forwarded_client_claims=CLIENT_CLAIMS)
    assert hit is not None and hit["token_source"] == "cache"
    assert hit["access_token"] == result["access_token"]
    plain = app.acquire_token_silent([USER_READ], account)
    assert plain is not None and plain["token_source"] == "identity_provider"
    assert "claims" not in _sent(emu)
    other = json.dumps({"access_token": {"xms_ftd": {"value": "other"}}})
    refreshed = app.acquire_token_silent([USER_READ], account, forwarded_client_claims=other)
    assert refreshed is not None and refreshed["token_source"] == "identity_provider"
    assert _sent(emu)["grant_type"] == "refresh_token"
    assert json.loads(_sent(emu)["claims"])["access_token"]["xms_ftd"] == {"value": "other"}
    again = app.acquire_token_silent([USER_READ], account, forwarded_client_claims=other)
    assert again is not None and again["access_token"] == refreshed["access_token"]
    with pytest.raises(ValueError, match="forwarded_client_claims"):
        app.acquire_token_silent([USER_READ], account, forwarded_client_claims="{")


def test_every_method_refuses_unknown_keywords(emu: Emulator) -> None:
    from .conftest import ALICE, ALICE_PW, USER_READ

    public = public_app(emu)
    conf = cca(emu)
    calls = [
        lambda: public.acquire_token_silent([USER_READ], None, bogus=1),
        lambda: public.acquire_token_silent_with_error([USER_READ], None, bogus=1),
        lambda: public.acquire_token_by_username_password(ALICE, ALICE_PW, [USER_READ],
                                                          bogus=1),
        lambda: public.acquire_token_by_refresh_token("rt", [USER_READ], bogus=1),
        lambda: public.acquire_token_by_auth_code_flow({}, {}, bogus=1),
        lambda: public.initiate_device_flow([USER_READ], bogus=1),
        lambda: public.acquire_token_by_device_flow({}, bogus=1),
        lambda: public.acquire_token_interactive([USER_READ], bogus=1),
        lambda: conf.acquire_token_by_authorization_code("c", [USER_READ], bogus=1),
        lambda: conf.acquire_token_for_client(DEFAULT, bogus=1),
        lambda: conf.acquire_token_on_behalf_of("a", DEFAULT, bogus=1),
    ]
    for call in calls:
        with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
            call()
    with pytest.raises(ValueError, match="proof-of-possession"):  # as msal without a broker
        public.acquire_token_silent([USER_READ], None, auth_scheme=object())
    assert emu.requests_to("token") == [] and emu.requests_to("devicecode") == []


# -- interchange with msal ---------------------------------------------------------------------

def test_msal_and_entra_auth_file_extras_under_the_same_key(emu: Emulator) -> None:
    import msal as real_msal

    ours = msal.SerializableTokenCache()
    app = cca(emu, token_cache=ours)
    mine = app.acquire_token_for_client(DEFAULT, fmi_path="Path/A",
                                        forwarded_client_claims=CLIENT_CLAIMS)
    assert mine["token_source"] == "identity_provider", mine
    theirs = real_msal.SerializableTokenCache()
    theirs.deserialize(ours.serialize())
    other = real_msal.ConfidentialClientApplication(
        WEB_APP_ID, SECRET, authority=emu.authority(), token_cache=theirs,
        http_client=emu.requests_session(), instance_discovery=False)
    hit = other.acquire_token_for_client(DEFAULT, fmi_path="Path/A",
                                         forwarded_client_claims=CLIENT_CLAIMS)
    assert hit["token_source"] == "cache" and hit["access_token"] == mine["access_token"]
    # ...and the other way round: msal's fmi_path token is found by entra_auth.
    theirs_first = other.acquire_token_for_client(DEFAULT, fmi_path="Path/B")
    assert theirs_first["token_source"] == "identity_provider"
    ours2 = msal.SerializableTokenCache()
    ours2.deserialize(theirs.serialize())
    again = cca(emu, token_cache=ours2).acquire_token_for_client(DEFAULT, fmi_path="Path/B")
    assert again["token_source"] == "cache"
    assert again["access_token"] == theirs_first["access_token"]


def test_concurrent_on_behalf_of_with_different_extras_are_not_shared(emu: Emulator) -> None:
    import threading

    user = sign_in(public_app(emu), [f"api://{WEB_API_ID}/access_as_user"])
    api = cca(emu, client_id=WEB_API_ID, secret=WEB_API_SECRET)
    scopes = [f"{GRAPH_RESOURCE}/User.Read"]
    emu.reset()
    emu.inject_fault("token", "delay", seconds=0.5, times=None)
    other = json.dumps({"access_token": {"xms_ftd": {"value": "other"}}})
    results: dict[str, dict[str, Any]] = {}

    def call(name: str, claims: str | None) -> None:
        results[name] = api.acquire_token_on_behalf_of(
            user["access_token"], scopes, forwarded_client_claims=claims)

    threads = [threading.Thread(target=call, args=(name, claims)) for name, claims in
               (("a", CLIENT_CLAIMS), ("b", other), ("plain", None))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tokens = {name: r.get("access_token") for name, r in results.items()}
    assert all(tokens.values()), results
    assert len(set(tokens.values())) == 3  # three requests, three tokens
    assert len(emu.requests_to("token")) == 3
