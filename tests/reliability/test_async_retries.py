"""The aio transport (httpx) retries as the sync one (requests + urllib3's ``Retry(total=1)``):
once, for a discovery GET that was reset, dropped or answered 503/429 with ``Retry-After`` (the
wait bounded to 5 s), never for a POST that was sent, and not at all with a client the
application was given."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import httpx
import pytest

import entra_auth
from entra_auth import aio
from entra_auth.testing import WEB_APP_ID, WEB_APP_SECRET, Emulator

GRAPH = ["https://graph.microsoft.com/.default"]


def _sync(emu: Emulator, slept: list[float]) -> dict[str, Any]:
    app = entra_auth.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        verify=emu.ca_bundle, sleep=slept.append)
    return app.acquire_token_for_client(GRAPH)


def _async(emu: Emulator, slept: list[float], client: httpx.AsyncClient | None = None
           ) -> dict[str, Any]:
    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def run() -> dict[str, Any]:
        async with aio.ConfidentialClientApplication(
                WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
                verify=emu.ca_bundle, sleep=sleep, http_client=client) as app:
            result: dict[str, Any] = await app.acquire_token_for_client(GRAPH)
            return result

    return asyncio.run(run())


FAULTS = [
    # (endpoint, kind, fault options, requests that reach it, token issued, waits)
    pytest.param("openid_configuration", "reset", {}, 2, True, [], id="GET reset"),
    pytest.param("openid_configuration", "drop", {}, 2, True, [], id="GET dropped"),
    pytest.param("openid_configuration", "status", {"retry_after": 3}, 2, True, [3.0],
                 id="GET 503 Retry-After 3"),
    pytest.param("openid_configuration", "status", {"status": 429, "retry_after": 3600}, 2,
                 True, [5.0], id="GET 429 Retry-After 3600"),
    pytest.param("openid_configuration", "status", {}, 1, False, [], id="GET 503"),
    pytest.param("token", "reset", {}, 1, False, [], id="POST reset"),
    pytest.param("token", "status", {"retry_after": 3}, 1, False, [], id="POST 503 Retry-After"),
]


@pytest.mark.parametrize(("endpoint", "kind", "options", "requests", "token", "waits"), FAULTS)
def test_aio_retries_as_the_sync_transport(entra_emulator: Emulator, endpoint: str, kind: Any,
                                           options: dict[str, Any], requests: int,
                                           token: bool, waits: list[float]) -> None:
    emu = entra_emulator
    outcomes = {}
    for name, call in (("sync", _sync), ("aio", _async)):
        emu.clear_log()
        emu.inject_fault(endpoint, kind, times=1, **options)
        slept: list[float] = []
        result = call(emu, slept)
        outcomes[name] = ("access_token" in result, len(emu.requests_to(endpoint)), slept)
        emu.clear_faults()
    assert outcomes["aio"] == outcomes["sync"] == (token, requests, waits)


def test_no_retry_with_a_client_the_application_was_given(entra_emulator: Emulator) -> None:
    emu = entra_emulator
    emu.inject_fault("openid_configuration", "reset", times=1)
    client = httpx.AsyncClient(verify=ssl.create_default_context(cafile=str(emu.ca_bundle)))
    result = _async(emu, [], client)
    asyncio.run(client.aclose())
    assert result["error"] == "transport_error"
    assert len(emu.requests_to("openid_configuration")) == 1
