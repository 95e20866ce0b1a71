"""The real msal package completes every flow against the emulator over HTTPS."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from typing import Any

import msal
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
    complete_authorization,
    default_web_app_certificate,
    enter_device_code,
)

from .conftest import ALICE, ALICE_PASSWORD, BOB, BOB_PASSWORD

pytestmark = pytest.mark.filterwarnings(
    "ignore:This API has been deprecated:DeprecationWarning",  # msal's ROPC warning
    "ignore:response_mode='form_post' is recommended:UserWarning",
)

GRAPH_DEFAULT = ["https://graph.microsoft.com/.default"]


def _public(
    emu: Emulator, client_id: str = PUBLIC_CLIENT_ID, **kwargs: Any
) -> msal.PublicClientApplication:
    return msal.PublicClientApplication(
        client_id, authority=emu.authority(), http_client=emu.requests_session(),
        instance_discovery=False, **kwargs)


def _confidential(emu: Emulator, credential: Any, client_id: str = WEB_APP_ID,
                  **kwargs: Any) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        client_id, client_credential=credential, authority=emu.authority(),
        verify=emu.ca_bundle, instance_discovery=False, **kwargs)


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _me(emu: Emulator, token: str) -> requests.Response:
    return requests.get(emu.graph_url, headers={"Authorization": f"Bearer {token}"},
                        verify=emu.ca_bundle, timeout=10)


def test_client_credentials_with_secret_then_cache(emu: Emulator) -> None:
    app = _confidential(emu, WEB_APP_SECRET)
    first = app.acquire_token_for_client(GRAPH_DEFAULT)
    assert first["token_source"] == "identity_provider", first.get("error_description")
    claims = _claims(first["access_token"])
    assert claims["aud"] == "00000003-0000-0000-c000-000000000000"
    assert claims["roles"] == ["User.Read.All"]
    assert claims["azpacr"] == "1" and claims["tid"] == emu.tenant_id
    second = app.acquire_token_for_client(GRAPH_DEFAULT)
    assert second["token_source"] == "cache"
    assert second["access_token"] == first["access_token"]
    (sent,) = emu.requests_to("token")
    assert sent.form["client_secret"] == "<redacted>"
    assert sent.form["grant_type"] == "client_credentials"
    assert sent.headers["client-request-id"]


@pytest.mark.parametrize("form", ["x5t-sha1", "x5t#S256-pfx", "x5t#S256-x5c"])
def test_client_credentials_with_certificate_thumbprint(
    emu: Emulator, form: str, tmp_path: Any
) -> None:
    cert = default_web_app_certificate()
    if form == "x5t#S256-pfx":
        credential = cert.write_pfx(str(tmp_path / "app.pfx"))
    else:
        credential = cert.msal_credential(sha256=form != "x5t-sha1")
    app = _confidential(emu, credential)
    result = app.acquire_token_for_client(GRAPH_DEFAULT)
    assert "access_token" in result, result.get("error_description")
    assert _claims(result["access_token"])["azpacr"] == "2"
    assert emu.requests_to("token")[-1].form["client_assertion_type"].endswith("jwt-bearer")


def test_client_credentials_with_subject_name_issuer_x5c(emu: Emulator) -> None:
    cert = emu.issue_client_certificate(WEB_APP_ID, "webapp.contoso.test")
    app = _confidential(emu, cert.msal_credential(send_x5c=True))
    result = app.acquire_token_for_client(GRAPH_DEFAULT)
    assert "access_token" in result, result.get("error_description")


def test_x5c_with_untrusted_subject_is_rejected(emu: Emulator) -> None:
    cert = emu.issue_client_certificate(WEB_API_ID, "someone-else.test")  # trusted on another app
    result = _confidential(emu, cert.msal_credential(send_x5c=True)).acquire_token_for_client(
        GRAPH_DEFAULT)
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [700027]


def test_username_password_then_graph_and_silent(emu: Emulator) -> None:
    app = _public(emu)
    result = app.acquire_token_by_username_password(ALICE, ALICE_PASSWORD, ["User.Read"])
    assert "access_token" in result, result.get("error_description")
    assert result["id_token_claims"]["preferred_username"] == ALICE
    assert result["foci"] == "1"
    assert _me(emu, result["access_token"]).json()["userPrincipalName"] == ALICE
    (account,) = app.get_accounts()
    assert account["home_account_id"] == f"{emu.user(ALICE).object_id}.{emu.tenant_id}"
    cached = app.acquire_token_silent(["User.Read"], account)
    assert cached is not None and cached["token_source"] == "cache"
    assert len(emu.requests_to("userrealm")) == 1


def test_refresh_token_rotation_and_family_refresh(emu: Emulator) -> None:
    cache = msal.TokenCache()
    app = _public(emu, token_cache=cache)
    first = app.acquire_token_by_username_password(ALICE, ALICE_PASSWORD, ["User.Read"])
    (account,) = app.get_accounts()
    refreshed = app.acquire_token_silent(["User.Read"], account, force_refresh=True)
    assert refreshed is not None and refreshed["token_source"] == "identity_provider"
    assert refreshed["access_token"] != first["access_token"]
    assert emu.requests_to("token")[-1].grant_type == "refresh_token"
    # A second app of family "1" sharing the cache redeems the family refresh token.
    sibling = _public(emu, FAMILY_APP_ID, token_cache=cache)
    (sibling_account,) = sibling.get_accounts()
    result = sibling.acquire_token_silent(["User.Read"], sibling_account)
    assert result is not None and "access_token" in result, result
    assert _claims(result["access_token"])["azp"] == FAMILY_APP_ID
    last = emu.requests_to("token")[-1]
    assert (last.grant_type, last.form["client_id"]) == ("refresh_token", FAMILY_APP_ID)


def test_auth_code_flow_with_pkce(emu: Emulator) -> None:
    app = _public(emu)
    flow = app.initiate_auth_code_flow(["User.Read", "Mail.Read"],
                                       redirect_uri="http://localhost:8400", login_hint=ALICE)
    response = complete_authorization(flow["auth_uri"], ALICE, ALICE_PASSWORD,
                                      verify=emu.ca_bundle)
    assert response["state"] == flow["state"]
    result = app.acquire_token_by_auth_code_flow(flow, response)
    assert "access_token" in result, result.get("error_description")
    assert set(result["scope"].split()) >= {"User.Read", "Mail.Read"}
    # MSAL sends the hex SHA-256 of its nonce and expects it back in the id token.
    expected_nonce = hashlib.sha256(flow["nonce"].encode()).hexdigest()
    assert result["id_token_claims"]["nonce"] == expected_nonce
    authorize = emu.requests_to("authorize")[0]
    assert authorize.query["code_challenge_method"] == "S256"
    assert emu.requests_to("token")[-1].form["code_verifier"] == "<redacted>"
    (account,) = app.get_accounts()
    assert app.acquire_token_silent(["Mail.Read"], account)["token_source"] == "cache"


def test_auth_code_flow_with_mfa_user_and_form_post(emu: Emulator) -> None:
    app = _public(emu)
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri="http://localhost:8400",
                                       response_mode="form_post")
    response = complete_authorization(flow["auth_uri"], BOB, BOB_PASSWORD,
                                      verify=emu.ca_bundle, mfa_code="123456")
    result = app.acquire_token_by_auth_code_flow(flow, response)
    assert "access_token" in result, result.get("error_description")
    assert _claims(result["access_token"])["amr"] == ["pwd", "mfa"]


def test_device_code_flow(emu: Emulator) -> None:
    app = _public(emu)
    flow = app.initiate_device_flow(["User.Read"])
    assert flow["interval"] == 1 and flow["user_code"] in flow["message"]
    errors: list[BaseException] = []

    def user() -> None:
        try:
            time.sleep(0.2)
            enter_device_code(flow, ALICE, ALICE_PASSWORD, verify=emu.ca_bundle)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=user)
    thread.start()
    result = app.acquire_token_by_device_flow(flow)
    thread.join()
    assert errors == []
    assert "access_token" in result, result.get("error_description")
    assert result["id_token_claims"]["preferred_username"] == ALICE
    polls = [r.status for r in emu.requests_to("token")]
    assert polls[-1] == 200 and set(polls[:-1]) <= {400}


def test_on_behalf_of(emu: Emulator) -> None:
    client = _public(emu)
    upstream = client.acquire_token_by_username_password(
        ALICE, ALICE_PASSWORD, [f"api://{WEB_API_ID}/access_as_user"])
    assert _claims(upstream["access_token"])["aud"] == WEB_API_ID
    api = _confidential(emu, WEB_API_SECRET, client_id=WEB_API_ID)
    result = api.acquire_token_on_behalf_of(upstream["access_token"], ["User.Read"])
    assert "access_token" in result, result.get("error_description")
    claims = _claims(result["access_token"])
    assert (claims["azp"], claims["oid"]) == (WEB_API_ID, emu.user(ALICE).object_id)
    assert _me(emu, result["access_token"]).status_code == 200
    sent = emu.requests_to("token")[-1]
    assert sent.form["requested_token_use"] == "on_behalf_of"
    assert sent.form["assertion"] == "<redacted>"


def _challenge_claims(response: requests.Response) -> str:
    header = response.headers["WWW-Authenticate"]
    assert 'error="insufficient_claims"' in header
    encoded = header.split('claims="')[1].split('"')[0]
    return base64.b64decode(encoded).decode()


def test_cae_challenge_after_revocation_and_recovery(emu: Emulator) -> None:
    app = _public(emu, client_capabilities=["CP1"])
    first = app.acquire_token_by_username_password(ALICE, ALICE_PASSWORD, ["User.Read"])
    assert _claims(first["access_token"])["xms_cc"] == ["CP1"]
    assert _me(emu, first["access_token"]).status_code == 200
    emu.revoke_sessions(ALICE)
    denied = _me(emu, first["access_token"])
    assert denied.status_code == 401
    assert denied.json()["error"]["code"] == "InvalidAuthenticationToken"
    claims = _challenge_claims(denied)
    assert "nbf" in json.loads(claims)["access_token"]
    (account,) = app.get_accounts()
    # The refresh token was revoked too: silent fails, the user signs in again.
    assert app.acquire_token_silent(["User.Read"], account, claims_challenge=claims) is None
    fresh = app.acquire_token_by_username_password(ALICE, ALICE_PASSWORD, ["User.Read"],
                                                   claims_challenge=claims)
    assert _me(emu, fresh["access_token"]).status_code == 200


def test_step_up_claims_challenge(emu: Emulator) -> None:
    app = _public(emu)
    token = app.acquire_token_by_username_password(ALICE, ALICE_PASSWORD, ["User.Read"])
    emu.require_auth_context("c1")
    denied = _me(emu, token["access_token"])
    assert denied.status_code == 401
    claims = _challenge_claims(denied)
    (account,) = app.get_accounts()
    stepped = app.acquire_token_silent(["User.Read"], account, claims_challenge=claims)
    assert stepped is not None and stepped["token_source"] == "identity_provider"
    assert _claims(stepped["access_token"])["acrs"] == ["c1"]
    assert _me(emu, stepped["access_token"]).status_code == 200
