"""Broker flags warn once and say what happens instead; auth_scheme (PoP) is refused."""

from __future__ import annotations

import asyncio
import warnings

import msal
import pytest

import entra_auth
from entra_auth import _app_core, aio
from entra_auth.testing import PUBLIC_CLIENT_ID, WEB_APP_ID, Emulator


def test_broker_flags_warn_once_naming_the_browser_flow(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_app_core, "_BROKER_WARNED", [])
    with pytest.warns(UserWarning, match="system browser") as caught:
        entra_auth.PublicClientApplication(PUBLIC_CLIENT_ID, enable_broker_on_windows=True)
    assert "acquire_token_interactive" in str(caught[0].message)
    assert caught[0].filename == __file__  # points at the caller's line
    with warnings.catch_warnings(record=True) as later:
        warnings.simplefilter("always")
        entra_auth.PublicClientApplication(PUBLIC_CLIENT_ID, enable_broker_on_mac=True)
        entra_auth.PublicClientApplication(PUBLIC_CLIENT_ID)
    assert later == []


def test_no_warning_without_broker_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_app_core, "_BROKER_WARNED", [])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        entra_auth.PublicClientApplication(PUBLIC_CLIENT_ID, enable_broker_on_windows=False)
    assert caught == []
    with pytest.warns(UserWarning, match="no broker"):
        entra_auth.ConfidentialClientApplication(WEB_APP_ID, client_credential="s",
                                                 allow_broker=True)


def test_auth_scheme_is_refused_before_anything_is_sent(entra_emulator: Emulator) -> None:
    pop = msal.PopAuthScheme(http_method=msal.PopAuthScheme.HTTP_GET,
                             url="https://graph.microsoft.com/v1.0/me", nonce="nonce")
    app = entra_auth.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=entra_emulator.authority(),
        http_client=entra_emulator.requests_session(), instance_discovery=False)
    calls = [
        lambda: app.acquire_token_silent(["User.Read"], account=None, auth_scheme=pop),
        lambda: app.acquire_token_silent_with_error(["User.Read"], None, auth_scheme=pop),
        lambda: app.acquire_token_by_username_password(
            "alice@contoso.onmicrosoft.com", "alice-password", ["User.Read"], auth_scheme=pop),
        lambda: app.acquire_token_interactive(["User.Read"], auth_scheme=pop),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="proof-of-possession"):
            call()
    assert not app.is_pop_supported()
    assert entra_emulator.requests_to("token") == []

    async def run() -> None:
        async with aio.PublicClientApplication(
                PUBLIC_CLIENT_ID, authority=entra_emulator.authority(),
                verify=entra_emulator.ca_bundle, instance_discovery=False) as async_app:
            with pytest.raises(ValueError, match="proof-of-possession"):
                await async_app.acquire_token_by_username_password(
                    "alice@contoso.onmicrosoft.com", "alice-password", ["User.Read"],
                    auth_scheme=pop)
            with pytest.raises(ValueError, match="proof-of-possession"):
                await async_app.acquire_token_interactive(["User.Read"], auth_scheme=pop)

    asyncio.run(run())
    assert entra_emulator.requests_to("token") == []
