"""DefaultAzureCredential: order, switches, fast unavailability, memory, EntraAuth, CLI, aio."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.core.pipeline import Pipeline
from azure.core.pipeline.policies import BearerTokenCredentialPolicy
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest
from azure.identity import ChainedTokenCredential

from entra_auth import (
    ChainedCredential,
    CredentialUnavailableError,
    DefaultAzureCredential,
    DefaultCredentialError,
    EntraAuth,
    aio,
)
from entra_auth.azure.credential import AccessTokenInfo
from entra_auth.testing import WEB_APP_ID, WEB_APP_SECRET, Emulator
from entra_auth.testing.imds import managed_identity_host

from .test_developer_credentials import ARM, calls, fake_tool, write_az_login

GRAPH_DEFAULT = "https://graph.microsoft.com/.default"


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "entra_auth", *args], env=env,
                          capture_output=True, text=True, timeout=60, check=False)

ALL = ["EnvironmentCredential", "WorkloadIdentityCredential", "ManagedIdentityCredential",
       "EntraAuthCliCredential", "AzureCliCredential", "AzureDeveloperCliCredential"]


def names(credential: Any) -> list[str]:
    return [c.name for c in credential.credentials]


def service_principal(emu: Emulator) -> dict[str, str]:
    return {"AZURE_CLIENT_ID": WEB_APP_ID, "AZURE_TENANT_ID": emu.tenant_id,
            "AZURE_CLIENT_SECRET": WEB_APP_SECRET, "AZURE_AUTHORITY_HOST": emu.base_url,
            "REQUESTS_CA_BUNDLE": str(emu.ca_bundle)}


def test_order_switches_and_azure_token_credentials(isolated: dict[str, str]) -> None:
    assert names(DefaultAzureCredential(environ=isolated)) == ALL
    assert names(DefaultAzureCredential(
        environ=isolated, exclude_interactive_browser_credential=False)) == [
            *ALL, "InteractiveBrowserCredential"]
    assert names(DefaultAzureCredential(
        environ=isolated, exclude_cli_credential=True, exclude_managed_identity_credential=True,
        exclude_shared_token_cache_credential=True)) == [
            n for n in ALL if n not in ("AzureCliCredential", "ManagedIdentityCredential")]
    prod = DefaultAzureCredential(environ=dict(isolated, AZURE_TOKEN_CREDENTIALS="prod"))
    assert names(prod) == ALL[:3]
    dev = DefaultAzureCredential(environ=dict(isolated, AZURE_TOKEN_CREDENTIALS="dev"))
    assert names(dev) == ALL[3:]
    one = DefaultAzureCredential(
        environ=dict(isolated, AZURE_TOKEN_CREDENTIALS="azureclicredential"),
        exclude_cli_credential=True)
    assert names(one) == ["AzureCliCredential"]
    with pytest.raises(ValueError, match="AZURE_TOKEN_CREDENTIALS"):
        DefaultAzureCredential(environ=dict(isolated, AZURE_TOKEN_CREDENTIALS="laptop"))
    with pytest.raises(TypeError, match="exclude_everything"):
        DefaultAzureCredential(environ=isolated, exclude_everything=True)


def test_nothing_configured_lists_every_source_and_why(isolated: dict[str, str]) -> None:
    credential = DefaultAzureCredential(environ=isolated)
    with pytest.raises(DefaultCredentialError) as caught:
        credential.get_token(ARM)
    error = caught.value
    assert [name for name, _ in error.attempts] == ALL
    why = dict(error.attempts)
    assert "AZURE_CLIENT_ID" in why["EnvironmentCredential"]
    assert "AZURE_FEDERATED_TOKEN_FILE" in why["WorkloadIdentityCredential"]
    assert "no managed identity endpoint answered" in why["ManagedIdentityCredential"]
    assert "entra-auth login" in why["EntraAuthCliCredential"]
    assert "not installed" in why["AzureCliCredential"]
    assert "not installed" in why["AzureDeveloperCliCredential"]
    for name in ALL:
        assert name in str(error)
    assert isinstance(error, ClientAuthenticationError)
    assert credential.successful_credential is None


def test_environment_first_and_remembered(isolated: dict[str, str], tmp_path: Path,
                                          entra_emulator: Emulator) -> None:
    log = fake_tool(isolated, tmp_path, "az", code="1", err="must not run")
    credential = DefaultAzureCredential(environ={**isolated, **service_principal(entra_emulator)})
    info = credential.get_token_info(GRAPH_DEFAULT)
    assert info.token.startswith("ey") and info.refresh_on is not None
    assert credential.successful_credential.name == "EnvironmentCredential"
    assert credential.get_token(GRAPH_DEFAULT).token == info.token  # the app's cache
    assert len(entra_emulator.requests_to("token")) == 1 and calls(log) == []


def test_managed_identity_from_the_emulator(isolated: dict[str, str], tmp_path: Path,
                                            entra_emulator: Emulator) -> None:
    log = fake_tool(isolated, tmp_path, "az", code="1", err="must not run")
    env = dict(isolated, AZURE_POD_IDENTITY_AUTHORITY_HOST=entra_emulator.base_url,
               REQUESTS_CA_BUNDLE=str(entra_emulator.ca_bundle))
    credential = DefaultAzureCredential(environ=env)
    token = credential.get_token("https://graph.microsoft.com/.default")
    assert credential.successful_credential.name == "ManagedIdentityCredential"
    payload = requests.get(entra_emulator.echo_url, headers={
        "Authorization": f"Bearer {token.token}"}, verify=entra_emulator.ca_bundle,
        timeout=10).json()
    assert payload["claims"]["oid"] == managed_identity_host(
        entra_emulator).system_assigned.object_id
    assert calls(log) == []


def test_falls_through_to_the_azure_cli(isolated: dict[str, str], tmp_path: Path) -> None:
    write_az_login(Path(isolated["AZURE_CONFIG_DIR"]), access_token="az-cached",
                   expires_in=3600)
    credential = DefaultAzureCredential(environ=isolated)
    assert credential.get_token(ARM).token == "az-cached"
    assert credential.successful_credential.name == "AzureCliCredential"


class Scripted:
    """A chain member that answers from a script (the chain's own logic, no HTTP)."""

    def __init__(self, name: str, *outcomes: Any) -> None:
        self.name, self.outcomes, self.calls = name, list(outcomes), 0

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return AccessTokenInfo(outcome, 2_000_000_000)


def test_chain_remembers_and_stops_on_a_real_failure() -> None:
    flaky = Scripted("flaky", CredentialUnavailableError("not yet"), "flaky-token")
    steady = Scripted("steady", "steady-1", "steady-2")
    chain = ChainedCredential(flaky, steady)
    assert chain.get_token("s").token == "steady-1"
    assert chain.get_token("s").token == "steady-2"
    assert flaky.calls == 1 and chain.successful_credential is steady
    broken = ChainedCredential(Scripted("bad", ClientAuthenticationError("denied")),
                               Scripted("never", "x"))
    with pytest.raises(ClientAuthenticationError, match="denied"):
        broken.get_token("s")


def test_as_the_application_behind_entra_auth(isolated: dict[str, str],
                                              entra_emulator: Emulator) -> None:
    credential = DefaultAzureCredential(environ={**isolated, **service_principal(entra_emulator)})
    session = entra_emulator.requests_session()
    session.auth = EntraAuth(credential, scopes=[GRAPH_DEFAULT],
                             allowed_hosts=["127.0.0.1"])
    reply = session.get(entra_emulator.echo_url, timeout=10)
    assert reply.status_code == 200 and reply.json()["claims"]["azp"] == WEB_APP_ID
    assert session.get(entra_emulator.echo_url, timeout=10).status_code == 200
    assert len(entra_emulator.requests_to("token")) == 1
    empty = EntraAuth(DefaultAzureCredential(environ=isolated), scopes=[ARM])
    with pytest.raises(Exception, match="credential_chain_exhausted"):
        empty.get_token()


def test_in_azure_core_pipeline_and_azure_identity_chain(isolated: dict[str, str],
                                                          entra_emulator: Emulator) -> None:
    unavailable = DefaultAzureCredential(environ=isolated)
    working = DefaultAzureCredential(environ={**isolated, **service_principal(entra_emulator)})
    chain = ChainedTokenCredential(unavailable, working)  # azure-identity's own chain
    policy = BearerTokenCredentialPolicy(chain, GRAPH_DEFAULT)
    transport = RequestsTransport(session=entra_emulator.requests_session(),
                                  session_owner=False,
                                  connection_verify=entra_emulator.ca_bundle)
    reply = Pipeline(transport=transport, policies=[policy]).run(
        HttpRequest("GET", entra_emulator.echo_url)).http_response
    assert reply.status_code == 200 and reply.json()["claims"]["azp"] == WEB_APP_ID


def test_async_default_credential(isolated: dict[str, str], entra_emulator: Emulator) -> None:
    async def run() -> tuple[str, str]:
        async with aio.DefaultAzureCredential(
                environ={**isolated, **service_principal(entra_emulator)}) as credential:
            token = await credential.get_token(GRAPH_DEFAULT)
            info = await credential.get_token_info(GRAPH_DEFAULT)
            assert info.token == token.token
            return token.token, credential.successful_credential.name

    token, name = asyncio.run(run())
    assert token.startswith("ey") and name == "EnvironmentCredential"

    async def fail() -> None:
        async with aio.DefaultAzureCredential(environ=isolated) as credential:
            await credential.get_token(ARM)

    with pytest.raises(DefaultCredentialError):
        asyncio.run(fail())


def test_cli_token_with_the_default_credential(isolated: dict[str, str],
                                               entra_emulator: Emulator) -> None:
    env = {**isolated, **service_principal(entra_emulator),
           "PATH": isolated["PATH"] + ":/usr/bin:/bin"}
    done = run_cli(env, "token", "--default-credential")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["token_source"] == "EnvironmentCredential" and out["access_token"].startswith("ey")
    nothing = run_cli(dict(isolated, PATH=env["PATH"]), "token", "--default-credential", "-v")
    assert nothing.returncode == 4
    assert "AzureCliCredential:" in nothing.stderr
    assert "ManagedIdentityCredential:" in nothing.stderr


def test_enable_cae_asks_for_cp1_and_caches_apart(isolated: dict[str, str],
                                                  entra_emulator: Emulator) -> None:
    credential = DefaultAzureCredential(environ={**isolated, **service_principal(entra_emulator)})
    plain = credential.get_token(GRAPH_DEFAULT)
    assert "claims" not in entra_emulator.requests_to("token")[-1].form
    cae = credential.get_token(GRAPH_DEFAULT, enable_cae=True)
    claims = json.loads(entra_emulator.requests_to("token")[-1].form["claims"])
    assert claims["access_token"]["xms_cc"]["values"] == ["CP1"]
    assert cae.token != plain.token and len(entra_emulator.requests_to("token")) == 2
    assert credential.get_token(GRAPH_DEFAULT, enable_cae=True).token == cae.token


def test_async_chain_in_the_async_policy(isolated: dict[str, str],
                                         entra_emulator: Emulator) -> None:
    from azure.core.credentials_async import AsyncTokenCredential
    from azure.core.pipeline import AsyncPipeline
    from azure.core.pipeline.policies import AsyncBearerTokenCredentialPolicy
    from azure.core.pipeline.transport import AsyncioRequestsTransport

    async def run() -> int:
        async with aio.DefaultAzureCredential(
                environ={**isolated, **service_principal(entra_emulator)}) as credential:
            assert isinstance(credential, AsyncTokenCredential)
            transport = AsyncioRequestsTransport(session=entra_emulator.requests_session(),
                                                 session_owner=False,
                                                 connection_verify=entra_emulator.ca_bundle)
            policy = AsyncBearerTokenCredentialPolicy(credential, GRAPH_DEFAULT)
            async with AsyncPipeline(transport=transport, policies=[policy]) as pipe:
                reply = await pipe.run(HttpRequest("GET", entra_emulator.echo_url))
                status: int = reply.http_response.status_code
                return status

    assert asyncio.run(run()) == 200
