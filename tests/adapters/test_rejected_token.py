"""A 401 that rejects the token without a claims challenge, while the cache still deems it valid.

The emulator's clock is moved past the access tokens' expiry (as if the cache had been written
by a process whose clock ran ahead): its Graph then answers ``Bearer realm=...`` with no claims.
A scripted resource answers ``error="invalid_token"``. EntraAuth re-acquires once past the
application's cached access token (refresh token, or client credentials), re-sends once, never
loops, and shares one forced re-acquisition among concurrent requests.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import msal
import pytest
import requests

import entra_auth
from entra_auth import aio
from entra_auth.adapters import EntraAuth
from entra_auth.testing.config import WEB_API_ID, WEB_API_SECRET, WEB_APP_ID, WEB_APP_SECRET
from entra_auth.testing.emulator import Emulator

from .conftest import (
    GRAPH_SCOPES,
    confidential_app,
    public_app,
    sign_in,
    token_requests,
    user_app,
)
from .drivers import DRIVERS

APP_SCOPES = ["https://graph.microsoft.com/.default"]
PAST_EXPIRY = 2 * 3600  # seconds: beyond any access token's lifetime, within a refresh token's


@pytest.fixture(params=sorted(DRIVERS))
def driver_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _auth(emu: Emulator, app: Any, scopes: list[str] = GRAPH_SCOPES) -> EntraAuth:
    return EntraAuth(app, scopes, allowed_hosts=["127.0.0.1"])


def _graph_requests(emu: Emulator) -> int:
    return len(emu.requests_to("graph"))


def test_expired_at_the_resource_recovers_with_one_refresh_and_one_resend(
    emu: Emulator, driver_name: str
) -> None:
    driver = DRIVERS[driver_name](_auth(emu, user_app(emu, driver_name)), emu.ca_bundle)
    try:
        assert driver.send("GET", emu.graph_url).status == 200
        emu.advance_clock(PAST_EXPIRY)
        tokens, graph = token_requests(emu), _graph_requests(emu)
        reply = driver.send("GET", emu.graph_url)
        assert reply.status == 200
        assert reply.history == [401]
        assert token_requests(emu) == tokens + 1
        assert emu.requests_to("token")[-1].form["grant_type"] == "refresh_token"
        assert _graph_requests(emu) == graph + 2
        # the new token is used from now on
        assert driver.send("GET", emu.graph_url).status == 200
        assert token_requests(emu) == tokens + 1
    finally:
        driver.close()


@pytest.mark.parametrize("make_app", ["entra_auth", "msal"])
def test_app_only_token_is_requested_again_past_the_cache(
    emu: Emulator, make_app: str
) -> None:
    if make_app == "msal":
        app: Any = msal.ConfidentialClientApplication(
            WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
            http_client=emu.requests_session(), instance_discovery=False,
        )
    else:
        app = confidential_app(emu)
    driver = DRIVERS["requests"](_auth(emu, app, APP_SCOPES), str(emu.ca_bundle))
    try:
        assert driver.send("GET", emu.echo_url).status == 200
        emu.advance_clock(PAST_EXPIRY)
        tokens = token_requests(emu)
        reply = driver.send("GET", emu.echo_url)
        assert reply.status == 200 and reply.history == [401]
        assert token_requests(emu) == tokens + 1
        assert emu.requests_to("token")[-1].form["grant_type"] == "client_credentials"
        # the application's cache now holds the new token: a fresh adapter gets it silently
        fresh = DRIVERS["requests"](_auth(emu, app, APP_SCOPES), str(emu.ca_bundle))
        assert fresh.send("GET", emu.echo_url).status == 200
        fresh.close()
        assert token_requests(emu) == tokens + 1
    finally:
        driver.close()


@dataclass
class Rejecting:
    """A resource that refuses the listed tokens with a plain ``invalid_token`` 401."""

    port: int = 0
    rejected: set[str] = field(default_factory=set)
    reject_all: bool = False
    seen: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/items"


@pytest.fixture
def rejecting() -> Iterator[Rejecting]:
    state = Rejecting()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            token = self.headers.get("authorization", "").removeprefix("Bearer ")
            with lock:
                state.seen.append(token)
                refuse = state.reject_all or token in state.rejected
            if refuse:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Bearer error="invalid_token", '
                                 'error_description="The access token is invalid"')
            else:
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def test_a_second_401_goes_back_to_the_caller_and_nothing_loops(
    emu: Emulator, driver_name: str, rejecting: Rejecting
) -> None:
    rejecting.reject_all = True
    driver = DRIVERS[driver_name](_auth(emu, user_app(emu, driver_name)), emu.ca_bundle)
    try:
        tokens = token_requests(emu)
        reply = driver.send("GET", rejecting.url)
        assert reply.status == 401 and reply.history == [401]
        assert len(rejecting.seen) == 2 and rejecting.seen[0] != rejecting.seen[1]
        assert token_requests(emu) == tokens + 1
        # the token a forced refresh just got is refused too: no new refresh, no re-send
        again = driver.send("GET", rejecting.url)
        assert again.status == 401 and again.history == []
        assert len(rejecting.seen) == 3
        assert token_requests(emu) == tokens + 1
    finally:
        driver.close()


def test_one_forced_refresh_for_concurrent_threads(
    emu: Emulator, rejecting: Rejecting
) -> None:
    auth = _auth(emu, user_app(emu, "requests"))
    first = auth.get_token()
    rejecting.rejected.add(first)
    tokens = token_requests(emu)
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def call() -> None:
        with requests.Session() as session:
            session.auth = auth
            barrier.wait()
            statuses.append(session.get(rejecting.url, timeout=30).status_code)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses == [200] * 8
    assert token_requests(emu) == tokens + 1
    assert auth.get_token() != first


def test_one_forced_refresh_for_concurrent_tasks(emu: Emulator, rejecting: Rejecting) -> None:
    app = aio.PublicClientApplication(
        entra_auth.testing.PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle,
        instance_discovery=False, token_cache=user_app(emu, "requests").token_cache,
    )
    auth = _auth(emu, app)

    async def scenario() -> tuple[list[int], str, str]:
        first = await auth.get_token_async()
        rejecting.rejected.add(first)
        async with httpx.AsyncClient(auth=auth, timeout=30) as client:
            replies = await asyncio.gather(*(client.get(rejecting.url) for _ in range(8)))
        return [r.status_code for r in replies], first, await auth.get_token_async()

    tokens = token_requests(emu)
    statuses, first, last = asyncio.run(scenario())
    assert statuses == [200] * 8
    assert token_requests(emu) == tokens + 1
    assert last != first


@pytest.mark.parametrize("kind", ["user", "app"])
def test_invalidate_makes_the_next_request_bypass_the_cached_token(
    emu: Emulator, kind: str, rejecting: Rejecting
) -> None:
    if kind == "user":
        auth = _auth(emu, user_app(emu, "requests"))
    else:
        auth = _auth(emu, confidential_app(emu), APP_SCOPES)
    first = auth.get_token()
    tokens = token_requests(emu)
    auth.invalidate()
    with requests.Session() as session:
        session.auth = auth
        assert session.get(rejecting.url, timeout=30).status_code == 200
    assert token_requests(emu) == tokens + 1
    second = rejecting.seen[-1]
    assert second != first
    # only the next request: after that the new token is used as usual
    assert auth.get_token() == second
    assert token_requests(emu) == tokens + 1


@pytest.mark.parametrize(
    ("header", "rejects"),
    [
        ('Bearer error="invalid_token", error_description="expired"', True),
        ('Bearer realm="", authorization_uri="https://login.example/authorize", '
         'client_id="00000003-0000-0000-c000-000000000000"', True),  # Graph's shape
        (['Basic realm="x"', "bearer error=invalid_token"], True),
        ('Bearer error="insufficient_scope", scope="Mail.Read"', False),
        ('Bearer error="invalid_token", claims="eyJhY2Nlc3NfdG9rZW4iOnt9fQ=="', False),
        ('Basic realm="api"', False),
        ('Bearer error="invalid_token', False),  # malformed
        (None, False),
    ],
)
def test_which_401s_reject_the_token(header: Any, rejects: bool) -> None:
    from entra_auth.protocol.www_authenticate import rejects_token

    assert rejects_token(header) is rejects


def test_force_refresh_on_entra_auth_confidential_apps(emu: Emulator) -> None:
    sync_app = confidential_app(emu)
    first = sync_app.acquire_token_for_client(APP_SCOPES)
    assert sync_app.acquire_token_for_client(APP_SCOPES)["token_source"] == "cache"
    forced = sync_app.acquire_token_for_client(APP_SCOPES, force_refresh=True)
    assert forced["token_source"] == "identity_provider"
    assert forced["access_token"] != first["access_token"]
    # the new token replaced the old one in the cache
    assert sync_app.acquire_token_for_client(APP_SCOPES)["access_token"] == forced["access_token"]

    async def on_aio() -> tuple[str, str]:
        app = aio.ConfidentialClientApplication(
            WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
            verify=emu.ca_bundle, instance_discovery=False, token_cache=sync_app.token_cache,
        )
        forced = await app.acquire_token_for_client(APP_SCOPES, force_refresh=True)
        return forced["token_source"], forced["access_token"]

    source, token = asyncio.run(on_aio())
    assert source == "identity_provider" and token != forced["access_token"]


def test_on_behalf_of_rejected_token_is_replaced_from_the_refresh_token(emu: Emulator) -> None:
    assertion = sign_in(public_app(emu), [f"api://{WEB_API_ID}/access_as_user"])["access_token"]
    api = confidential_app(emu, client_id=WEB_API_ID, client_credential=WEB_API_SECRET)
    auth = EntraAuth.on_behalf_of(api, assertion, GRAPH_SCOPES, allowed_hosts=["127.0.0.1"])
    driver = DRIVERS["requests"](auth, str(emu.ca_bundle))
    try:
        assert driver.send("GET", emu.graph_url).status == 200
        emu.advance_clock(PAST_EXPIRY)
        tokens = token_requests(emu)
        reply = driver.send("GET", emu.graph_url)
        assert reply.status == 200 and reply.history == [401]
        assert token_requests(emu) == tokens + 1
        # past the cached access token, but still from the cached refresh token
        assert emu.requests_to("token")[-1].form["grant_type"] == "refresh_token"
    finally:
        driver.close()


def test_a_rejected_token_that_cant_be_replaced_silently_raises_chained_to_the_401(
    emu: Emulator, driver_name: str
) -> None:
    from entra_auth.errors import InteractionRequiredError

    from .conftest import ALICE

    driver = DRIVERS[driver_name](_auth(emu, user_app(emu, driver_name)), emu.ca_bundle)
    try:
        assert driver.send("GET", emu.graph_url).status == 200
        emu.advance_clock(PAST_EXPIRY)
        emu.revoke_sessions(ALICE)  # the refresh token is refused too
        with pytest.raises(InteractionRequiredError) as caught:
            driver.send("GET", emu.graph_url)
        cause = caught.value.__cause__
        assert isinstance(cause, (requests.HTTPError, httpx.HTTPStatusError))
        assert cause.response is not None and cause.response.status_code == 401
    finally:
        driver.close()
