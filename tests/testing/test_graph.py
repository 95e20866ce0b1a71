"""The Graph-shaped resource: bearer validation, /v1.0/me, echo, CAE and step-up challenges."""

from __future__ import annotations

import base64
import json
from typing import Any

import requests

from entra_auth.testing import (
    PUBLIC_CLIENT_ID,
    WEB_API_ID,
    WEB_APP_ID,
    WEB_APP_SECRET,
    Emulator,
)

from .conftest import ALICE, ALICE_PASSWORD
from .helpers import token


def _user_token(http: requests.Session, emu: Emulator, scope: str = "openid User.Read",
                claims: dict[str, Any] | None = None) -> str:
    form = {"grant_type": "password", "client_id": PUBLIC_CLIENT_ID, "username": ALICE,
            "password": ALICE_PASSWORD, "scope": scope}
    if claims:
        form["claims"] = json.dumps(claims)
    resp = token(http, emu, form)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


def _app_token(http: requests.Session, emu: Emulator,
               resource: str = "https://graph.microsoft.com") -> str:
    return str(token(http, emu, {"grant_type": "client_credentials", "client_id": WEB_APP_ID,
                                 "client_secret": WEB_APP_SECRET,
                                 "scope": f"{resource}/.default"}).json()["access_token"])


def _get(http: requests.Session, url: str, bearer: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    return http.get(url, headers=headers, timeout=10)


def _graph_error(resp: requests.Response, status: int, code: str) -> str:
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert error["code"] == code
    assert error["innerError"]["request-id"]
    return str(error["message"])


def test_me(http: requests.Session, emu: Emulator) -> None:
    me = _get(http, emu.graph_url, _user_token(http, emu)).json()
    assert me["userPrincipalName"] == ALICE and me["id"] == emu.user(ALICE).object_id
    assert me["displayName"] == "Alice Example"


def test_bearer_failures(http: requests.Session, emu: Emulator) -> None:
    missing = _get(http, emu.graph_url, None)
    assert "empty" in _graph_error(missing, 401, "InvalidAuthenticationToken")
    header = missing.headers["WWW-Authenticate"]
    assert header.startswith('Bearer realm=""') and "00000003-0000-0000-c000" in header
    _graph_error(_get(http, emu.graph_url, "not.a.jwt"), 401, "InvalidAuthenticationToken")
    good = _user_token(http, emu)
    head, payload, _ = good.split(".")
    forged_payload = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged_payload["oid"] = "someone-else"
    forged = ".".join([head, base64.urlsafe_b64encode(json.dumps(forged_payload).encode())
                       .rstrip(b"=").decode(), good.split(".")[2]])
    assert "Signature" in _graph_error(_get(http, emu.graph_url, forged), 401,
                                       "InvalidAuthenticationToken")
    api = _user_token(http, emu, f"api://{WEB_API_ID}/access_as_user")
    assert "audience" in _graph_error(_get(http, emu.graph_url, api), 401,
                                      "InvalidAuthenticationToken")
    emu.advance_clock(emu.settings.access_token_lifetime + 1)
    assert "expired" in _graph_error(_get(http, emu.graph_url, good), 401,
                                     "InvalidAuthenticationToken")


def test_me_needs_a_delegated_token_with_user_read(http: requests.Session,
                                                   emu: Emulator) -> None:
    _graph_error(_get(http, emu.graph_url, _app_token(http, emu)), 400, "BadRequest")
    emu.app(PUBLIC_CLIENT_ID).consented_scopes.append("https://graph.microsoft.com/Mail.Read")
    mail_only = _user_token(http, emu, "openid Mail.Read")
    _graph_error(_get(http, emu.graph_url, mail_only), 403, "Authorization_RequestDenied")
    _graph_error(http.post(emu.graph_url, timeout=10), 405, "Request_BadRequest")


def test_echo(http: requests.Session, emu: Emulator) -> None:
    bearer = _app_token(http, emu, f"api://{WEB_API_ID}")
    resp = http.post(f"{emu.echo_url}/items?x=1", data="hello",
                     headers={"Authorization": f"Bearer {bearer}", "X-Test": "yes"},
                     timeout=10)
    body = resp.json()
    assert body["method"] == "POST" and body["path"] == "/echo/items"
    assert body["body"] == "hello" and body["query"] == {"x": "1"}
    assert body["headers"]["authorization"] == "<redacted>"
    assert body["headers"]["x-test"] == "yes"
    assert body["claims"]["roles"] == ["Data.Read.All"]
    ok = _get(http, f"{emu.echo_url}?required_scope=Data.Read.All", bearer)
    assert ok.status_code == 200
    denied = _get(http, f"{emu.echo_url}?required_scope=Data.Write", bearer)
    _graph_error(denied, 403, "Authorization_RequestDenied")


def _challenge(resp: requests.Response) -> dict[str, Any]:
    header = resp.headers["WWW-Authenticate"]
    assert 'error="insufficient_claims"' in header
    assert f'authorization_uri="{_base(resp)}/common/oauth2/authorize"' in header
    encoded = header.split('claims="')[1].split('"')[0]
    return json.loads(base64.b64decode(encoded))  # type: ignore[no-any-return]


def _base(resp: requests.Response) -> str:
    url = resp.url
    return url.split("/v1.0")[0].split("/echo")[0]


def test_cae_challenge_after_revocation(http: requests.Session, emu: Emulator) -> None:
    old = _user_token(http, emu)
    emu.revoke_sessions(ALICE)
    denied = _get(http, emu.graph_url, old)
    assert "TokenIssuedBeforeRevocationTimestamp" in _graph_error(
        denied, 401, "InvalidAuthenticationToken")
    claims = _challenge(denied)
    assert claims["access_token"]["nbf"]["essential"] is True
    assert int(claims["access_token"]["nbf"]["value"]) <= emu.now()
    assert _get(http, emu.echo_url, old).status_code == 401
    fresh = _user_token(http, emu, claims=claims)
    assert _get(http, emu.graph_url, fresh).status_code == 200


def test_access_token_revocation_keeps_refresh_tokens(http: requests.Session,
                                                       emu: Emulator) -> None:
    form = {"grant_type": "password", "client_id": PUBLIC_CLIENT_ID, "username": ALICE,
            "password": ALICE_PASSWORD, "scope": "openid offline_access User.Read"}
    first = token(http, emu, form).json()
    emu.revoke_access_tokens(ALICE)
    denied = _get(http, emu.graph_url, first["access_token"])
    assert "TokenIssuedBeforeRevocationTimestamp" in _graph_error(
        denied, 401, "InvalidAuthenticationToken")
    claims = _challenge(denied)
    refreshed = token(http, emu, {
        "grant_type": "refresh_token", "client_id": PUBLIC_CLIENT_ID,
        "refresh_token": first["refresh_token"], "scope": "openid offline_access User.Read",
        "claims": json.dumps(claims)})
    assert refreshed.status_code == 200, refreshed.text
    assert _get(http, emu.graph_url, refreshed.json()["access_token"]).status_code == 200
    emu.revoke_sessions(ALICE)  # the full revocation, by contrast, rejects the refresh token
    again = token(http, emu, {
        "grant_type": "refresh_token", "client_id": PUBLIC_CLIENT_ID,
        "refresh_token": refreshed.json()["refresh_token"], "scope": "openid User.Read"})
    assert again.status_code == 400 and "AADSTS50173" in again.json()["error_description"]


def test_cae_can_require_the_client_capability(http: requests.Session, emu: Emulator) -> None:
    emu.settings.cae_requires_capability = True
    plain = _user_token(http, emu)
    capable = _user_token(http, emu, claims={"access_token": {"xms_cc": {"values": ["CP1"]}}})
    emu.revoke_sessions(ALICE)
    assert _get(http, emu.graph_url, plain).status_code == 200
    assert _get(http, emu.graph_url, capable).status_code == 401


def test_step_up_challenge(http: requests.Session, emu: Emulator) -> None:
    emu.require_auth_context("c1")
    denied = _get(http, emu.graph_url, _user_token(http, emu))
    claims = _challenge(denied)
    assert claims == {"access_token": {"acrs": {"essential": True, "value": "c1"}}}
    stepped = _user_token(http, emu, claims=claims)
    assert _get(http, emu.graph_url, stepped).status_code == 200
    emu.require_auth_context(None)
    assert _get(http, emu.graph_url, _user_token(http, emu)).status_code == 200
