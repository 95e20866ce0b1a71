"""The authorize endpoint, its sign-in pages, and the browser-playing helpers."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests

from entra_auth.testing import (
    PUBLIC_CLIENT_ID,
    Browser,
    Emulator,
    SignInError,
    complete_authorization,
)

from .conftest import ALICE, ALICE_PASSWORD, BOB, BOB_PASSWORD
from .helpers import REDIRECT, authorize_url, pkce_pair, token


def _redirect_params(http: requests.Session, url: str) -> dict[str, list[str]]:
    resp = http.get(url, allow_redirects=False, timeout=10)
    assert resp.status_code == 302, resp.text
    location = resp.headers["location"]
    assert location.startswith(REDIRECT)
    return parse_qs(urlsplit(location).query)


def test_login_page_is_a_plain_form(http: requests.Session, emu: Emulator) -> None:
    page = http.get(authorize_url(emu, login_hint=ALICE), timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for marker in ('id="username"', 'id="password"', 'id="submit"', f'value="{ALICE}"'):
        assert marker in page.text
    assert "http" not in page.text.split("<body>")[1].replace(emu.base_url, "")  # no assets


@pytest.mark.parametrize(("url_params", "code"), [
    ({"client_id": str(uuid.uuid4())}, 700016),
    ({"redirect_uri": "https://evil.test/cb"}, 50011),
    ({"client_id": ""}, 900144),
])
def test_unsafe_errors_show_a_page(http: requests.Session, emu: Emulator,
                                   url_params: dict[str, str], code: int) -> None:
    resp = http.get(authorize_url(emu, **url_params), allow_redirects=False, timeout=10)
    assert resp.status_code == 400
    assert f"AADSTS{code}:" in resp.text


def test_unknown_tenant_shows_a_page(http: requests.Session, emu: Emulator) -> None:
    url = authorize_url(emu).replace(emu.tenant_id, "nosuch.example")
    resp = http.get(url, allow_redirects=False, timeout=10)
    assert resp.status_code == 400 and "AADSTS90002:" in resp.text


@pytest.mark.parametrize(("url_params", "error", "code"), [
    ({"response_type": ""}, "invalid_request", 900144),
    ({"response_type": "token"}, "unsupported_response_type", 700054),
    ({"scope": "openid Bogus.Scope"}, "invalid_scope", 70011),
    ({"scope": ""}, "invalid_request", 900144),
    ({"prompt": "sometimes"}, "invalid_request", 90023),
    ({"prompt": "none"}, "login_required", 50058),
    ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request", 501491),
    ({"response_mode": "carrier_pigeon"}, "invalid_request", 9002313),
    ({"max_age": "-1"}, "invalid_request", 9002313),
])
def test_errors_are_redirected_to_the_app(http: requests.Session, emu: Emulator,
                                          url_params: dict[str, str], error: str,
                                          code: int) -> None:
    params = _redirect_params(http, authorize_url(emu, **url_params))
    assert params["error"] == [error]
    assert params["error_description"][0].startswith(f"AADSTS{code}: ")
    assert params["error_codes"] == [str(code)]
    assert params["state"] == ["st4te"]


def test_wrong_password_and_wrong_mfa_code(emu: Emulator) -> None:
    with pytest.raises(SignInError, match="AADSTS50126"):
        complete_authorization(authorize_url(emu), ALICE, "wrong", verify=emu.ca_bundle or True)
    with pytest.raises(SignInError, match="AADSTS50034"):
        complete_authorization(authorize_url(emu), "ghost@contoso.onmicrosoft.com", "x",
                               verify=emu.ca_bundle or True)
    with pytest.raises(SignInError, match="AADSTS500121"):
        complete_authorization(authorize_url(emu), BOB, BOB_PASSWORD, mfa_code="000000",
                               verify=emu.ca_bundle or True)
    with pytest.raises(SignInError, match="MFA code"):
        complete_authorization(authorize_url(emu), BOB, BOB_PASSWORD,
                               verify=emu.ca_bundle or True)


def test_consent_page_accept_and_decline(emu: Emulator) -> None:
    url = authorize_url(emu, scope="openid Mail.Read")
    declined = complete_authorization(url, ALICE, ALICE_PASSWORD, consent=False,
                                      verify=emu.ca_bundle or True)
    assert declined["error"] == "access_denied"
    assert declined["error_description"].startswith("AADSTS65004: ")
    accepted = complete_authorization(url, ALICE, ALICE_PASSWORD, verify=emu.ca_bundle or True)
    assert "code" in accepted
    # Consent is remembered: a non-interactive grant for that scope now works.
    browser = Browser(emu.ca_bundle or True)
    again = browser.authorize(url, ALICE, ALICE_PASSWORD, consent=False)
    assert "code" in again


def test_session_sso_prompt_none_and_prompt_login(emu: Emulator) -> None:
    browser = Browser(emu.ca_bundle or True)
    first = browser.authorize(authorize_url(emu), ALICE, ALICE_PASSWORD)
    assert "code" in first
    silent = browser.authorize(authorize_url(emu, prompt="none"))  # no credentials needed
    assert "code" in silent and silent["state"] == "st4te"
    with pytest.raises(SignInError, match="username and password"):
        browser.authorize(authorize_url(emu, prompt="login"))
    emu.revoke_sessions(ALICE)
    assert browser.authorize(authorize_url(emu, prompt="none"))["error"] == "login_required"


def test_prompt_none_needing_consent(emu: Emulator) -> None:
    browser = Browser(emu.ca_bundle or True)
    browser.authorize(authorize_url(emu), ALICE, ALICE_PASSWORD)
    result = browser.authorize(authorize_url(emu, prompt="none", scope="openid Mail.Read"))
    assert result["error"] == "consent_required"


def test_max_age_forces_reauthentication_and_sets_auth_time(http: requests.Session,
                                                             emu: Emulator) -> None:
    browser = Browser(emu.ca_bundle or True)
    verifier, challenge = pkce_pair()
    browser.authorize(authorize_url(emu), ALICE, ALICE_PASSWORD)
    emu.advance_clock(120)
    with pytest.raises(SignInError, match="username and password"):
        browser.authorize(authorize_url(emu, max_age="60"))
    result = browser.authorize(authorize_url(emu, max_age="60", code_challenge=challenge,
                                             code_challenge_method="S256"),
                               ALICE, ALICE_PASSWORD)
    body = token(http, emu, {"grant_type": "authorization_code", "client_id": PUBLIC_CLIENT_ID,
                             "code": result["code"], "redirect_uri": REDIRECT,
                             "code_verifier": verifier,
                             "scope": "openid profile User.Read"}).json()
    claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert abs(claims["auth_time"] - emu.now()) < 5
    assert "refresh_token" not in body  # offline_access was not asked for


def test_response_modes(emu: Emulator) -> None:
    verify = emu.ca_bundle or True
    fragment = complete_authorization(authorize_url(emu, response_mode="fragment"), ALICE,
                                      ALICE_PASSWORD, verify=verify)
    posted = complete_authorization(authorize_url(emu, response_mode="form_post",
                                                  client_info="1"),
                                    ALICE, ALICE_PASSWORD, verify=verify)
    assert "code" in fragment and fragment["state"] == "st4te"
    assert {"code", "state", "client_info", "session_state"} <= set(posted)


def test_auto_approve_and_login_hint(http: requests.Session, emu: Emulator) -> None:
    emu.settings.auto_approve = True
    params = _redirect_params(http, authorize_url(emu, login_hint=BOB, client_info="1",
                                                  scope="openid Mail.Read"))
    assert "code" in params and params["state"] == ["st4te"]
    body = token(http, emu, {"grant_type": "authorization_code", "client_id": PUBLIC_CLIENT_ID,
                             "code": params["code"][0], "redirect_uri": REDIRECT,
                             "scope": "openid Mail.Read"}).json()
    claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert claims["preferred_username"] == BOB


def test_stale_form_context_is_an_error_page(http: requests.Session, emu: Emulator) -> None:
    resp = http.post(f"{emu.authority()}/oauth2/v2.0/authorize",
                     data={"ctx": "forged", "step": "login"}, timeout=10)
    assert resp.status_code == 400 and "AADSTS" in resp.text


def test_device_login_page_rejects_bad_codes(emu: Emulator) -> None:
    browser = Browser(emu.ca_bundle or True)
    with pytest.raises(SignInError, match="didn't work"):
        browser.enter_device_code("WRONGCODE", ALICE, ALICE_PASSWORD,
                                  verification_uri=emu.device_login_url)


def test_device_login_decline_and_mfa(http: requests.Session, emu: Emulator) -> None:
    def start(scope: str) -> dict[str, str]:
        return http.post(f"{emu.authority()}/oauth2/v2.0/devicecode",  # type: ignore[no-any-return]
                         data={"client_id": PUBLIC_CLIENT_ID, "scope": scope}, timeout=10).json()

    def poll(flow: dict[str, str]) -> requests.Response:
        return token(http, emu, {"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                                 "client_id": PUBLIC_CLIENT_ID,
                                 "device_code": flow["device_code"]})

    declined = start("openid Mail.Read")
    Browser(emu.ca_bundle or True).enter_device_code(
        declined["user_code"], ALICE, ALICE_PASSWORD, consent=False,
        verification_uri=declined["verification_uri"])
    assert poll(declined).json()["error"] == "authorization_declined"
    approved = start("openid offline_access User.Read")
    Browser(emu.ca_bundle or True).enter_device_code(
        approved["user_code"].lower(), BOB, BOB_PASSWORD, mfa_code="123456",
        verification_uri=approved["verification_uri"])
    body = poll(approved).json()
    assert "access_token" in body and "refresh_token" in body
    assert poll(approved).json()["error_codes"] == [54005]
