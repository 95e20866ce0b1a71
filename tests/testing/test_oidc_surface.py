"""The rest of Entra's device-code and OIDC surface, and the Graph-shaped API the docs use."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any
from urllib.parse import urlencode

import certifi
import msal
import pytest
import requests

import entra_auth
from entra_auth import EntraAuth
from entra_auth.testing import (
    PUBLIC_CLIENT_ID,
    WEB_APP_ID,
    WEB_APP_SECRET,
    Browser,
    Emulator,
    default_web_app_certificate,
)

from .conftest import ALICE, ALICE_PASSWORD
from .helpers import REDIRECT, assert_entra_error, authorize_url, sign_assertion, token

pytestmark = pytest.mark.filterwarnings(
    "ignore:This API has been deprecated:DeprecationWarning",  # msal's ROPC warning
)


def _ropc(http: requests.Session, emu: Emulator, scope: str) -> dict[str, Any]:
    resp = token(http, emu, {"grant_type": "password", "client_id": PUBLIC_CLIENT_ID,
                             "username": ALICE, "password": ALICE_PASSWORD, "scope": scope})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _claims(jwt: str) -> dict[str, Any]:
    part = jwt.split(".")[1]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return data


# --- device code: slow_down -----------------------------------------------------------------

def test_polling_faster_than_interval_gets_slow_down(http: requests.Session,
                                                     emu: Emulator) -> None:
    emu.settings.device_poll_interval = 5
    flow = http.post(f"{emu.authority()}/oauth2/v2.0/devicecode",
                     data={"client_id": PUBLIC_CLIENT_ID, "scope": "User.Read"}, timeout=10).json()
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "client_id": PUBLIC_CLIENT_ID, "device_code": flow["device_code"]}
    assert_entra_error(token(http, emu, form), 400, "authorization_pending", 70016)
    assert_entra_error(token(http, emu, form), 400, "slow_down", 70016)
    emu.advance_clock(5 + 5)  # the interval, plus the 5 s slow_down asks for
    assert_entra_error(token(http, emu, form), 400, "authorization_pending", 70016)
    emu.advance_clock(6)  # the old interval is no longer enough: 10 s are expected now
    assert_entra_error(token(http, emu, form), 400, "slow_down", 70016)


# --- userinfo and end_session -----------------------------------------------------------------

def test_userinfo_is_served_where_discovery_says(http: requests.Session, emu: Emulator) -> None:
    config = http.get(f"{emu.authority()}/v2.0/.well-known/openid-configuration",
                      timeout=10).json()
    body = _ropc(http, emu, "openid profile User.Read")
    reply = http.get(config["userinfo_endpoint"],
                     headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=10)
    assert reply.status_code == 200, reply.text
    info = reply.json()
    assert info["sub"] == _claims(body["id_token"])["sub"]  # the id token's subject
    assert info["name"] == "Alice Example" and info["email"] == ALICE
    assert {"given_name", "family_name", "picture"} <= set(info)
    posted = http.post(config["userinfo_endpoint"],
                       headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=10)
    assert posted.json() == info


def test_userinfo_refuses_tokens_without_openid_or_without_a_token(
    http: requests.Session, emu: Emulator,
) -> None:
    url = f"{emu.base_url}/oidc/userinfo"
    no_openid = _ropc(http, emu, "User.Read")["access_token"]
    reply = http.get(url, headers={"Authorization": f"Bearer {no_openid}"}, timeout=10)
    assert reply.status_code == 403
    assert reply.json()["error"]["code"] == "Authorization_RequestDenied"
    anonymous = http.get(url, timeout=10)
    assert anonymous.status_code == 401 and "Bearer" in anonymous.headers["WWW-Authenticate"]


def test_end_session_signs_the_browser_out_and_returns(emu: Emulator) -> None:
    browser = Browser(verify=emu.ca_bundle or True)
    try:
        first = browser.authorize(authorize_url(emu), ALICE, ALICE_PASSWORD)
        assert "code" in first
        assert "code" in browser.authorize(authorize_url(emu, prompt="none"))  # SSO works
        config = browser.session.get(
            f"{emu.authority()}/v2.0/.well-known/openid-configuration", timeout=10).json()
        query = urlencode({"post_logout_redirect_uri": REDIRECT, "state": "s1",
                           "client_id": PUBLIC_CLIENT_ID})
        out = browser.session.get(f"{config['end_session_endpoint']}?{query}",
                                  allow_redirects=False, timeout=10)
        assert out.status_code == 302
        assert out.headers["Location"] == f"{REDIRECT}?state=s1"
        after = browser.authorize(authorize_url(emu, prompt="none"))
        assert after["error"] == "login_required"  # the session is gone
    finally:
        browser.close()


def test_end_session_ignores_an_unregistered_return_address(http: requests.Session,
                                                            emu: Emulator) -> None:
    query = urlencode({"post_logout_redirect_uri": "https://evil.example/after"})
    out = http.get(f"{emu.authority()}/oauth2/v2.0/logout?{query}", allow_redirects=False,
                   timeout=10)
    assert out.status_code == 200 and "Location" not in out.headers
    assert 'id="signed_out"' in out.text and "not a registered redirect URI" in out.text


# --- client assertions: jti reuse, and tenants ------------------------------------------------

def test_a_reused_client_assertion_is_accepted_as_entra_does(http: requests.Session,
                                                             emu: Emulator) -> None:
    # msal reuses one signed assertion (same jti) for up to 9 minutes, and workload identity
    # re-sends the same projected token: Entra accepts both, so the emulator does too.
    cert = default_web_app_certificate()
    assertion = sign_assertion(cert.private_key_pem, WEB_APP_ID, emu.token_endpoint(),
                               x5t=base64.urlsafe_b64encode(
                                   bytes.fromhex(cert.thumbprint_sha1)).rstrip(b"=").decode())
    form = {"grant_type": "client_credentials", "client_id": WEB_APP_ID,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion, "scope": "https://graph.microsoft.com/.default"}
    assert token(http, emu, form).status_code == 200
    assert token(http, emu, form).status_code == 200


def test_msal_certificate_app_reuses_its_assertion_across_requests(emu: Emulator) -> None:
    app = msal.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=default_web_app_certificate().msal_credential(),
        authority=emu.authority(), http_client=emu.requests_session(), instance_discovery=False)
    graph = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    api = app.acquire_token_for_client([f"api://{entra_auth.testing.WEB_API_ID}/.default"])
    assert "access_token" in graph and "access_token" in api, (graph, api)


def test_replayed_assertion_refused_when_the_setting_is_on(http: requests.Session,
                                                           emu: Emulator) -> None:
    cert = default_web_app_certificate()

    def form() -> dict[str, str]:
        assertion = sign_assertion(cert.private_key_pem, WEB_APP_ID, emu.token_endpoint(),
                                   x5t=base64.urlsafe_b64encode(
                                       bytes.fromhex(cert.thumbprint_sha1)).rstrip(b"=").decode())
        return {"grant_type": "client_credentials", "client_id": WEB_APP_ID,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion, "scope": "https://graph.microsoft.com/.default"}

    emu.settings.refuse_assertion_replay = True
    try:
        first = form()
        assert token(http, emu, first).status_code == 200
        assert_entra_error(token(http, emu, first), 401, "invalid_client", 50013)
        assert token(http, emu, form()).status_code == 200  # a fresh jti is accepted
        # entra_auth signs a fresh assertion per request: two token requests both succeed.
        app = entra_auth.ConfidentialClientApplication(
            WEB_APP_ID, client_credential=cert.msal_credential(), authority=emu.authority(),
            verify=emu.ca_bundle)
        for scope in ("https://graph.microsoft.com/.default",
                      f"api://{entra_auth.testing.WEB_API_ID}/.default"):
            result = app.acquire_token_for_client([scope])
            assert "access_token" in result, result
    finally:
        emu.settings.refuse_assertion_replay = False


@pytest.mark.parametrize("alias", ["common", "organizations"])
def test_client_credentials_need_a_tenant(http: requests.Session, emu: Emulator,
                                          alias: str) -> None:
    form = {"grant_type": "client_credentials", "client_id": WEB_APP_ID,
            "client_secret": WEB_APP_SECRET, "scope": "https://graph.microsoft.com/.default"}
    assert_entra_error(token(http, emu, form, tenant=alias), 400, "invalid_request", 50059)
    app = msal.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(alias),
        http_client=emu.requests_session(), instance_discovery=False)
    result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    assert result.get("error_codes") == [50059], result


# --- the Graph-shaped API ---------------------------------------------------------------------

def _app_token(http: requests.Session, emu: Emulator) -> str:
    resp = token(http, emu, {"grant_type": "client_credentials", "client_id": WEB_APP_ID,
                             "client_secret": WEB_APP_SECRET,
                             "scope": "https://graph.microsoft.com/.default"})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


def test_users_pages_with_next_link(http: requests.Session, emu: Emulator) -> None:
    headers = {"Authorization": f"Bearer {_app_token(http, emu)}"}
    url: str | None = f"{emu.users_url}?$top=1"
    names, pages = [], 0
    while url:
        page = http.get(url, headers=headers, timeout=10)
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["@odata.context"].endswith("$metadata#users")
        names += [u["userPrincipalName"] for u in body["value"]]
        url = body.get("@odata.nextLink")
        pages += 1
    assert names == sorted(u.username for u in emu.config.users) and pages == len(names)
    everyone = http.get(emu.users_url, headers=headers, timeout=10).json()
    assert "@odata.nextLink" not in everyone and len(everyone["value"]) == len(names)


def test_users_needs_a_directory_permission(http: requests.Session, emu: Emulator) -> None:
    user_read = _ropc(http, emu, "User.Read")["access_token"]
    reply = http.get(emu.users_url, headers={"Authorization": f"Bearer {user_read}"},
                     timeout=10)
    assert reply.status_code == 403
    bad = http.get(f"{emu.users_url}?$top=0",
                   headers={"Authorization": f"Bearer {_app_token(http, emu)}"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "Request_BadRequest"


def test_throttled_endpoint_answers_429_with_retry_after(http: requests.Session,
                                                         emu: Emulator) -> None:
    headers = {"Authorization": f"Bearer {_app_token(http, emu)}"}
    url = f"{emu.throttled_url}?key=t1&fail=2&retry_after=7"
    for _ in range(2):
        reply = http.get(url, headers=headers, timeout=10)
        assert reply.status_code == 429 and reply.headers["Retry-After"] == "7"
        assert reply.json()["error"]["code"] == "TooManyRequests"
    assert http.get(url, headers=headers, timeout=10).json() == {
        "key": "t1", "attempt": 3, "throttled_before": 2}


# --- one documented way to point code at the emulator -----------------------------------------

def _signed_in_app(emu: Emulator) -> Any:
    app = entra_auth.PublicClientApplication(PUBLIC_CLIENT_ID, authority=emu.authority(),
                                             verify=emu.ca_bundle)
    assert "access_token" in app.acquire_token_by_username_password(
        ALICE, ALICE_PASSWORD, ["User.Read"])
    return app


def test_api_session_runs_graph_code_unchanged(emu: Emulator,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())  # a CA that doesn't know it
    session = emu.api_session(EntraAuth(_signed_in_app(emu), ["User.Read"]))
    me = session.get("https://graph.microsoft.com/v1.0/me", timeout=10)
    assert me.status_code == 200, me.text
    assert me.json()["userPrincipalName"] == ALICE
    assert emu.requests_to("graph")[-1].path == "/v1.0/me"


def test_httpx_clients_run_graph_code_unchanged(emu: Emulator) -> None:
    auth = EntraAuth(_signed_in_app(emu), ["User.Read"])
    with emu.httpx_client(auth) as client:
        assert client.get("https://graph.microsoft.com/v1.0/me").json()["id"]

    async def main() -> int:
        async with emu.httpx_client(auth, asynchronous=True) as client:
            reply = await client.get("https://graph.microsoft.com/v1.0/me")
            return int(reply.status_code)

    assert asyncio.run(main()) == 200


def test_auto_approve_completes_a_device_code_flow_unattended(emu: Emulator) -> None:
    emu.settings.auto_approve = True
    app = msal.PublicClientApplication(PUBLIC_CLIENT_ID, authority=emu.authority(),
                                       http_client=emu.requests_session(),
                                       instance_discovery=False)
    flow = app.initiate_device_flow(["User.Read"])
    result = app.acquire_token_by_device_flow(flow)
    claims = result.get("id_token_claims", {})
    assert claims.get("preferred_username") == emu.config.users[0].username, result
    assert len(emu.requests_to("token")) == 1  # approved before the first poll
