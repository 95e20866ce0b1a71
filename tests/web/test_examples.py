"""The examples run for real: the Flask web app signs Alice in through the emulator."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from entra_auth.testing import WEB_APP_ID, WEB_APP_SECRET, Emulator, complete_authorization
from examples.flask_web_app import create_app

from .conftest import ALICE, ALICE_PASSWORD
from .servers import WsgiServer


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
