"""ManagedIdentityClient against the emulator's IMDS and App Service endpoints (real HTTPS)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msal
import pytest
import requests

import entra_auth
from entra_auth.managed_identity import (
    AsyncManagedIdentityClient,
    ManagedIdentityClient,
    ManagedIdentityUnavailableError,
    RetryPolicy,
    SystemAssignedManagedIdentity,
    UserAssignedManagedIdentity,
)
from entra_auth.testing import GRAPH_RESOURCE, Emulator
from entra_auth.testing.imds import (
    ManagedIdentityRecord,
    app_service_environment,
    assign_managed_identities,
    managed_identity_host,
)

FAST = RetryPolicy(backoff=0.01, max_delay=0.05)


def _client(emu: Emulator, identity: Any = None, **kwargs: Any) -> ManagedIdentityClient:
    kwargs.setdefault("imds_endpoint", emu.base_url)
    kwargs.setdefault("retry_policy", FAST)
    return ManagedIdentityClient(identity or SystemAssignedManagedIdentity(),
                                 verify=emu.ca_bundle, **kwargs)


def _claims(emu: Emulator, token: str) -> dict[str, Any]:
    """The token's claims as the emulator's bearer-checked echo endpoint validated them."""
    resp = requests.get(emu.echo_url, headers={"Authorization": f"Bearer {token}"},
                        verify=emu.ca_bundle, timeout=10)
    assert resp.status_code == 200, resp.text
    claims: dict[str, Any] = resp.json()["claims"]
    return claims


def test_system_assigned_on_imds_then_cache(entra_emulator: Emulator) -> None:
    client = _client(entra_emulator)
    first = client.acquire_token_for_client(resource=GRAPH_RESOURCE)
    assert first["token_source"] == "identity_provider" and first["expires_in"] > 3000
    claims = _claims(entra_emulator, first["access_token"])
    host = managed_identity_host(entra_emulator)
    assert host.system_assigned is not None
    assert claims["oid"] == host.system_assigned.object_id
    assert claims["aud"] == GRAPH_RESOURCE
    second = client.acquire_token_for_client(resource=GRAPH_RESOURCE + "/.default")
    assert second["token_source"] == "cache" and second["access_token"] == first["access_token"]
    (logged,) = entra_emulator.requests_to("imds")
    assert logged.headers["metadata"] == "true"
    assert logged.query == {"api-version": "2018-02-01", "resource": GRAPH_RESOURCE}


def test_env_var_points_at_the_emulator(entra_emulator: Emulator,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", entra_emulator.base_url)
    client = ManagedIdentityClient(SystemAssignedManagedIdentity(), verify=entra_emulator.ca_bundle)
    assert "access_token" in client.acquire_token_for_client(resource=GRAPH_RESOURCE)


@pytest.mark.parametrize("id_kind", ["client_id", "object_id", "resource_id"])
def test_user_assigned_identities_on_imds(entra_emulator: Emulator, id_kind: str) -> None:
    first, second = ManagedIdentityRecord(), ManagedIdentityRecord()
    assign_managed_identities(entra_emulator, system_assigned=False,
                              user_assigned=[first, second])
    client = _client(entra_emulator, UserAssignedManagedIdentity(
        **{id_kind: getattr(second, id_kind)}))
    result = client.acquire_token_for_client(resource=GRAPH_RESOURCE)
    claims = _claims(entra_emulator, result["access_token"])
    assert (claims["oid"], claims["appid"], claims["xms_mirid"]) == (
        second.object_id, second.client_id, second.resource_id)
    # without naming one, a host with two user-assigned identities refuses
    refused = _client(entra_emulator).acquire_token_for_client(resource=GRAPH_RESOURCE)
    assert "Multiple user assigned identities" in refused["error_description"]


def test_unassigned_identity_and_unknown_resource_are_error_dicts(
        entra_emulator: Emulator) -> None:
    client = _client(entra_emulator, UserAssignedManagedIdentity(client_id="not-assigned"))
    result = client.acquire_token_for_client(resource=GRAPH_RESOURCE)
    assert result["error"] == "invalid_request"
    assert result["error_description"] == "Identity not found"
    result = _client(entra_emulator).acquire_token_for_client(resource="https://nope.example")
    assert result["error"] == "invalid_resource"
    assert len(entra_emulator.requests_to("imds")) == 2  # 400s are not retried


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttling_and_transient_errors_are_retried(entra_emulator: Emulator,
                                                     status: int) -> None:
    fault = entra_emulator.inject_fault("imds", "status", status=status, retry_after=0, times=3)
    result = _client(entra_emulator).acquire_token_for_client(resource=GRAPH_RESOURCE)
    assert result["token_source"] == "identity_provider"
    assert fault.fired == 3 and len(entra_emulator.requests_to("imds")) == 4


def test_retries_are_bounded(entra_emulator: Emulator) -> None:
    entra_emulator.inject_fault("imds", "status", status=429, retry_after=0, times=None)
    policy = RetryPolicy(max_retries=2, backoff=0.01)
    slept: list[float] = []
    result = _client(entra_emulator, retry_policy=policy, sleep=slept.append
                     ).acquire_token_for_client(resource=GRAPH_RESOURCE)
    assert result["status_code"] == 429 and "error" in result
    assert len(entra_emulator.requests_to("imds")) == 3
    assert slept == [0.01, 0.02]  # two retries, exponential backoff, then the answer


def test_retry_after_is_honoured(entra_emulator: Emulator) -> None:
    entra_emulator.inject_fault("imds", "status", status=429, retry_after=1, times=1)
    slept: list[float] = []
    result = _client(entra_emulator, retry_policy=RetryPolicy(backoff=0.01, max_delay=5),
                     sleep=slept.append).acquire_token_for_client(resource=GRAPH_RESOURCE)
    assert "access_token" in result and slept == [1.0]  # the server's Retry-After, not 0.01


def test_retry_after_is_capped_by_max_delay(entra_emulator: Emulator) -> None:
    entra_emulator.inject_fault("imds", "status", status=503, retry_after=3600, times=1)
    slept: list[float] = []
    result = _client(entra_emulator, retry_policy=RetryPolicy(backoff=0.01, max_delay=5),
                     sleep=slept.append).acquire_token_for_client(resource=GRAPH_RESOURCE)
    assert "access_token" in result and slept == [5.0]


def test_async_client_waits_with_its_sleep(entra_emulator: Emulator) -> None:
    entra_emulator.inject_fault("imds", "status", status=429, retry_after=1, times=1)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def go() -> dict[str, Any]:
        client = AsyncManagedIdentityClient(
            SystemAssignedManagedIdentity(), imds_endpoint=entra_emulator.base_url,
            verify=entra_emulator.ca_bundle, retry_policy=FAST, sleep=sleep)
        try:
            return await client.acquire_token_for_client(resource=GRAPH_RESOURCE)
        finally:
            await client.aclose()

    assert "access_token" in asyncio.run(go()) and slept == [0.05]  # Retry-After, capped


def test_dropped_connection_is_retried_once_the_endpoint_has_answered(
        entra_emulator: Emulator) -> None:
    client = _client(entra_emulator)
    assert "access_token" in client.acquire_token_for_client(resource=GRAPH_RESOURCE)
    fault = entra_emulator.inject_fault("imds", "drop", times=1)
    result = client.acquire_token_for_client(resource="https://management.azure.com")
    assert fault.fired == 1 and ("access_token" in result or "error" in result)
    assert result.get("error") in (None, "invalid_resource")  # ARM isn't a known resource


def test_no_managed_identity_is_a_clear_exception() -> None:
    slept: list[float] = []
    client = ManagedIdentityClient(SystemAssignedManagedIdentity(),  # env: loopback port 9
                                   sleep=slept.append)
    with pytest.raises(ManagedIdentityUnavailableError) as info:
        client.acquire_token_for_client(resource=GRAPH_RESOURCE)
    assert "no managed identity is available" in str(info.value)
    assert isinstance(info.value, entra_auth.EntraAuthError) and isinstance(info.value,
                                                                           ValueError)
    assert slept == []  # reported at once: the first request is a probe, never retried


def test_app_service_system_and_user_assigned(entra_emulator: Emulator) -> None:
    user = ManagedIdentityRecord()
    host = assign_managed_identities(entra_emulator, user_assigned=[user])
    env = app_service_environment(entra_emulator)
    client = ManagedIdentityClient(SystemAssignedManagedIdentity(), environ=env,
                                   verify=entra_emulator.ca_bundle, retry_policy=FAST)
    assert client.source.kind == "app_service"
    token = client.acquire_token_for_client(resource=GRAPH_RESOURCE)["access_token"]
    assert host.system_assigned is not None
    assert _claims(entra_emulator, token)["oid"] == host.system_assigned.object_id
    (logged,) = entra_emulator.requests_to("app_service")
    assert logged.query["api-version"] == "2019-08-01"
    # the App Service secret is sent, but the request log keeps it redacted like the others
    assert env["IDENTITY_HEADER"] not in repr(entra_emulator.requests)
    assert logged.headers["x-identity-header"] == "<redacted>"
    for kwargs, param in (({"object_id": user.object_id}, "principal_id"),
                          ({"resource_id": user.resource_id}, "mi_res_id")):
        entra_emulator.clear_log()
        ua = ManagedIdentityClient(UserAssignedManagedIdentity(**kwargs), environ=env,
                                   verify=entra_emulator.ca_bundle)
        token = ua.acquire_token_for_client(resource=GRAPH_RESOURCE)["access_token"]
        assert _claims(entra_emulator, token)["oid"] == user.object_id
        assert param in entra_emulator.requests_to("app_service")[0].query


def test_app_service_wrong_header_and_retries(entra_emulator: Emulator) -> None:
    env = dict(app_service_environment(entra_emulator), IDENTITY_HEADER="wrong")
    client = ManagedIdentityClient(SystemAssignedManagedIdentity(), environ=env,
                                   verify=entra_emulator.ca_bundle, retry_policy=FAST)
    result = client.acquire_token_for_client(resource=GRAPH_RESOURCE)
    assert result["status_code"] == 401 and "IDENTITY-HEADER" in result["error_description"]
    entra_emulator.inject_fault("app_service", "status", status=503, times=2)
    good = ManagedIdentityClient(SystemAssignedManagedIdentity(),
                                 environ=app_service_environment(entra_emulator),
                                 verify=entra_emulator.ca_bundle, retry_policy=FAST)
    assert "access_token" in good.acquire_token_for_client(resource=GRAPH_RESOURCE)


def test_cache_interchanges_with_msal(entra_emulator: Emulator,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", entra_emulator.base_url)
    session = entra_emulator.requests_session()
    msal_cache = msal.SerializableTokenCache()
    theirs = msal.ManagedIdentityClient(msal.UserAssignedManagedIdentity(client_id="x"),
                                        http_client=session, token_cache=msal_cache)
    assign_managed_identities(entra_emulator, user_assigned=[ManagedIdentityRecord(
        client_id="x")])
    token = theirs.acquire_token_for_client(resource=GRAPH_RESOURCE)["access_token"]
    ours_cache = entra_auth.SerializableTokenCache()
    ours_cache.deserialize(msal_cache.serialize())
    ours = _client(entra_emulator, UserAssignedManagedIdentity(client_id="x"),
                   token_cache=ours_cache)
    hit = ours.acquire_token_for_client(resource=GRAPH_RESOURCE)
    assert hit["token_source"] == "cache" and hit["access_token"] == token
    # and the other way round: msal finds what we cached
    fresh = entra_auth.SerializableTokenCache()
    mine = _client(entra_emulator, SystemAssignedManagedIdentity(), token_cache=fresh)
    token = mine.acquire_token_for_client(resource=GRAPH_RESOURCE)["access_token"]
    msal_cache2 = msal.SerializableTokenCache()
    msal_cache2.deserialize(fresh.serialize())
    theirs2 = msal.ManagedIdentityClient(msal.SystemAssignedManagedIdentity(),
                                         http_client=session, token_cache=msal_cache2)
    again = theirs2.acquire_token_for_client(resource=GRAPH_RESOURCE)
    assert again["token_source"] == "cache" and again["access_token"] == token


def test_async_client_runs_the_same_flow(entra_emulator: Emulator) -> None:
    entra_emulator.inject_fault("imds", "status", status=429, retry_after=0, times=1)

    async def main() -> tuple[dict[str, Any], dict[str, Any]]:
        client = AsyncManagedIdentityClient(UserAssignedManagedIdentity(client_id="a"),
                                            imds_endpoint=entra_emulator.base_url,
                                            verify=entra_emulator.ca_bundle, retry_policy=FAST)
        try:
            first = await client.acquire_token_for_client(resource=GRAPH_RESOURCE)
            return first, await client.acquire_token_for_client(resource=GRAPH_RESOURCE)
        finally:
            await client.aclose()

    assign_managed_identities(entra_emulator, user_assigned=[ManagedIdentityRecord(
        client_id="a")])
    first, second = asyncio.run(main())
    assert first["token_source"] == "identity_provider" and second["token_source"] == "cache"


def test_no_token_in_logs(entra_emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    entra_emulator.inject_fault("imds", "status", status=500, times=1)
    token = _client(entra_emulator).acquire_token_for_client(resource=GRAPH_RESOURCE)[
        "access_token"]
    assert token[:40] not in caplog.text
