"""A real msal application runs on our cache, against the emulator over HTTPS on loopback."""

from __future__ import annotations

from typing import Any

import msal
import pytest

from entra_auth.cache import SerializableTokenCache
from entra_auth.testing import (
    PUBLIC_CLIENT_ID,
    WEB_APP_ID,
    WEB_APP_SECRET,
    Emulator,
)

GRAPH_DEFAULT = ["https://graph.microsoft.com/.default"]


def _public_app(emu: Emulator, cache: Any) -> Any:
    return msal.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), token_cache=cache,
        http_client=emu.requests_session(), instance_discovery=False,
    )


@pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning")
def test_msal_public_client_signs_in_refreshes_and_signs_out_on_our_cache(
    entra_emulator: Emulator,
) -> None:
    cache = SerializableTokenCache()
    app = _public_app(entra_emulator, cache)
    result = app.acquire_token_by_username_password(
        "alice@contoso.onmicrosoft.com", "alice-password", scopes=["User.Read"])
    assert "access_token" in result, result.get("error")
    (account,) = app.get_accounts()
    assert account["username"] == "alice@contoso.onmicrosoft.com"

    silent = app.acquire_token_silent(["User.Read"], account=account)
    assert silent is not None and silent["token_source"] == "cache"
    refreshed = app.acquire_token_silent(["User.Read"], account=account, force_refresh=True)
    assert refreshed is not None and refreshed["token_source"] == "identity_provider"

    # the msal-written entries are found by our indexed lookups
    host = account["environment"]
    at = cache.find_access_token(
        client_id=PUBLIC_CLIENT_ID, environments=[host], realm=account["realm"],
        scopes=["User.Read"], home_account_id=account["home_account_id"])
    assert at is not None and at["secret"] == refreshed["access_token"]

    # and the same cache text works in a second msal app with msal's own cache
    theirs = msal.SerializableTokenCache()
    theirs.deserialize(cache.serialize())
    other = _public_app(entra_emulator, theirs)
    (same,) = other.get_accounts()
    again = other.acquire_token_silent(["User.Read"], account=same)
    assert again is not None and again["access_token"] == refreshed["access_token"]

    app.remove_account(account)
    assert app.get_accounts() == []
    assert cache.find_refresh_tokens(
        home_account_id=account["home_account_id"], environments=[host]) == []


def test_msal_confidential_client_caches_app_tokens_in_our_cache(
    entra_emulator: Emulator,
) -> None:
    cache = SerializableTokenCache()
    app = msal.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=entra_emulator.authority(),
        token_cache=cache, http_client=entra_emulator.requests_session(),
        instance_discovery=False,
    )
    first = app.acquire_token_for_client(GRAPH_DEFAULT)
    assert first.get("token_source") == "identity_provider", first.get("error")
    second = app.acquire_token_for_client(GRAPH_DEFAULT)
    assert second["token_source"] == "cache"
    assert second["access_token"] == first["access_token"]
    app.remove_tokens_for_client()
    assert cache.remove_app_tokens(client_id=WEB_APP_ID) == 0
    assert app.acquire_token_for_client(GRAPH_DEFAULT)["token_source"] == "identity_provider"
