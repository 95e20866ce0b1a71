"""The examples run for real: the Flask web app signs Alice in through the emulator; the Flask,
FastAPI and Django web API examples validate tokens and call Graph on-behalf-of."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from entra_auth.testing import (
    WEB_API_ID,
    WEB_API_SECRET,
    WEB_APP_ID,
    WEB_APP_SECRET,
    Emulator,
    complete_authorization,
)
from examples.flask_web_app import create_app

from .conftest import ALICE, ALICE_PASSWORD, user_token
from .servers import AsgiServer, WsgiServer


def test_flask_web_app_signs_in_and_calls_graph(emu: Emulator) -> None:
    web = create_app(WEB_APP_ID, WEB_APP_SECRET, emu.authority(), graph_me_url=emu.graph_url,
                     allowed_hosts=["127.0.0.1"], verify=emu.ca_bundle,
                     http_client=emu.requests_session())
    with WsgiServer(web) as server:
        # The registered redirect URI is http://localhost/callback (any port on loopback).
        base = server.url.replace("127.0.0.1", "localhost")
        browser = requests.Session()
        assert 'id="login"' in browser.get(base + "/").text
        start = browser.get(base + "/login", allow_redirects=False)
        assert start.status_code == 302
        auth_uri = start.headers["Location"]
        assert urlsplit(auth_uri).path.endswith("/oauth2/v2.0/authorize")
        params = complete_authorization(auth_uri, ALICE, ALICE_PASSWORD, verify=emu.ca_bundle)
        home = browser.get(base + "/callback", params=params)
        assert home.status_code == 200
        assert "Hello, Alice Example" in home.text
        assert emu.requests_to("token")[-1].grant_type == "authorization_code"
        # Later pages get the token from the session's cache: no new token request.
        tokens = len(emu.requests_to("token"))
        assert "Hello, Alice Example" in browser.get(base + "/").text
        assert len(emu.requests_to("token")) == tokens
        # A replayed redirect (the flow is gone from the session) doesn't sign anyone in.
        assert 'id="login"' in browser.get(base + "/logout").text
        assert 'id="login"' in browser.get(base + "/callback", params=params).text


def _daemon_token(emu: Emulator) -> str:
    import entra_auth

    daemon = entra_auth.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        verify=emu.ca_bundle)
    result = daemon.acquire_token_for_client([f"api://{WEB_API_ID}/.default"])
    assert "access_token" in result, result
    return str(result["access_token"])


def _api_server(emu: Emulator, framework: str) -> WsgiServer | AsgiServer:
    options: dict[str, Any] = {"graph_me_url": emu.graph_url, "allowed_hosts": ["127.0.0.1"],
                               "verify": emu.ca_bundle, "clock": emu.now}
    if framework == "flask":
        from examples.flask_obo_api import create_app as flask_app

        return WsgiServer(flask_app(WEB_API_ID, WEB_API_SECRET, emu.authority(), **options))
    if framework == "fastapi":
        from examples.fastapi_obo_api import create_app as fastapi_app

        return AsgiServer(fastapi_app(WEB_API_ID, WEB_API_SECRET, emu.authority(), **options))
    from examples.django_obo_api import configure

    return WsgiServer(configure(WEB_API_ID, WEB_API_SECRET, emu.authority(), **options))


@pytest.mark.parametrize("framework", ["flask", "fastapi", "django"])
def test_web_api_example_calls_graph_on_behalf_of_its_caller(
    emu: Emulator, framework: str
) -> None:
    user = {"Authorization": f"Bearer {user_token(emu)}"}
    daemon = {"Authorization": f"Bearer {_daemon_token(emu)}"}
    with _api_server(emu, framework) as server:
        assert requests.get(f"{server.url}/health").json() == {"status": "ok"}
        assert requests.get(f"{server.url}/me").status_code == 401
        me = requests.get(f"{server.url}/me", headers=user)
        assert me.status_code == 200, me.text
        assert me.json()["caller"] == ALICE and me.json()["displayName"] == "Alice Example"
        assert [r.grant_type for r in emu.requests_to("token")][-1].endswith("jwt-bearer")
        assert requests.get(f"{server.url}/me", headers=daemon).status_code == 403
        if framework != "fastapi":  # the FastAPI example has no daemon endpoint
            reports = requests.get(f"{server.url}/reports", headers=daemon)
            assert reports.status_code == 200 and reports.json()["reports"] == ["q1", "q2"]
            assert requests.get(f"{server.url}/reports", headers=user).status_code == 403
