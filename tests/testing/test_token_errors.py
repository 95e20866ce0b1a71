"""The token endpoint answers bad input with Entra's error shape and AADSTS codes."""

from __future__ import annotations

import uuid

import pytest
import requests

from entra_auth.testing import (
    FAMILY_APP_ID,
    PUBLIC_CLIENT_ID,
    WEB_API_ID,
    WEB_API_SECRET,
    WEB_APP_ID,
    WEB_APP_SECRET,
    Emulator,
    default_web_app_certificate,
    generate_client_certificate,
)

from .conftest import ALICE, ALICE_PASSWORD, BOB, BOB_PASSWORD
from .helpers import (
    REDIRECT,
    assert_entra_error,
    get_code,
    pkce_pair,
    sign_assertion,
    token,
    x5t_of,
)

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
USER_SCOPE = "openid profile offline_access User.Read"


def _ropc(http: requests.Session, emu: Emulator, username: str = ALICE,
          password: str = ALICE_PASSWORD, scope: str = USER_SCOPE,
          client_id: str = PUBLIC_CLIENT_ID) -> requests.Response:
    return token(http, emu, {"grant_type": "password", "client_id": client_id,
                             "username": username, "password": password, "scope": scope,
                             "client_info": "1"})


def test_correlation_id_is_echoed(http: requests.Session, emu: Emulator) -> None:
    cid = str(uuid.uuid4())
    resp = token(http, emu, {"client_id": PUBLIC_CLIENT_ID}, headers={"client-request-id": cid})
    body = assert_entra_error(resp, 400, "invalid_request", 900144, correlation_id=cid)
    assert "'grant_type'" in body["error_description"]


@pytest.mark.parametrize(("form", "status", "error", "code"), [
    ({"client_id": PUBLIC_CLIENT_ID}, 400, "invalid_request", 900144),
    ({"grant_type": "password"}, 400, "invalid_request", 900144),
    ({"grant_type": "magic", "client_id": PUBLIC_CLIENT_ID}, 400, "unsupported_grant_type",
     70003),
    ({"grant_type": "client_credentials", "client_id": str(uuid.uuid4()),
      "scope": "https://graph.microsoft.com/.default"}, 400, "unauthorized_client", 700016),
    ({"grant_type": "client_credentials", "client_id": WEB_APP_ID, "client_secret": "wrong",
      "scope": "https://graph.microsoft.com/.default"}, 401, "invalid_client", 7000215),
    ({"grant_type": "client_credentials", "client_id": WEB_APP_ID,
      "scope": "https://graph.microsoft.com/.default"}, 401, "invalid_client", 7000218),
    ({"grant_type": "password", "client_id": PUBLIC_CLIENT_ID, "client_secret": "x",
      "username": ALICE, "password": ALICE_PASSWORD, "scope": USER_SCOPE}, 401,
     "invalid_client", 700025),
    ({"grant_type": "client_credentials", "client_id": WEB_APP_ID,
      "client_secret": WEB_APP_SECRET, "scope": "User.Read"}, 400, "invalid_scope", 1002012),
    ({"grant_type": "client_credentials", "client_id": WEB_APP_ID,
      "client_secret": WEB_APP_SECRET, "scope": "https://nowhere.test/.default"}, 400,
     "invalid_resource", 500011),
    ({"grant_type": "client_credentials", "client_id": WEB_APP_ID,
      "client_secret": WEB_APP_SECRET}, 400, "invalid_request", 900144),
    ({"grant_type": "client_credentials", "client_id": WEB_APP_ID,
      "client_secret": WEB_APP_SECRET, "scope": "https://graph.microsoft.com/.default",
      "claims": "{not json"}, 400, "invalid_request", 9002313),
    ({"grant_type": "client_credentials", "client_id": WEB_APP_ID,
      "client_assertion": "abc"}, 400, "invalid_request", 900144),
])
def test_request_errors(http: requests.Session, emu: Emulator, form: dict[str, str],
                        status: int, error: str, code: int) -> None:
    assert_entra_error(token(http, emu, form), status, error, code)


def test_unknown_tenant(http: requests.Session, emu: Emulator) -> None:
    resp = token(http, emu, {"grant_type": "client_credentials", "client_id": WEB_APP_ID},
                 tenant="nosuchtenant.onmicrosoft.com")
    assert_entra_error(resp, 400, "invalid_tenant", 90002)


def test_get_on_token_endpoint(http: requests.Session, emu: Emulator) -> None:
    resp = http.get(emu.token_endpoint(), timeout=10)
    assert_entra_error(resp, 400, "invalid_request", 900561)


def test_client_secret_basic_is_accepted(http: requests.Session, emu: Emulator) -> None:
    resp = token(http, emu, {"grant_type": "client_credentials",
                             "scope": "https://graph.microsoft.com/.default"},
                 auth=(WEB_APP_ID, WEB_APP_SECRET))
    assert resp.status_code == 200, resp.text


# --- client assertions --------------------------------------------------------------------

def _assertion_form(assertion: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": WEB_APP_ID,
            "scope": "https://graph.microsoft.com/.default",
            "client_assertion_type": JWT_BEARER, "client_assertion": assertion}


def test_pre_signed_assertion_is_accepted(http: requests.Session, emu: Emulator) -> None:
    cert = default_web_app_certificate()
    assertion = sign_assertion(cert.private_key_pem, WEB_APP_ID, emu.token_endpoint(),
                               x5t=x5t_of(cert.thumbprint_sha1))
    resp = token(http, emu, _assertion_form(assertion))
    assert resp.status_code == 200, resp.text
    assert resp.json()["token_type"] == "Bearer"


def test_assertion_audience_may_use_tenant_domain(http: requests.Session, emu: Emulator) -> None:
    cert = default_web_app_certificate()
    audience = f"{emu.base_url}/contoso.onmicrosoft.com/oauth2/v2.0/token"
    assertion = sign_assertion(cert.private_key_pem, WEB_APP_ID, audience,
                               x5t=x5t_of(cert.thumbprint_sha1))
    assert token(http, emu, _assertion_form(assertion)).status_code == 200


def test_assertion_errors(http: requests.Session, emu: Emulator) -> None:
    cert = default_web_app_certificate()
    x5t = x5t_of(cert.thumbprint_sha1)
    aud = emu.token_endpoint()
    stranger = generate_client_certificate("stranger")
    assert_entra_error(token(http, emu, _assertion_form("not-a-jwt")), 400, "invalid_request",
                       50027)
    cases = [
        (sign_assertion(stranger.private_key_pem, WEB_APP_ID, aud,
                        x5t=x5t_of(stranger.thumbprint_sha1)), 700027),  # unregistered key
        (sign_assertion(stranger.private_key_pem, WEB_APP_ID, aud, x5t=x5t), 700027),  # forged
        (sign_assertion(cert.private_key_pem, WEB_APP_ID, aud, x5t=x5t,
                        issuer=WEB_API_ID), 700021),
        (sign_assertion(cert.private_key_pem, WEB_APP_ID, "https://elsewhere.test/token",
                        x5t=x5t), 700023),
        (sign_assertion(cert.private_key_pem, WEB_APP_ID, aud, x5t=x5t, lifetime=-900),
         700024),
        (sign_assertion("k" * 32, WEB_APP_ID, aud, x5t=x5t, algorithm="HS256"), 5002738),
    ]
    for assertion, code in cases:
        assert_entra_error(token(http, emu, _assertion_form(assertion)), 401,
                           "invalid_client", code)
    no_audience = sign_assertion(cert.private_key_pem, WEB_APP_ID, "", x5t=x5t)
    assert_entra_error(token(http, emu, _assertion_form(no_audience)), 400, "invalid_request",
                       90014)
    assert emu.tokens_issued == 0


# --- authorization code -------------------------------------------------------------------

def _redeem(http: requests.Session, emu: Emulator, code: str, verifier: str | None,
            redirect_uri: str = REDIRECT, client_id: str = PUBLIC_CLIENT_ID) -> requests.Response:
    form = {"grant_type": "authorization_code", "client_id": client_id, "code": code,
            "redirect_uri": redirect_uri, "scope": USER_SCOPE}
    if verifier is not None:
        form["code_verifier"] = verifier
    return token(http, emu, form)


def test_code_redeemed_once_with_pkce(http: requests.Session, emu: Emulator) -> None:
    verifier, challenge = pkce_pair()
    code = get_code(emu, ALICE, ALICE_PASSWORD, challenge)
    assert _redeem(http, emu, code, verifier).status_code == 200
    assert_entra_error(_redeem(http, emu, code, verifier), 400, "invalid_grant", 54005)


def test_code_errors(http: requests.Session, emu: Emulator) -> None:
    verifier, challenge = pkce_pair()
    code = get_code(emu, ALICE, ALICE_PASSWORD, challenge)
    assert_entra_error(_redeem(http, emu, "garbage", verifier), 400, "invalid_grant", 9002313)
    assert_entra_error(_redeem(http, emu, code, None), 400, "invalid_grant", 50148)
    assert_entra_error(_redeem(http, emu, code, "x" * 50), 400, "invalid_grant", 501481)
    assert_entra_error(_redeem(http, emu, code, verifier, redirect_uri="http://localhost/other"),
                       400, "invalid_grant", 500112)
    assert_entra_error(_redeem(http, emu, code, verifier, client_id=FAMILY_APP_ID),
                       400, "invalid_grant", 70000)
    resp = token(http, emu, {"grant_type": "authorization_code", "client_id": PUBLIC_CLIENT_ID,
                             "redirect_uri": REDIRECT})
    assert_entra_error(resp, 400, "invalid_request", 900144)
    emu.advance_clock(emu.settings.auth_code_lifetime + 1)
    assert_entra_error(_redeem(http, emu, code, verifier), 400, "invalid_grant", 70008)


# --- refresh token ------------------------------------------------------------------------

def _refresh(http: requests.Session, emu: Emulator, rt: str,
             client_id: str = PUBLIC_CLIENT_ID, **extra: str) -> requests.Response:
    form = {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": rt,
            "scope": USER_SCOPE, "client_info": "1", **extra}
    return token(http, emu, form)


def test_refresh_rotation(http: requests.Session, emu: Emulator) -> None:
    rt = _ropc(http, emu).json()["refresh_token"]
    rotated = _refresh(http, emu, rt).json()["refresh_token"]
    assert rotated != rt
    assert _refresh(http, emu, rt).status_code == 200  # Entra keeps the old one valid
    emu.settings.revoke_rotated_refresh_tokens = True
    assert _refresh(http, emu, rotated).status_code == 200
    assert_entra_error(_refresh(http, emu, rotated), 400, "invalid_grant", 50173)


def test_refresh_errors(http: requests.Session, emu: Emulator) -> None:
    rt = _ropc(http, emu).json()["refresh_token"]
    assert_entra_error(_refresh(http, emu, "garbage"), 400, "invalid_grant", 9002313)
    assert_entra_error(_refresh(http, emu, rt, client_id=WEB_API_ID,
                                client_secret=WEB_API_SECRET), 400, "invalid_grant", 70000)
    emu.require_mfa(ALICE)
    body = assert_entra_error(_refresh(http, emu, rt), 400, "interaction_required", 50076)
    assert "suberror" not in body
    emu.require_mfa(ALICE, False)
    emu.advance_clock(emu.settings.refresh_token_lifetime + 1)
    assert_entra_error(_refresh(http, emu, rt), 400, "invalid_grant", 700082)


def test_revoked_refresh_token(http: requests.Session, emu: Emulator) -> None:
    rt = _ropc(http, emu).json()["refresh_token"]
    emu.revoke_sessions(ALICE)
    assert_entra_error(_refresh(http, emu, rt), 400, "invalid_grant", 50173)


# --- password -----------------------------------------------------------------------------

def test_password_errors(http: requests.Session, emu: Emulator) -> None:
    assert_entra_error(_ropc(http, emu, password="nope"), 400, "invalid_grant", 50126)
    assert_entra_error(_ropc(http, emu, username="nobody@contoso.onmicrosoft.com"), 400,
                       "invalid_grant", 50034)
    assert_entra_error(_ropc(http, emu, BOB, BOB_PASSWORD), 400, "interaction_required", 50076)
    body = assert_entra_error(_ropc(http, emu, scope="openid Mail.Read"), 400, "invalid_grant",
                              65001)
    assert body["suberror"] == "consent_required"
    assert_entra_error(_ropc(http, emu, scope="User.Read https://graph.microsoft.com/Mail.Read "
                                             f"api://{WEB_API_ID}/access_as_user"),
                       400, "invalid_scope", 28000)
    assert_entra_error(_ropc(http, emu, scope="openid Nonexistent.Scope"), 400,
                       "invalid_scope", 70011)
    resp = token(http, emu, {"grant_type": "password", "client_id": PUBLIC_CLIENT_ID,
                             "username": ALICE, "scope": USER_SCOPE})
    assert_entra_error(resp, 400, "invalid_request", 900144)
    for entry in emu.requests_to("token"):
        assert entry.form.get("password") in (None, "<redacted>")


def test_password_grant_issues_entra_response(http: requests.Session, emu: Emulator) -> None:
    body = _ropc(http, emu).json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["ext_expires_in"] == 3600 and body["foci"] == "1"
    assert set(body["scope"].split()) == {"User.Read", "openid", "profile"}
    assert {"access_token", "refresh_token", "id_token", "client_info"} <= set(body)
    emu.settings.refresh_in = 1800
    assert _ropc(http, emu).json()["refresh_in"] == 1800


# --- on-behalf-of -------------------------------------------------------------------------

def _obo(http: requests.Session, emu: Emulator, assertion: str,
         **extra: str) -> requests.Response:
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "client_id": WEB_API_ID, "client_secret": WEB_API_SECRET, "assertion": assertion,
            "requested_token_use": "on_behalf_of", "scope": "User.Read openid", **extra}
    return token(http, emu, form)


def test_on_behalf_of_errors(http: requests.Session, emu: Emulator) -> None:
    api_token = _ropc(http, emu, scope=f"api://{WEB_API_ID}/access_as_user").json()
    graph_token = _ropc(http, emu).json()["access_token"]
    assert _obo(http, emu, api_token["access_token"]).status_code == 200
    assert_entra_error(_obo(http, emu, graph_token), 400, "invalid_grant", 500131)  # audience
    head, payload, signature = api_token["access_token"].split(".")
    tampered = f"{head}.{payload}.{signature[:-6]}AAAAAA"
    assert_entra_error(_obo(http, emu, tampered), 400, "invalid_grant", 50013)
    assert_entra_error(_obo(http, emu, api_token["access_token"], requested_token_use=""),
                       400, "invalid_request", 900144)
    emu.advance_clock(emu.settings.access_token_lifetime + 1)
    assert_entra_error(_obo(http, emu, api_token["access_token"]), 400, "invalid_grant",
                       500133)


def test_on_behalf_of_after_cae_events(http: requests.Session, emu: Emulator) -> None:
    assertion = _ropc(http, emu, scope=f"api://{WEB_API_ID}/access_as_user").json()
    claims = '{"access_token":{"nbf":{"essential":true,"value":"1"}}}'
    emu.revoke_access_tokens(ALICE)  # mild: the middle tier's retry with the claims works
    retried = _obo(http, emu, assertion["access_token"], claims=claims)
    assert retried.status_code == 200, retried.text
    emu.revoke_sessions(ALICE)  # critical: the assertion itself is revoked
    assert_entra_error(_obo(http, emu, assertion["access_token"], claims=claims), 400,
                       "invalid_grant", 50173)


# --- device code --------------------------------------------------------------------------

def _devicecode(http: requests.Session, emu: Emulator, **form: str) -> requests.Response:
    data = {"client_id": PUBLIC_CLIENT_ID, "scope": USER_SCOPE}
    data.update(form)
    return http.post(f"{emu.authority()}/oauth2/v2.0/devicecode", data=data, timeout=10)


def _poll(http: requests.Session, emu: Emulator, device_code: str) -> requests.Response:
    return token(http, emu, {"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                             "client_id": PUBLIC_CLIENT_ID, "device_code": device_code})


def test_device_code_errors(http: requests.Session, emu: Emulator) -> None:
    flow = _devicecode(http, emu).json()
    assert flow["expires_in"] == emu.settings.device_code_lifetime
    assert flow["verification_uri"] == emu.device_login_url
    assert_entra_error(_poll(http, emu, flow["device_code"]), 400, "authorization_pending",
                       70016)
    assert_entra_error(_poll(http, emu, "garbage"), 400, "bad_verification_code", 70018)
    emu.advance_clock(emu.settings.device_code_lifetime + 1)
    assert_entra_error(_poll(http, emu, flow["device_code"]), 400, "expired_token", 70019)


def test_devicecode_endpoint_errors(http: requests.Session, emu: Emulator) -> None:
    assert_entra_error(_devicecode(http, emu, client_id=""), 400, "invalid_request", 900144)
    assert_entra_error(_devicecode(http, emu, scope=""), 400, "invalid_request", 900144)
    assert_entra_error(_devicecode(http, emu, client_id=str(uuid.uuid4())), 400,
                       "unauthorized_client", 700016)
    assert_entra_error(_devicecode(http, emu, scope="https://nowhere.test/x"), 400,
                       "invalid_resource", 500011)
    resp = http.get(f"{emu.authority()}/oauth2/v2.0/devicecode", timeout=10)
    assert_entra_error(resp, 400, "invalid_request", 900561)
