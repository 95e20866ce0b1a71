"""EntraTokenCredential in azure-core's own pipelines against the emulator, CAE path included."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from azure.core.credentials import SupportsTokenInfo, TokenCredential
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline import AsyncPipeline, Pipeline
from azure.core.pipeline.policies import (
    AsyncBearerTokenCredentialPolicy,
    BearerTokenCredentialPolicy,
)
from azure.core.pipeline.transport import AsyncioRequestsTransport, RequestsTransport
from azure.core.rest import HttpRequest

import entra_auth
from entra_auth import aio
from entra_auth.azure.credential import (
    AccessToken,
    AccessTokenInfo,
    EntraTokenCredential,
    TenantNotAllowedError,
)
from entra_auth.errors import InteractionRequiredError
from entra_auth.testing import (
    PUBLIC_CLIENT_ID,
    WEB_API_ID,
    WEB_API_SECRET,
    WEB_APP_ID,
    WEB_APP_SECRET,
    Emulator,
)

from .conftest import (
    ALICE,
    GRAPH_DEFAULT,
    GRAPH_USER_READ,
    PASSWORD,
    app_kwargs,
    claims_of,
    signed_in_app,
)


class Recording:
    """Records the calls azure-core makes to a credential, then delegates to it."""

    def __init__(self, inner: EntraTokenCredential) -> None:
        self.inner = inner
        self.calls: list[dict[str, Any]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls.append({"scopes": scopes, **kwargs})
        return self.inner.get_token(*scopes, **kwargs)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        self.calls.append({"scopes": scopes, **(options or {})})
        return self.inner.get_token_info(*scopes, options=options)


def pipeline(emu: Emulator, credential: Any) -> Pipeline[Any, Any]:
    policy = BearerTokenCredentialPolicy(credential, GRAPH_DEFAULT)
    transport = RequestsTransport(session=emu.requests_session(), session_owner=False,
                                  connection_verify=emu.ca_bundle)
    return Pipeline(transport=transport, policies=[policy])


def test_shapes_match_azure_core(emu: Emulator) -> None:
    app = entra_auth.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, **app_kwargs(emu))
    credential = EntraTokenCredential(app, clock=emu.now)
    assert isinstance(credential, TokenCredential) and isinstance(credential, SupportsTokenInfo)
    token = credential.get_token(GRAPH_DEFAULT)
    value, expires_on = token  # a namedtuple, as azure-core's AccessToken
    assert token.token == value and claims_of(value)["roles"] == ["User.Read.All"]
    assert abs(expires_on - (emu.now() + 3600)) <= 2
    info = credential.get_token_info(GRAPH_DEFAULT)
    assert info.token_type == "Bearer" and abs(info.expires_on - expires_on) <= 2
    assert value not in repr(token) and value not in repr(info)
    # Both get the app-only token from the application's cache: one token request.
    assert len(emu.requests_to("token")) == 1


def test_policy_answers_a_cae_claims_challenge(emu: Emulator) -> None:
    credential = Recording(EntraTokenCredential(signed_in_app(emu), account=ALICE,
                                                clock=emu.now))
    run = pipeline(emu, credential).run
    first = run(HttpRequest("GET", emu.graph_url)).http_response
    assert first.status_code == 200 and first.json()["userPrincipalName"] == ALICE
    emu.require_auth_context("c1")  # Graph now sends a step-up claims challenge
    second = run(HttpRequest("GET", emu.graph_url)).http_response
    assert second.status_code == 200
    assert len(credential.calls) == 2
    claims = json.loads(credential.calls[1]["claims"])
    assert claims["access_token"]["acrs"]["value"] == "c1"
    refresh = emu.requests_to("token")[-1]
    assert refresh.grant_type == "refresh_token" and '"acrs"' in refresh.form["claims"]


def test_unanswerable_challenge_raises_chained_to_the_401(emu: Emulator) -> None:
    run = pipeline(emu, EntraTokenCredential(signed_in_app(emu), clock=emu.now)).run
    assert run(HttpRequest("GET", emu.graph_url)).http_response.status_code == 200
    emu.revoke_sessions(ALICE)  # the refresh token dies too: only a sign-in helps
    with pytest.raises(InteractionRequiredError) as caught:
        run(HttpRequest("GET", emu.graph_url))
    assert caught.value.claims is not None and '"nbf"' in caught.value.claims
    assert isinstance(caught.value.__cause__, HttpResponseError)


def test_on_behalf_of_credential(emu: Emulator) -> None:
    incoming = signed_in_app(emu).acquire_token_by_username_password(
        ALICE, PASSWORD, scopes=[f"api://{WEB_API_ID}/access_as_user"])["access_token"]
    api_app = entra_auth.ConfidentialClientApplication(
        WEB_API_ID, client_credential=WEB_API_SECRET, **app_kwargs(emu))
    credential = EntraTokenCredential.on_behalf_of(api_app, incoming, clock=emu.now)
    token = credential.get_token(GRAPH_USER_READ)
    assert claims_of(token.token)["scp"].startswith("User.Read")
    assert emu.requests_to("token")[-1].grant_type.endswith("jwt-bearer")
    with pytest.raises(ValueError):
        EntraTokenCredential.on_behalf_of(signed_in_app(emu), incoming)


def test_no_account_and_tenant_rules(emu: Emulator) -> None:
    public = entra_auth.PublicClientApplication(PUBLIC_CLIENT_ID, **app_kwargs(emu))
    with pytest.raises(InteractionRequiredError) as caught:
        EntraTokenCredential(public).get_token(GRAPH_USER_READ)
    assert caught.value.error == "no_account"
    user = EntraTokenCredential(signed_in_app(emu), clock=emu.now)
    assert user.get_token(GRAPH_USER_READ, tenant_id=emu.tenant_id).token
    app = entra_auth.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, **app_kwargs(emu))
    with pytest.raises(TenantNotAllowedError):  # azure-identity: ClientAuthenticationError
        EntraTokenCredential(app).get_token(GRAPH_DEFAULT, tenant_id="another-tenant")
    with pytest.raises(ValueError):  # allowed, but app-only needs an app for that tenant
        EntraTokenCredential(app, additionally_allowed_tenants=["*"]).get_token(
            GRAPH_DEFAULT, tenant_id="another-tenant")
    with pytest.raises(ValueError):
        EntraTokenCredential(app).get_token()


def test_async_credential_in_the_async_policy(emu: Emulator) -> None:
    sync_app = signed_in_app(emu)

    async def run() -> None:
        app = aio.PublicClientApplication(
            PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle,
            instance_discovery=False, token_cache=sync_app.token_cache)
        async with app, aio.EntraTokenCredential(app, clock=emu.now) as credential:
            assert isinstance(credential, AsyncTokenCredential)
            policy = AsyncBearerTokenCredentialPolicy(credential, GRAPH_DEFAULT)
            transport = AsyncioRequestsTransport(session=emu.requests_session(),
                                                 session_owner=False,
                                                 connection_verify=emu.ca_bundle)
            async with AsyncPipeline(transport=transport, policies=[policy]) as pipe:
                first = await pipe.run(HttpRequest("GET", emu.graph_url))
                assert first.http_response.status_code == 200
                emu.require_auth_context("c1")
                second = await pipe.run(HttpRequest("GET", emu.graph_url))
                assert second.http_response.status_code == 200
            token = await credential.get_token(GRAPH_USER_READ)
            assert claims_of(token.token)["acrs"] == ["c1"]

    asyncio.run(run())
    assert '"acrs"' in emu.requests_to("token")[-1].form["claims"]


def test_policy_recovers_from_a_cae_revocation(emu: Emulator) -> None:
    credential = Recording(EntraTokenCredential(signed_in_app(emu), clock=emu.now))
    run = pipeline(emu, credential).run
    assert run(HttpRequest("GET", emu.graph_url)).http_response.status_code == 200
    emu.revoke_access_tokens(ALICE)  # a critical event: access tokens die, sessions live
    reply = run(HttpRequest("GET", emu.graph_url)).http_response
    assert reply.status_code == 200
    assert '"nbf"' in credential.calls[-1]["claims"]
    assert emu.requests_to("token")[-1].grant_type == "refresh_token"
