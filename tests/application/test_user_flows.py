"""User flows end to end against the emulator, with the wire checked in its request log."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fake_time import FakeTime

import entra_auth as msal
from entra_auth.testing import (
    FAMILY_APP_ID,
    GRAPH_RESOURCE,
    PUBLIC_CLIENT_ID,
    WEB_APP_ID,
    WEB_APP_SECRET,
    Browser,
    Emulator,
)

from .conftest import ALICE, ALICE_PW, USER_READ, public_app, sign_in


def test_password_grant_wire_and_silent_cache_hit(emu: Emulator) -> None:
    app = public_app(emu, app_name="demo-app", app_version="1.2")
    result = sign_in(app)
    assert result["token_source"] == "identity_provider"
    assert result["id_token_claims"]["preferred_username"] == ALICE
    [realm] = emu.requests_to("userrealm")
    assert realm.query == {"api-version": "1.0"}
    [token] = emu.requests_to("token")
    assert token.form["grant_type"] == "password" and token.form["client_info"] == "1"
    assert token.form["scope"] == f"{USER_READ} offline_access openid profile"
    assert token.form["client_id"] == PUBLIC_CLIENT_ID and token.form["username"] == ALICE
    assert token.headers["accept"] == "application/json"
    assert token.headers["x-ms-lib-capability"] == "retry-after, h429"
    assert token.headers["x-app-name"] == "demo-app" and token.headers["x-app-ver"] == "1.2"
    for header in ("x-client-sku", "x-client-ver", "x-client-os", "client-request-id"):
        assert token.headers[header]
    [account] = app.get_accounts(username=ALICE.upper())
    assert account["username"] == ALICE
    again = app.acquire_token_silent([USER_READ], account)
    assert again["token_source"] == "cache" and again["access_token"] == result["access_token"]
    assert len(emu.requests_to("token")) == 1
    forced = app.acquire_token_silent([USER_READ], account, force_refresh=True)
    assert forced["token_source"] == "identity_provider"
    refresh = emu.requests_to("token")[-1]
    assert refresh.form["grant_type"] == "refresh_token"
    assert app.get_accounts(username="nobody@contoso.onmicrosoft.com") == []


def test_auth_code_flow_with_pkce_nonce_and_state(emu: Emulator) -> None:
    app = public_app(emu)
    flow = app.initiate_auth_code_flow([USER_READ], redirect_uri="http://localhost",
                                       max_age=3600, login_hint=ALICE)
    query = parse_qs(urlsplit(flow["auth_uri"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["state"] == [flow["state"]]
    browser = Browser(verify=emu.ca_bundle or True)
    try:
        response = browser.authorize(flow["auth_uri"], ALICE, ALICE_PW)
    finally:
        browser.close()
    with pytest.raises(ValueError, match="state"):
        app.acquire_token_by_auth_code_flow(flow, dict(response, state="forged"))
    result = app.acquire_token_by_auth_code_flow(flow, response)
    assert "access_token" in result, result
    [token] = emu.requests_to("token")
    assert token.form["grant_type"] == "authorization_code"
    assert token.form["redirect_uri"] == "http://localhost" and token.form["code_verifier"]
    assert app.get_accounts()[0]["username"] == ALICE
    denied = app.acquire_token_by_auth_code_flow(
        flow, {"state": flow["state"], "error": "access_denied"})
    assert denied["error"] == "access_denied"


def test_authorization_request_url_and_code(emu: Emulator) -> None:
    app = msal.ConfidentialClientApplication(
        WEB_APP_ID, WEB_APP_SECRET, authority=emu.authority(), verify=emu.ca_bundle)
    url = app.get_authorization_request_url(
        [USER_READ], redirect_uri="http://localhost/callback", state="s1", nonce="n1",
        login_hint=ALICE)
    query = parse_qs(urlsplit(url).query)
    assert query["state"] == ["s1"] and query["nonce"] == ["n1"]
    browser = Browser(verify=emu.ca_bundle or True)
    try:
        response = browser.authorize(url, ALICE, ALICE_PW)
    finally:
        browser.close()
    result = app.acquire_token_by_authorization_code(
        response["code"], [USER_READ], redirect_uri="http://localhost/callback", nonce="n1")
    assert "access_token" in result, result
    [token] = emu.requests_to("token")
    assert token.form["client_secret"] != WEB_APP_SECRET  # redacted in the log, but sent


def test_device_flow_polls_until_signed_in(emu: Emulator) -> None:
    emu.settings.device_poll_interval = 1
    fake = FakeTime(emu)  # the app's clock is the emulator's; its sleeps advance both

    def sleep(seconds: float) -> None:
        fake.sleep(seconds)
        if len(fake.slept) == 1:  # while the app waits after the first poll
            user_on_phone()

    app = public_app(emu, clock=fake, sleep=sleep)
    flow = app.initiate_device_flow([USER_READ])
    assert flow["user_code"] in flow["message"]
    [devicecode] = emu.requests_to("devicecode")
    assert devicecode.form["client_id"] == PUBLIC_CLIENT_ID

    def user_on_phone() -> None:
        browser = Browser(verify=emu.ca_bundle or True)
        try:
            browser.enter_device_code(flow["user_code"], ALICE, ALICE_PW,
                                      verification_uri=flow["verification_uri"])
        finally:
            browser.close()

    result = app.acquire_token_by_device_flow(flow)
    assert "access_token" in result, result
    polls = [r for r in emu.requests_to("token")
             if r.form.get("grant_type") == "urn:ietf:params:oauth:grant-type:device_code"]
    assert len(polls) >= 1 and all(r.form["device_code"] for r in polls)
    assert [p.status for p in polls] == [400, 200]  # pending, then the token
    assert fake.slept == [1.0]  # the server's interval between the two polls


def test_device_flow_abort_by_expires_at(emu: Emulator) -> None:
    emu.settings.device_poll_interval = 1
    fake = FakeTime(emu)

    def sleep(seconds: float) -> None:
        fake.sleep(seconds)
        flow["expires_at"] = 0  # the caller aborts while the app waits

    app = public_app(emu, clock=fake, sleep=sleep)
    flow = app.initiate_device_flow([USER_READ])
    result = app.acquire_token_by_device_flow(flow)
    assert result["error"] == "authorization_pending"
    assert fake.slept == [1.0] and len(emu.requests_to("token")) == 1  # no poll after it


def test_refresh_token_migration(emu: Emulator) -> None:
    first = sign_in(public_app(emu))
    app = public_app(emu)  # a fresh app with an empty cache
    result = app.acquire_token_by_refresh_token(first["refresh_token"], [USER_READ])
    assert "access_token" in result, result
    assert emu.requests_to("token")[-1].form["grant_type"] == "refresh_token"
    [account] = app.get_accounts()
    assert app.acquire_token_silent([USER_READ], account)["token_source"] == "cache"


def test_family_refresh_token_serves_another_family_app(emu: Emulator) -> None:
    cache = msal.TokenCache()
    sign_in(public_app(emu, token_cache=cache))
    sibling = public_app(emu, FAMILY_APP_ID, token_cache=cache)
    [account] = sibling.get_accounts()
    result = sibling.acquire_token_silent_with_error([USER_READ], account)
    assert result is not None and "access_token" in result, result
    refresh = emu.requests_to("token")[-1]
    assert refresh.form["grant_type"] == "refresh_token"
    assert refresh.form["client_id"] == FAMILY_APP_ID


def test_remove_account(emu: Emulator) -> None:
    app = public_app(emu)
    sign_in(app)
    [account] = app.get_accounts()
    app.remove_account(account)
    assert app.get_accounts() == []
    assert app.acquire_token_silent([USER_READ], account) is None


def test_claims_challenge_and_capabilities_on_the_wire(emu: Emulator) -> None:
    app = public_app(emu, client_capabilities=["CP1"])
    sign_in(app)
    import json

    sent = json.loads(emu.requests_to("token")[-1].form["claims"])
    assert sent == {"access_token": {"xms_cc": {"values": ["CP1"]}}}
    [account] = app.get_accounts()
    challenge = '{"access_token":{"nbf":{"essential":true,"value":"1"}}}'
    result = app.acquire_token_silent_with_error([USER_READ], account,
                                                 claims_challenge=challenge)
    assert result is not None and result["token_source"] == "identity_provider"
    sent = json.loads(emu.requests_to("token")[-1].form["claims"])
    assert sent["access_token"]["nbf"] == {"essential": True, "value": "1"}
    assert sent["access_token"]["xms_cc"] == {"values": ["CP1"]}


def test_exclude_scopes(emu: Emulator) -> None:
    app = public_app(emu, exclude_scopes=["offline_access"])
    sign_in(app)
    assert "offline_access" not in emu.requests_to("token")[-1].form["scope"].split()
    with pytest.raises(ValueError, match="openid"):
        public_app(emu, exclude_scopes=["openid"])


def test_user_read_short_scope_cache_interplay(emu: Emulator) -> None:
    app = public_app(emu)
    sign_in(app, ["User.Read"])
    [account] = app.get_accounts()
    hit: dict[str, Any] = app.acquire_token_silent([f"{GRAPH_RESOURCE}/User.Read"], account)
    assert hit["token_source"] == "cache"
