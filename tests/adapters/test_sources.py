"""Which token EntraAuth uses: app-only, on-behalf-of, a chosen account; sync/async pairing."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import requests

from entra_auth.adapters import EntraAuth
from entra_auth.errors import InteractionRequiredError, TokenRequestError
from entra_auth.testing.config import WEB_API_ID, WEB_API_SECRET
from entra_auth.testing.emulator import Emulator

from .conftest import (
    ALICE,
    APP_SCOPES,
    GRAPH_SCOPES,
    aio_public_app,
    confidential_app,
    public_app,
    sign_in,
)

LOOPBACK = ["127.0.0.1"]


def test_confidential_app_without_account_gets_app_only_tokens(emu: Emulator) -> None:
    auth = EntraAuth(confidential_app(emu), APP_SCOPES, allowed_hosts=LOOPBACK)
    with httpx.Client(auth=auth, verify=emu.ca_bundle or True) as client:
        reply = client.get(emu.echo_url)
        assert reply.status_code == 200
        assert reply.json()["claims"]["idtyp"] == "app"
        assert client.get(emu.echo_url).status_code == 200
    assert [r.grant_type for r in emu.requests_to("token")] == ["client_credentials"]


def test_on_behalf_of_calls_graph_as_the_user(emu: Emulator) -> None:
    client_app = public_app(emu)
    assertion = sign_in(client_app, [f"api://{WEB_API_ID}/access_as_user"])["access_token"]
    api = confidential_app(emu, client_id=WEB_API_ID, client_credential=WEB_API_SECRET)
    auth = EntraAuth.on_behalf_of(api, assertion, GRAPH_SCOPES, allowed_hosts=LOOPBACK)
    session = requests.Session()
    session.trust_env = False
    session.verify = emu.ca_bundle or True
    session.auth = auth
    reply = session.get(emu.graph_url)
    assert reply.status_code == 200, reply.text
    assert reply.json()["userPrincipalName"] == ALICE
    bad = EntraAuth.on_behalf_of(api, "not-a-jwt", GRAPH_SCOPES, allowed_hosts=LOOPBACK)
    with pytest.raises(TokenRequestError):
        bad.get_token()


def test_account_by_username_callable_or_dict(emu: Emulator) -> None:
    app = public_app(emu)
    sign_in(app)
    (account,) = app.get_accounts()
    for spec in (ALICE, account, lambda: ALICE):
        token = EntraAuth(app, GRAPH_SCOPES, account=spec, allowed_hosts=LOOPBACK).get_token()
        assert token.count(".") == 2
    missing = EntraAuth(app, GRAPH_SCOPES, account="nobody@contoso.onmicrosoft.com",
                        allowed_hosts=LOOPBACK)
    with pytest.raises(InteractionRequiredError) as caught:
        missing.get_token()
    assert caught.value.error == "no_account"


def test_two_cached_accounts_need_a_choice(emu: Emulator) -> None:
    app = public_app(emu)
    sign_in(app)
    emu.require_mfa("bob@contoso.onmicrosoft.com", False)
    app.acquire_token_by_username_password("bob@contoso.onmicrosoft.com", "bob-password",
                                           scopes=GRAPH_SCOPES)
    with pytest.raises(InteractionRequiredError) as caught:
        EntraAuth(app, GRAPH_SCOPES, allowed_hosts=LOOPBACK).get_token()
    assert caught.value.error == "account_selection_required"


def test_sync_app_under_async_client_runs_off_the_loop(emu: Emulator) -> None:
    app = public_app(emu)
    sign_in(app)
    auth = EntraAuth(app, GRAPH_SCOPES, allowed_hosts=LOOPBACK)

    async def go() -> int:
        async with httpx.AsyncClient(auth=auth, verify=emu.ca_bundle or True) as client:
            return (await client.get(emu.graph_url)).status_code

    assert asyncio.run(go()) == 200


def test_async_app_under_a_sync_client_is_a_clear_error(emu: Emulator) -> None:
    auth = EntraAuth(aio_public_app(emu), GRAPH_SCOPES, allowed_hosts=LOOPBACK)
    with pytest.raises(TypeError, match=r"httpx\.AsyncClient"):
        auth.get_token()
