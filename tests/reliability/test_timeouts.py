"""Every token request is bounded by default: a token endpoint that accepts the connection and
never answers gives ``transport_error`` (or the adapter's ``TransportFailure``) within the read
timeout plus 1 s, sync and async, with the default timeout and with ``timeout=``."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import requests

import entra_auth as msal
from entra_auth import EntraAuth, TransportFailure, aio
from entra_auth.testing import WEB_APP_ID, WEB_APP_SECRET, Emulator
from entra_auth.transport.timeouts import CONNECT_TIMEOUT, READ_TIMEOUT

from .flows import GRAPH_DEFAULT


def _hang_token_endpoint(emu: Emulator, seconds: float) -> None:
    # The emulator accepts the connection and reads the request, then says nothing for
    # `seconds` (longer than any timeout under test): a black hole for the client.
    emu.inject_fault("token", "delay", seconds=seconds, times=None)


def _sync_app(emu: Emulator, **kwargs: Any) -> Any:
    app = msal.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        verify=emu.ca_bundle, token_cache=msal.SerializableTokenCache(), http_cache={},
        **kwargs)
    app.get_accounts()  # discovery, before the endpoint hangs
    return app


def _async_app(emu: Emulator, **kwargs: Any) -> Any:
    return aio.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        verify=ssl.create_default_context(cafile=emu.ca_bundle),
        token_cache=msal.SerializableTokenCache(), http_cache={}, **kwargs)


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    start = time.monotonic()
    try:
        outcome = call()
    except TransportFailure as exc:
        outcome = exc
    return outcome, time.monotonic() - start


def _sync_result(emu: Emulator, hang: float, **kwargs: Any) -> tuple[Any, float]:
    app = _sync_app(emu, **kwargs)
    _hang_token_endpoint(emu, hang)
    return _timed(lambda: app.acquire_token_for_client(GRAPH_DEFAULT))


def _async_result(emu: Emulator, hang: float, **kwargs: Any) -> tuple[Any, float]:
    async def run() -> tuple[Any, float]:
        app = _async_app(emu, **kwargs)
        try:
            await app.get_accounts()
            _hang_token_endpoint(emu, hang)
            start = time.monotonic()
            result = await app.acquire_token_for_client(GRAPH_DEFAULT)
            return result, time.monotonic() - start
        finally:
            await app.aclose()

    return asyncio.run(run())


def _requests_adapter(emu: Emulator, hang: float, **kwargs: Any) -> tuple[Any, float]:
    app = _sync_app(emu, **kwargs)
    _hang_token_endpoint(emu, hang)
    with requests.Session() as session:
        session.auth = EntraAuth(app, GRAPH_DEFAULT, allowed_hosts=["127.0.0.1"])
        session.verify = emu.ca_bundle
        return _timed(lambda: session.get(emu.echo_url, timeout=READ_TIMEOUT * 3))


def _httpx_async_adapter(emu: Emulator, hang: float, **kwargs: Any) -> tuple[Any, float]:
    async def run() -> tuple[Any, float]:
        app = _async_app(emu, **kwargs)
        await app.get_accounts()
        _hang_token_endpoint(emu, hang)
        auth = EntraAuth(app, GRAPH_DEFAULT, allowed_hosts=["127.0.0.1"])
        context = ssl.create_default_context(cafile=emu.ca_bundle)
        start = time.monotonic()
        try:
            async with httpx.AsyncClient(auth=auth, verify=context,
                                         timeout=READ_TIMEOUT * 3) as client:
                await client.get(emu.echo_url)
        except TransportFailure as exc:
            return exc, time.monotonic() - start
        finally:
            await app.aclose()
        return None, time.monotonic() - start

    return asyncio.run(run())


CASES = {
    "sync app": _sync_result,
    "aio app": _async_result,
    "requests adapter": _requests_adapter,
    "httpx async adapter": _httpx_async_adapter,
}


def _check(outcome: Any, elapsed: float, bound: float) -> None:
    if isinstance(outcome, TransportFailure):
        assert outcome.error == "transport_error"
    else:
        assert isinstance(outcome, dict) and outcome.get("error") == "transport_error", outcome
        assert "timed out" in outcome["error_description"], outcome
    assert bound - 0.5 <= elapsed <= bound + 1.0, f"took {elapsed:.2f} s for a {bound} s timeout"


@pytest.mark.parametrize("case", list(CASES))
def test_hanging_token_endpoint_is_bounded_by_timeout_argument(
    entra_emulator: Emulator, case: str
) -> None:
    outcome, elapsed = CASES[case](entra_emulator, 5.0, timeout=1.0)
    _check(outcome, elapsed, 1.0)
    assert len(entra_emulator.requests_to("token")) == 1  # a POST is never retried


@pytest.mark.stress
def test_hanging_token_endpoint_is_bounded_by_default(entra_emulator: Emulator) -> None:
    # The four cases wait side by side (each measures its own call): 30 s, not 2 minutes.
    with ThreadPoolExecutor(max_workers=len(CASES)) as pool:
        futures = {case: pool.submit(run, entra_emulator, READ_TIMEOUT + 10)
                   for case, run in CASES.items()}
        for case, future in futures.items():
            outcome, elapsed = future.result()
            try:
                _check(outcome, elapsed, READ_TIMEOUT)
            except AssertionError as exc:
                raise AssertionError(f"{case}: {exc}") from None


def test_sync_and_async_defaults_are_the_same_documented_bounds() -> None:
    from entra_auth.transport.httpx_transport import AsyncHttpxTransport
    from entra_auth.transport.requests_transport import RequestsTransport

    assert RequestsTransport().timeout == (CONNECT_TIMEOUT, READ_TIMEOUT)
    client = AsyncHttpxTransport().client
    assert (client.timeout.connect, client.timeout.read) == (CONNECT_TIMEOUT, READ_TIMEOUT)
    assert RequestsTransport(timeout=3).timeout == 3  # timeout= still overrides
