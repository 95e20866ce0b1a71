"""acquire_token_by_user_federated_identity_credential against the emulator, and with msal."""

from __future__ import annotations

import base64
import json
from typing import Any

import msal
import pytest

import entra_auth
from entra_auth.testing import WEB_APP_ID, WEB_APP_SECRET, Emulator
from entra_auth.testing.user_fic import mint_instance_token

ALICE = "alice@contoso.onmicrosoft.com"
GRAPH_USER_READ = "User.Read"  # msal finds the cached token only in this spelling


def claims_of(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return data


def app(emu: Emulator, module: Any = entra_auth) -> Any:
    return module.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        http_client=emu.requests_session(), instance_discovery=False)


@pytest.mark.parametrize("module", [entra_auth, msal], ids=["entra_auth", "msal"])
def test_user_token_for_an_agent(entra_emulator: Emulator, module: Any) -> None:
    agent = app(entra_emulator, module)
    instance = mint_instance_token(entra_emulator, WEB_APP_ID)
    result = agent.acquire_token_by_user_federated_identity_credential(
        [GRAPH_USER_READ], instance, username=ALICE)
    assert "access_token" in result, result
    assert result["token_source"] == "identity_provider"
    assert claims_of(result["access_token"])["preferred_username"] == ALICE
    form = entra_emulator.requests_to("token")[-1].form
    assert form["grant_type"] == "user_fic" and form["username"] == ALICE
    # The user's tokens are cached like a sign-in: silent finds them.
    (account,) = agent.get_accounts(username=ALICE)
    silent = agent.acquire_token_silent([GRAPH_USER_READ], account=account)
    assert silent["access_token"] == result["access_token"]
    by_oid = agent.acquire_token_by_user_federated_identity_credential(
        [GRAPH_USER_READ], instance, user_object_id=account["local_account_id"])
    assert "access_token" in by_oid and entra_emulator.requests_to("token")[-1].form[
        "user_id"] == account["local_account_id"]


def test_refusals(entra_emulator: Emulator) -> None:
    agent = app(entra_emulator)
    instance = mint_instance_token(entra_emulator, WEB_APP_ID)
    with pytest.raises(ValueError, match="assertion"):
        agent.acquire_token_by_user_federated_identity_credential([GRAPH_USER_READ], "",
                                                                  username=ALICE)
    with pytest.raises(ValueError, match="username or user_object_id"):
        agent.acquire_token_by_user_federated_identity_credential([GRAPH_USER_READ], instance)
    with pytest.raises(ValueError, match="mutually exclusive"):
        agent.acquire_token_by_user_federated_identity_credential(
            [GRAPH_USER_READ], instance, username=ALICE, user_object_id="x")
    with pytest.raises(ValueError, match="forwarded_client_claims"):  # as msal (issue 18)
        agent.acquire_token_by_user_federated_identity_credential(
            [GRAPH_USER_READ], instance, username=ALICE, forwarded_client_claims=123)
    with pytest.raises(TypeError, match="'bogus'"):
        agent.acquire_token_by_user_federated_identity_credential(
            [GRAPH_USER_READ], instance, username=ALICE, bogus=1)
    assert entra_emulator.requests_to("token") == []
    other = mint_instance_token(entra_emulator, "00000000-0000-0000-0000-00000000dead")
    result = agent.acquire_token_by_user_federated_identity_credential(
        [GRAPH_USER_READ], other, username=ALICE)
    assert result["error"] == "invalid_grant" and "AADSTS700212" in result["error_description"]


def test_async_application(entra_emulator: Emulator) -> None:
    import asyncio

    from entra_auth import aio

    async def run() -> dict[str, Any]:
        async with aio.ConfidentialClientApplication(
                WEB_APP_ID, client_credential=WEB_APP_SECRET,
                authority=entra_emulator.authority(), verify=entra_emulator.ca_bundle,
                instance_discovery=False) as agent:
            result: dict[str, Any] = (
                await agent.acquire_token_by_user_federated_identity_credential(
                    [GRAPH_USER_READ], mint_instance_token(entra_emulator, WEB_APP_ID),
                    username=ALICE))
            return result

    result = asyncio.run(run())
    assert claims_of(result["access_token"])["preferred_username"] == ALICE


def test_forwarded_client_claims_are_sent_and_key_the_cache(entra_emulator: Emulator) -> None:
    # Issue 18: msal's forwarded_client_claims on the user_fic grant, as on the others.
    agent = app(entra_emulator)
    instance = mint_instance_token(entra_emulator, WEB_APP_ID)
    forwarded = json.dumps({"access_token": {"xms_ftd": {"value": "abc"}}})
    result = agent.acquire_token_by_user_federated_identity_credential(
        [GRAPH_USER_READ], instance, username=ALICE, forwarded_client_claims=forwarded)
    assert "access_token" in result, result
    form = entra_emulator.requests_to("token")[-1].form
    assert json.loads(form["claims"])["access_token"]["xms_ftd"] == {"value": "abc"}
    assert "client_claims" not in form
    (account,) = agent.get_accounts(username=ALICE)
    hit = agent.acquire_token_silent([GRAPH_USER_READ], account,
                                     forwarded_client_claims=forwarded)
    assert hit is not None and hit["access_token"] == result["access_token"]
    plain = agent.acquire_token_silent([GRAPH_USER_READ], account)
    assert plain is not None and plain["access_token"] != result["access_token"]
