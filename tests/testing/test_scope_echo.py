"""The token response's ``scope`` is spelled as Entra spells it, so silent lookups hit.

Entra echoes ``.default`` beside the granted permissions of a delegated ``.default`` request,
and spells each permission with the resource prefix the request used (full URI for full-URI
requests, short for bare Graph names). See docs/emulator.md, "How Entra echoes scopes".
"""

from __future__ import annotations

from typing import Any

import msal
import pytest
import requests

import entra_auth
from entra_auth.testing import (
    GRAPH_RESOURCE,
    PUBLIC_CLIENT_ID,
    WEB_API_ID,
    Emulator,
    Resource,
)

from .conftest import ALICE, ALICE_PASSWORD
from .helpers import assert_entra_error, token

pytestmark = pytest.mark.filterwarnings(
    "ignore:This API has been deprecated:DeprecationWarning",  # msal's ROPC warning
)

ARM = "https://management.core.windows.net/"  # ARM's identifier URI ends with "/"
ARM_APP_ID = "797f4846-ba00-4fd7-ba43-dac1f8f63013"


@pytest.fixture
def arm(emu: Emulator) -> Emulator:
    """The emulator with an ARM-like resource (trailing-slash identifier URI) consented."""
    emu.config.resources.append(Resource(ARM_APP_ID, ARM, scopes=["user_impersonation"]))
    emu.app(PUBLIC_CLIENT_ID).consented_scopes.append(f"{ARM.rstrip('/')}/user_impersonation")
    return emu


def _ropc(http: requests.Session, emu: Emulator, scope: str) -> dict[str, Any]:
    resp = token(http, emu, {"grant_type": "password", "client_id": PUBLIC_CLIENT_ID,
                             "username": ALICE, "password": ALICE_PASSWORD,
                             "scope": f"{scope} openid profile offline_access"})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


@pytest.mark.parametrize(("scope", "echoed"), [
    ("User.Read", {"User.Read"}),
    (f"{GRAPH_RESOURCE}/User.Read", {f"{GRAPH_RESOURCE}/User.Read"}),
    (f"{GRAPH_RESOURCE}/.default", {f"{GRAPH_RESOURCE}/User.Read", f"{GRAPH_RESOURCE}/.default"}),
    (f"api://{WEB_API_ID}/.default",
     {f"api://{WEB_API_ID}/access_as_user", f"api://{WEB_API_ID}/.default"}),
    (f"{WEB_API_ID}/access_as_user", {"access_as_user"}),  # an app-id prefix comes back bare
])
def test_scope_echo(http: requests.Session, emu: Emulator, scope: str,
                    echoed: set[str]) -> None:
    body = _ropc(http, emu, scope)
    assert set(body["scope"].split()) == echoed | {"openid", "profile"}


def test_arm_default_echo_keeps_the_double_slash(http: requests.Session, arm: Emulator) -> None:
    body = _ropc(http, arm, f"{ARM}/.default")
    assert set(body["scope"].split()) == {
        "https://management.core.windows.net//user_impersonation",
        "https://management.core.windows.net//.default", "openid", "profile"}


@pytest.mark.parametrize("bare", [GRAPH_RESOURCE, f"{GRAPH_RESOURCE}/", f"api://{WEB_API_ID}"])
def test_bare_resource_url_is_invalid_scope_quoting_the_whole_value(
    http: requests.Session, emu: Emulator, bare: str,
) -> None:
    resp = token(http, emu, {"grant_type": "password", "client_id": PUBLIC_CLIENT_ID,
                             "username": ALICE, "password": ALICE_PASSWORD,
                             "scope": f"{bare} offline_access"})
    body = assert_entra_error(resp, 400, "invalid_scope", 70011)
    assert f"The scope {bare} offline_access is not valid." in body["error_description"]
    assert "https:/ " not in body["error_description"]


def _msal_silent_twice(emu: Emulator, scopes: list[str]) -> tuple[dict[str, Any], int]:
    app = msal.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), http_client=emu.requests_session(),
        instance_discovery=False)
    first = app.acquire_token_by_username_password(ALICE, ALICE_PASSWORD, scopes)
    assert "access_token" in first, first
    posts = len(emu.requests_to("token"))
    (account,) = app.get_accounts()
    second = app.acquire_token_silent_with_error(scopes, account)
    assert second is not None and "access_token" in second, second
    return second, len(emu.requests_to("token")) - posts


SILENT_CASES = [
    [f"{GRAPH_RESOURCE}/.default"],
    [f"{GRAPH_RESOURCE}/User.Read"],
    ["User.Read"],
    [f"api://{WEB_API_ID}/.default"],
    [f"{ARM}/.default"],
]


@pytest.mark.parametrize("scopes", SILENT_CASES)
def test_msal_serves_the_second_request_from_its_cache(arm: Emulator,
                                                       scopes: list[str]) -> None:
    second, posts = _msal_silent_twice(arm, scopes)
    assert second["token_source"] == "cache"
    assert posts == 0


@pytest.mark.parametrize("scopes", SILENT_CASES)
def test_entra_auth_serves_the_second_request_from_its_cache(arm: Emulator,
                                                             scopes: list[str]) -> None:
    app = entra_auth.PublicClientApplication(PUBLIC_CLIENT_ID, authority=arm.authority(),
                                             verify=arm.ca_bundle)
    first = app.acquire_token_by_username_password(ALICE, ALICE_PASSWORD, scopes)
    assert "access_token" in first, first
    posts = len(arm.requests_to("token"))
    (account,) = app.get_accounts()
    second = app.acquire_token_silent_with_error(scopes, account)
    assert second is not None and second["access_token"] == first["access_token"]
    assert second["token_source"] == "cache"
    assert len(arm.requests_to("token")) == posts
