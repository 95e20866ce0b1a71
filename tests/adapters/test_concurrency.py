"""Single-flight under load: many callers on an expired token cause exactly one token request."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import httpx
import requests
from fake_time import FakeTime

from entra_auth.adapters import EntraAuth
from entra_auth.adapters._acquire import REFRESH_LEAD
from entra_auth.testing.emulator import Emulator

from .conftest import GRAPH_SCOPES, ResourceServer, aio_public_app, public_app, sign_in


def signed_in_on_an_expired_token(emu: Emulator) -> Any:
    """A sync app whose cached access token counts as expired (under 5 minutes left), with
    a working refresh token; tokens minted afterwards live an hour."""
    emu.settings.access_token_lifetime = 120
    app = public_app(emu)
    sign_in(app)
    emu.settings.access_token_lifetime = 3600
    return app


def test_500_asyncio_tasks_share_one_token_request(
    emu: Emulator, resource: ResourceServer
) -> None:
    sync_app = signed_in_on_an_expired_token(emu)
    app = aio_public_app(emu, token_cache=sync_app.token_cache)
    auth = EntraAuth(app, GRAPH_SCOPES, allowed_hosts=["127.0.0.1"])
    before = len(emu.requests_to("token"))

    async def go() -> list[int]:
        # The resource is the plain-http loopback one (the emulator's TLS Graph is slow to
        # serve 500 requests); the tokens come from the emulator.
        # (httpx's pool is slowest at both 1 and 100 connections to a stdlib server.)
        limits = httpx.Limits(max_connections=10)
        async with httpx.AsyncClient(auth=auth, timeout=60, limits=limits) as client:
            replies = await asyncio.gather(
                *(client.get(resource.url("/record")) for _ in range(500))
            )
        await app.aclose()
        return [r.status_code for r in replies]

    statuses = asyncio.run(go())
    assert statuses == [200] * 500
    assert len(emu.requests_to("token")) == before + 1
    assert len({s.authorization for s in resource.seen}) == 1


def test_32_threads_share_one_token_request(emu: Emulator) -> None:
    app = signed_in_on_an_expired_token(emu)
    session = requests.Session()
    session.trust_env = False
    session.verify = emu.ca_bundle or True
    session.auth = EntraAuth(app, GRAPH_SCOPES, allowed_hosts=["127.0.0.1"])
    before = len(emu.requests_to("token"))
    barrier = threading.Barrier(32)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        status = session.get(emu.graph_url, timeout=60).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=worker) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert statuses == [200] * 32
    assert len(emu.requests_to("token")) == before + 1


def _bearer(seen: Any) -> str:
    return str(seen.authorization).removeprefix("Bearer ")


def test_proactive_refresh_does_not_make_callers_wait(
    emu: Emulator, resource: ResourceServer
) -> None:
    emu.settings.refresh_in = 1  # the token result says: refresh after one second
    fake = FakeTime()  # the app's and the adapter's clock: only advance() moves it
    app = public_app(emu, clock=fake)
    sign_in(app)
    auth = EntraAuth(app, GRAPH_SCOPES, allowed_hosts=["127.0.0.1"], clock=fake)
    session = requests.Session()
    session.auth = auth
    assert session.get(resource.url("/record")).status_code == 200
    before = len(emu.requests_to("token"))
    fake.advance(1.1)
    # In the refresh window the adapter hands out the old token and refreshes behind.
    refreshed = _wait_for_refresh(auth, lambda: session.get(resource.url("/record")))
    first, during = resource.seen[0], resource.seen[1]
    assert _bearer(during) == _bearer(first)  # the caller didn't wait for the refresh
    assert refreshed
    session.get(resource.url("/record"))
    assert _bearer(resource.seen[-1]) != _bearer(first)
    assert len(emu.requests_to("token")) == before + 1


def _wait_for_refresh(auth: EntraAuth, call: Callable[[], Any]) -> bool:
    import time

    provider = auth._provider
    record = provider._record
    call()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if provider._record is not record and not provider._refreshing:
            return True
        time.sleep(0.01)
    return False


def test_failed_proactive_refresh_keeps_the_valid_token(
    emu: Emulator, resource: ResourceServer
) -> None:
    app = public_app(emu)
    sign_in(app)
    clock = FakeTime()  # the adapter's clock only
    auth = EntraAuth(app, GRAPH_SCOPES, allowed_hosts=["127.0.0.1"], clock=clock)

    async def go() -> None:
        async with httpx.AsyncClient(auth=auth) as client:
            await client.get(resource.url("/record"))
            # The app's own cache still deems its token fresh, so the background refresh
            # gets the same token back and backs off instead of asking on every request.
            clock.advance(3600 - REFRESH_LEAD + 10)
            for _ in range(5):
                assert (await client.get(resource.url("/record"))).status_code == 200
                await asyncio.sleep(0.02)

    before = len(emu.requests_to("token"))
    asyncio.run(go())
    tokens = {_bearer(s) for s in resource.seen}
    assert len(tokens) == 1
    assert len(emu.requests_to("token")) == before
