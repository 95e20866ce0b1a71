"""Interop with the real msal: cache files written by msal are used by FileTokenCache, and back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msal

import entra_auth
from entra_auth.cache.file_cache import FileTokenCache
from entra_auth.testing import (
    PUBLIC_CLIENT_ID,
    WEB_API_ID,
    WEB_APP_ID,
    WEB_APP_SECRET,
    Emulator,
)

from .test_file_cache import DEFAULT

ALICE, ALICE_PW = "alice@contoso.onmicrosoft.com", "alice-password"
# msal matches cached targets literally, and Entra answers Graph scopes in short form, so the
# msal-side lookups use the web API's scope, which comes back as requested.
USER_READ = f"api://{WEB_API_ID}/access_as_user"


def msal_pca(emu: Emulator, cache: Any) -> Any:
    return msal.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), token_cache=cache,
        http_client=emu.requests_session(), instance_discovery=False)


def msal_cca(emu: Emulator, cache: Any) -> Any:
    return msal.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        token_cache=cache, http_client=emu.requests_session(), instance_discovery=False)


def our_pca(emu: Emulator, cache: Any) -> Any:
    return entra_auth.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle, token_cache=cache)


def our_cca(emu: Emulator, cache: Any) -> Any:
    return entra_auth.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        verify=emu.ca_bundle, token_cache=cache)


def test_file_written_by_msal_serves_silent_hits(emu: Emulator, cache_dir: Path) -> None:
    theirs = msal.SerializableTokenCache()
    user = msal_pca(emu, theirs).acquire_token_by_username_password(ALICE, ALICE_PW, [USER_READ])
    app_token = msal_cca(emu, theirs).acquire_token_for_client(DEFAULT)
    assert "access_token" in user and "access_token" in app_token
    path = cache_dir / "msal_token_cache.json"  # e.g. the Azure CLI's file name
    path.write_text(theirs.serialize())
    emu.clear_log()

    cache = FileTokenCache(path)
    app = our_pca(emu, cache)
    [account] = app.get_accounts(username=ALICE)
    silent = app.acquire_token_silent([USER_READ], account)
    assert silent["access_token"] == user["access_token"]
    hit = our_cca(emu, cache).acquire_token_for_client(DEFAULT)
    assert hit["token_source"] == "cache" and hit["access_token"] == app_token["access_token"]
    assert emu.requests_to("token") == []


def test_file_written_here_serves_msal_silent_hits(emu: Emulator, cache_dir: Path) -> None:
    path = cache_dir / "token_cache.json"
    user = our_pca(emu, FileTokenCache(path)).acquire_token_by_username_password(
        ALICE, ALICE_PW, [USER_READ])
    app_token = our_cca(emu, FileTokenCache(path)).acquire_token_for_client(DEFAULT)
    assert "access_token" in user and "access_token" in app_token
    emu.clear_log()

    theirs = msal.SerializableTokenCache()
    theirs.deserialize(path.read_text())
    app = msal_pca(emu, theirs)
    [account] = app.get_accounts(username=ALICE)
    silent = app.acquire_token_silent([USER_READ], account)
    assert silent is not None and silent["access_token"] == user["access_token"]
    hit = msal_cca(emu, theirs).acquire_token_for_client(DEFAULT)
    assert hit["token_source"] == "cache" and hit["access_token"] == app_token["access_token"]
    assert emu.requests_to("token") == []
    # and msal's refresh, saved back, is seen by the file cache
    refreshed = app.acquire_token_silent([USER_READ], account, force_refresh=True)
    assert refreshed["access_token"] != user["access_token"]
    path.write_text(theirs.serialize())
    ours = our_pca(emu, FileTokenCache(path))
    [mine] = ours.get_accounts(username=ALICE)
    assert ours.acquire_token_silent([USER_READ], mine)["access_token"] == (
        refreshed["access_token"])
