"""``ManagedIdentityClient(http_cache=...)``: msal's throttling store, honoured (issue 18 point 3).

An answer that was 429, 5xx or carried ``Retry-After`` is replayed from the shared store for
that long, so a second client (or a restarted process with a pickled store) does not hammer
the identity endpoint. Against the emulator's IMDS over loopback.
"""

from __future__ import annotations

import asyncio
import pickle
from typing import Any

import pytest

from entra_auth import (
    AsyncManagedIdentityClient,
    ManagedIdentityClient,
    ManagedIdentityError,
    SystemAssignedManagedIdentity,
)
from entra_auth.protocol.managed_identity import RetryPolicy
from entra_auth.testing import GRAPH_RESOURCE, Emulator
from entra_auth.testing.config import WEB_API_URI

FAST = RetryPolicy(backoff=0.01, max_delay=0.05)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def _client(emu: Emulator, **kwargs: Any) -> ManagedIdentityClient:
    return ManagedIdentityClient(SystemAssignedManagedIdentity(), imds_endpoint=emu.base_url,
                                 verify=emu.ca_bundle, retry_policy=FAST, **kwargs)


def test_a_400_with_retry_after_is_remembered_across_instances(
    entra_emulator: Emulator,
) -> None:
    entra_emulator.inject_fault("imds", "status", status=400, retry_after=30, times=1)
    clock = Clock()
    http_cache: dict[str, Any] = {}
    first = _client(entra_emulator, http_cache=http_cache, clock=clock).acquire_token_for_client(
        resource=GRAPH_RESOURCE)
    assert "error" in first and "access_token" not in first
    assert http_cache, "the throttled answer should be stored"
    stored = pickle.loads(pickle.dumps(http_cache))  # plain data: survives a restart
    assert "access_token" not in repr(stored)

    second = _client(entra_emulator, http_cache=stored, clock=clock).acquire_token_for_client(
        resource=GRAPH_RESOURCE)
    assert second["error"] == first["error"]
    assert len(entra_emulator.requests_to("imds")) == 1  # replayed, not asked again

    clock.now += 31
    third = _client(entra_emulator, http_cache=stored, clock=clock).acquire_token_for_client(
        resource=GRAPH_RESOURCE)
    assert "access_token" in third, third
    assert len(entra_emulator.requests_to("imds")) == 2


def test_throttling_is_per_request_and_successes_are_not_stored(
    entra_emulator: Emulator,
) -> None:
    entra_emulator.inject_fault("imds", "status", status=429, retry_after=60, times=None)
    http_cache: dict[str, Any] = {}
    policy = RetryPolicy(max_retries=0)
    result = ManagedIdentityClient(
        SystemAssignedManagedIdentity(), imds_endpoint=entra_emulator.base_url,
        verify=entra_emulator.ca_bundle, retry_policy=policy, http_cache=http_cache,
    ).acquire_token_for_client(resource=GRAPH_RESOURCE)
    assert "error" in result
    assert len(http_cache) == 1
    entra_emulator.reset()
    # Another resource is another request: not throttled, and its success is not stored.
    other = _client(entra_emulator, http_cache=http_cache).acquire_token_for_client(
        resource=WEB_API_URI)
    assert "access_token" in other, other
    assert len(http_cache) == 1


def test_without_http_cache_each_client_asks(entra_emulator: Emulator) -> None:
    entra_emulator.inject_fault("imds", "status", status=400, retry_after=30, times=1)
    assert "error" in _client(entra_emulator).acquire_token_for_client(resource=GRAPH_RESOURCE)
    assert "access_token" in _client(entra_emulator).acquire_token_for_client(
        resource=GRAPH_RESOURCE)
    assert len(entra_emulator.requests_to("imds")) == 2


def test_async_client_honours_http_cache(entra_emulator: Emulator) -> None:
    entra_emulator.inject_fault("imds", "status", status=400, retry_after=30, times=1)
    http_cache: dict[str, Any] = {}

    async def ask() -> dict[str, Any]:
        client = AsyncManagedIdentityClient(
            SystemAssignedManagedIdentity(), imds_endpoint=entra_emulator.base_url,
            verify=entra_emulator.ca_bundle, retry_policy=FAST, http_cache=http_cache)
        try:
            return await client.acquire_token_for_client(resource=GRAPH_RESOURCE)
        finally:
            await client.aclose()

    assert "error" in asyncio.run(ask())
    assert "error" in asyncio.run(ask())
    assert len(entra_emulator.requests_to("imds")) == 1


def test_a_corrupted_entry_is_ignored_and_a_non_mapping_refused(
    entra_emulator: Emulator,
) -> None:
    entra_emulator.inject_fault("imds", "status", status=400, retry_after=30, times=1)
    http_cache: dict[str, Any] = {}
    _client(entra_emulator, http_cache=http_cache).acquire_token_for_client(
        resource=GRAPH_RESOURCE)
    for key in http_cache:
        http_cache[key] = {"expires_at": "soon"}
    assert "access_token" in _client(entra_emulator, http_cache=http_cache
                                     ).acquire_token_for_client(resource=GRAPH_RESOURCE)
    with pytest.raises(ManagedIdentityError, match="http_cache"):
        _client(entra_emulator, http_cache=["not", "a", "mapping"])


# -- msal's get_managed_identity_source() (its public helper, issue 18) -------------------------

@pytest.mark.parametrize(("environ", "expected"), [
    ({"IDENTITY_ENDPOINT": "http://localhost", "IDENTITY_HEADER": "h",
      "IDENTITY_SERVER_THUMBPRINT": "t"}, "SERVICE_FABRIC"),
    ({"IDENTITY_ENDPOINT": "http://localhost", "IDENTITY_HEADER": "h"}, "APP_SERVICE"),
    ({"MSI_ENDPOINT": "http://localhost", "MSI_SECRET": "s"}, "MACHINE_LEARNING"),
    ({"IDENTITY_ENDPOINT": "http://localhost", "IMDS_ENDPOINT": "http://localhost"},
     "AZURE_ARC"),
    ({"AZUREPS_HOST_ENVIRONMENT": "cloud-shell/1.0"}, "CLOUD_SHELL"),
    ({}, "DEFAULT_TO_VM"),
])
def test_get_managed_identity_source(environ: dict[str, str], expected: str) -> None:
    import os

    from entra_auth import managed_identity

    found = managed_identity.get_managed_identity_source(environ)
    assert found is getattr(managed_identity, expected) and repr(found) == expected
    if not os.path.exists("/opt/azcmagent/bin/himds"):
        with pytest.MonkeyPatch.context() as mp:
            for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT",
                         "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT",
                         "AZUREPS_HOST_ENVIRONMENT"):
                mp.delenv(name, raising=False)
            for name, value in environ.items():
                mp.setenv(name, value)
            assert managed_identity.get_managed_identity_source() is found  # os.environ
