"""Caches written by the real msal load here and serve silent calls with no token request,
and the reverse, after every flow."""

from __future__ import annotations

import threading
from typing import Any

import msal as real_msal
import pytest

import entra_auth as ours
from entra_auth.testing import (
    PUBLIC_CLIENT_ID,
    WEB_APP_ID,
    WEB_APP_SECRET,
    Browser,
    Emulator,
)

from .conftest import ALICE, ALICE_PW

SCOPES = ["User.Read"]  # the short form Entra answers with, so both libraries' lookups match
DEFAULT = ["https://graph.microsoft.com/.default"]


def make_app(lib: str, emu: Emulator, cache: Any, confidential: bool = False) -> Any:
    module: Any = real_msal if lib == "msal" else ours
    kwargs: dict[str, Any] = {"authority": emu.authority(), "token_cache": cache}
    if lib == "msal":
        kwargs.update(http_client=emu.requests_session(), instance_discovery=False)
    else:
        kwargs.update(verify=emu.ca_bundle)
    if confidential:
        return module.ConfidentialClientApplication(WEB_APP_ID, WEB_APP_SECRET, **kwargs)
    return module.PublicClientApplication(PUBLIC_CLIENT_ID, **kwargs)


def run_flow(app: Any, kind: str, emu: Emulator) -> dict[str, Any]:
    if kind == "password":
        result: dict[str, Any] = app.acquire_token_by_username_password(ALICE, ALICE_PW, SCOPES)
    elif kind == "auth_code":
        flow = app.initiate_auth_code_flow(SCOPES, redirect_uri="http://localhost")
        browser = Browser(verify=emu.ca_bundle or True)
        try:
            response = browser.authorize(flow["auth_uri"], ALICE, ALICE_PW)
        finally:
            browser.close()
        result = app.acquire_token_by_auth_code_flow(flow, response)
    elif kind == "device":
        emu.settings.device_poll_interval = 1
        flow = app.initiate_device_flow(SCOPES)

        def phone() -> None:
            browser = Browser(verify=emu.ca_bundle or True)
            try:
                browser.enter_device_code(flow["user_code"], ALICE, ALICE_PW,
                                          verification_uri=flow["verification_uri"])
            finally:
                browser.close()

        timer = threading.Timer(0.2, phone)
        timer.start()
        result = app.acquire_token_by_device_flow(flow)
        timer.join()
    else:
        result = app.acquire_token_for_client(DEFAULT)
    assert "access_token" in result, result
    return result


@pytest.mark.parametrize("kind", ["password", "auth_code", "device", "client_credentials"])
@pytest.mark.parametrize(("writer", "reader"), [("msal", "ours"), ("ours", "msal")])
def test_cache_interchange(emu: Emulator, kind: str, writer: str, reader: str) -> None:
    confidential = kind == "client_credentials"
    write_cache = (real_msal if writer == "msal" else ours).SerializableTokenCache()
    first = run_flow(make_app(writer, emu, write_cache, confidential), kind, emu)
    read_cache = (real_msal if reader == "msal" else ours).SerializableTokenCache()
    read_cache.deserialize(write_cache.serialize())
    app = make_app(reader, emu, read_cache, confidential)
    tokens_before = len(emu.requests_to("token"))
    if confidential:
        result = app.acquire_token_for_client(DEFAULT)
    else:
        [account] = app.get_accounts()
        assert account["username"] == ALICE
        result = app.acquire_token_silent(SCOPES, account)
    assert result is not None and result["access_token"] == first["access_token"]
    assert result["token_source"] == "cache"
    assert len(emu.requests_to("token")) == tokens_before
    if not confidential:
        # The refresh token written by one library is redeemable by the other.
        refreshed = app.acquire_token_silent(SCOPES, account, force_refresh=True)
        assert refreshed is not None and "access_token" in refreshed
        assert emu.requests_to("token")[-1].form["grant_type"] == "refresh_token"
