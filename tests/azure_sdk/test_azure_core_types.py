"""With azure-core installed, credentials speak its types (kiota, msgraph-core, azure-identity)."""

from __future__ import annotations

import asyncio
import json
import ssl
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from azure.core.credentials import AccessToken as CoreAccessToken
from azure.core.credentials import AccessTokenInfo as CoreAccessTokenInfo
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ChainedTokenCredential, EnvironmentCredential
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from msgraph_core import BaseGraphRequestAdapter, GraphClientFactory

import entra_auth
from entra_auth import aio
from entra_auth.azure.credential import EntraTokenCredential, TenantNotAllowedError
from entra_auth.errors import InteractionRequiredError
from entra_auth.testing import PUBLIC_CLIENT_ID, WEB_APP_ID, WEB_APP_SECRET, Emulator

from .conftest import (
    ALICE,
    GRAPH_DEFAULT,
    GRAPH_USER_READ,
    app_kwargs,
    claims_of,
    signed_in_app,
)


def test_tokens_are_azure_cores_own_types(emu: Emulator) -> None:
    app = entra_auth.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, **app_kwargs(emu))
    with EntraTokenCredential(app, clock=emu.now) as credential:
        token = credential.get_token(GRAPH_DEFAULT, enable_cae=True)
        info = credential.get_token_info(GRAPH_DEFAULT, options={"enable_cae": True})
    assert isinstance(token, CoreAccessToken) and isinstance(info, CoreAccessTokenInfo)
    assert token.token == info.token and claims_of(info.token)["roles"] == ["User.Read.All"]
    assert info.refresh_on is not None and emu.now() < info.refresh_on < info.expires_on
    assert token.token not in repr(token) and info.token not in repr(info)


def test_errors_are_client_authentication_errors_and_ours(emu: Emulator) -> None:
    public = entra_auth.PublicClientApplication(PUBLIC_CLIENT_ID, **app_kwargs(emu))
    with pytest.raises(ClientAuthenticationError) as caught:
        EntraTokenCredential(public).get_token(GRAPH_DEFAULT)
    assert isinstance(caught.value, InteractionRequiredError)
    assert caught.value.error == "no_account" and "no_account" in caught.value.message
    app = entra_auth.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, **app_kwargs(emu))
    with pytest.raises(ClientAuthenticationError) as denied:
        EntraTokenCredential(app).get_token(GRAPH_DEFAULT, tenant_id="another-tenant")
    assert isinstance(denied.value, TenantNotAllowedError)
    assert emu.requests_to("token") == []  # nothing was sent for either

    async def run() -> None:
        async with aio.EntraTokenCredential(public) as credential:
            with pytest.raises(ClientAuthenticationError):
                await credential.get_token(GRAPH_DEFAULT)

    asyncio.run(run())


def test_inside_azure_identitys_chained_token_credential(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET",
                 "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    ours = EntraTokenCredential(signed_in_app(emu), clock=emu.now)
    chain = ChainedTokenCredential(EnvironmentCredential(), ours)
    token = chain.get_token("https://graph.microsoft.com/User.Read")
    assert claims_of(token.token)["preferred_username"] == ALICE
    # Ours failing for real (not "unavailable") stops the chain with its reason.
    public = entra_auth.PublicClientApplication(PUBLIC_CLIENT_ID, **app_kwargs(emu))
    with pytest.raises(ClientAuthenticationError) as caught:
        ChainedTokenCredential(EntraTokenCredential(public), EnvironmentCredential()).get_token(
            GRAPH_DEFAULT)
    assert "no_account" in str(caught.value)


async def graph_get_async(emu: Emulator, credential: Any) -> tuple[bytes | None, list[Any]]:
    """GET /v1.0/me through msgraph-core's adapter and kiota's Azure auth provider."""
    calls: list[dict[str, Any]] = []

    class Recording:
        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            calls.append(kwargs)
            return credential.get_token(*scopes, **kwargs)

    provider = AzureIdentityAuthenticationProvider(
        Recording(), scopes=[GRAPH_USER_READ], allowed_hosts=[urlsplit(emu.base_url).hostname])
    client = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(verify=ssl.create_default_context(cafile=emu.ca_bundle)))
    adapter = BaseGraphRequestAdapter(provider, http_client=client)
    request = RequestInformation(Method.GET, emu.graph_url)
    try:
        body: bytes | None = await adapter.send_primitive_async(request, "bytes", {})
    finally:
        await client.aclose()
    return body, calls


def graph_get(emu: Emulator, credential: Any) -> tuple[bytes | None, list[Any]]:
    return asyncio.run(graph_get_async(emu, credential))


def test_msgraph_core_sends_our_token_and_retries_a_cae_challenge(emu: Emulator) -> None:
    credential = EntraTokenCredential(signed_in_app(emu), clock=emu.now)
    body, calls = graph_get(emu, credential)
    assert body is not None and json.loads(body)["userPrincipalName"] == ALICE
    assert calls == [{"claims": None, "enable_cae": True}]
    emu.revoke_access_tokens(ALICE)  # Graph now answers with a CAE claims challenge
    body, calls = graph_get(emu, credential)
    assert body is not None and json.loads(body)["userPrincipalName"] == ALICE
    assert len(calls) == 2 and '"nbf"' in calls[1]["claims"]
    assert emu.requests_to("token")[-1].grant_type == "refresh_token"


def test_msgraph_core_with_the_async_credential(emu: Emulator) -> None:
    sync_app = signed_in_app(emu)
    app = aio.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle,
        instance_discovery=False, token_cache=sync_app.token_cache)

    async def run() -> None:
        async with app, aio.EntraTokenCredential(app, clock=emu.now) as credential:
            body, calls = await graph_get_async(emu, credential)
            assert body is not None and json.loads(body)["userPrincipalName"] == ALICE
            emu.require_auth_context("c1")  # a step-up challenge, answered by kiota's retry
            body, calls = await graph_get_async(emu, credential)
            assert body is not None and json.loads(body)["userPrincipalName"] == ALICE
            assert len(calls) == 2 and '"acrs"' in calls[1]["claims"]

    asyncio.run(run())
    assert '"acrs"' in emu.requests_to("token")[-1].form["claims"]
