"""Where tokens may go: never over plain http off loopback, never to a host that is not
allowed, never along a redirect to another origin; cache files 0600; listeners on loopback."""

from __future__ import annotations

import asyncio
import os
import ssl
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

import entra_auth as msal
from entra_auth import EntraAuth, UnsafeDestinationError, aio
from entra_auth.interactive.listener import AsyncLoopbackListener, LoopbackListener
from entra_auth.testing import (
    GRAPH_RESOURCE,
    PUBLIC_CLIENT_ID,
    WEB_APP_ID,
    WEB_APP_SECRET,
    Emulator,
)

from .net import listening_addresses

GRAPH_DEFAULT = [f"{GRAPH_RESOURCE}/.default"]


class _Resource(BaseHTTPRequestHandler):
    """A resource on 127.0.0.1: /hop redirects to localhost (another origin); logs headers."""

    seen: list[tuple[str, str, str | None]]

    def do_GET(self) -> None:
        self.server.seen.append(  # type: ignore[attr-defined]
            (self.headers.get("Host", ""), self.path, self.headers.get("Authorization")))
        if self.path == "/hop":
            port = self.server.server_address[1]
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{port}/land")
        else:
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def resource() -> Iterator[tuple[str, list[tuple[str, str, str | None]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Resource)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.seen  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def _app(emu: Emulator) -> Any:
    return msal.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        verify=emu.ca_bundle)


def _token_posts(emu: Emulator) -> int:
    return len(emu.requests_to("token"))


UNSAFE = [
    "http://graph.microsoft.com/v1.0/me",    # allowed host, but plain http off loopback
    "http://10.1.2.3/v1.0/me",
    "https://evil.example.com/v1.0/me",      # not an allowed host
    "https://graph.microsoft.com.evil.example/v1.0/me",
    "https://evilgraph.microsoft.com/v1.0/me",
]


@pytest.mark.parametrize("url", UNSAFE)
def test_no_token_to_unsafe_destinations(entra_emulator: Emulator, url: str) -> None:
    auth = EntraAuth(_app(entra_emulator), GRAPH_DEFAULT)
    with requests.Session() as session:
        session.auth = auth
        with pytest.raises(UnsafeDestinationError):
            session.get(url, timeout=5)
    with httpx.Client(auth=auth) as client, pytest.raises(UnsafeDestinationError):
        client.get(url)
    assert _token_posts(entra_emulator) == 0, "a token was acquired for an unsafe destination"


def test_no_token_to_unsafe_destinations_async(entra_emulator: Emulator) -> None:
    emu = entra_emulator

    async def run() -> None:
        ctx = ssl.create_default_context(cafile=emu.ca_bundle)
        async with aio.ConfidentialClientApplication(
                WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
                verify=ctx) as app:
            auth = EntraAuth(app, GRAPH_DEFAULT)
            async with httpx.AsyncClient(auth=auth) as client:
                for url in UNSAFE:
                    with pytest.raises(UnsafeDestinationError):
                        await client.get(url)

    asyncio.run(run())
    assert _token_posts(emu) == 0


@pytest.mark.parametrize("allowed", [["127.0.0.1"], ["127.0.0.1", "localhost"]])
def test_no_token_on_cross_origin_redirect(
        entra_emulator: Emulator, resource: tuple[str, list[Any]], allowed: list[str]) -> None:
    base, seen = resource
    auth = EntraAuth(_app(entra_emulator), GRAPH_DEFAULT, allowed_hosts=allowed)
    with requests.Session() as session:
        session.auth = auth
        assert session.get(f"{base}/hop", timeout=5).status_code == 200
    with httpx.Client(auth=auth, follow_redirects=True) as client:
        assert client.get(f"{base}/hop").status_code == 200

    async def run() -> None:
        async with httpx.AsyncClient(auth=auth, follow_redirects=True) as client:
            assert (await client.get(f"{base}/hop")).status_code == 200

    asyncio.run(run())
    hops = [s for s in seen if s[1] == "/hop"]
    lands = [s for s in seen if s[1] == "/land"]
    assert len(hops) == len(lands) == 3
    assert all(auth_header and auth_header.startswith("Bearer ") for _, _, auth_header in hops)
    assert all(host.startswith("localhost") and auth_header is None
               for host, _, auth_header in lands), lands


def test_authority_over_plain_http_refused_off_loopback() -> None:
    for authority in ("http://login.microsoftonline.com/common", "http://10.0.0.1/tenant"):
        with pytest.raises(ValueError):
            app = msal.PublicClientApplication(PUBLIC_CLIENT_ID, authority=authority)
            app.acquire_token_by_username_password("u@x.com", "pw", ["User.Read"])


def test_file_cache_is_0600_in_a_0700_directory(entra_emulator: Emulator, tmp_path: Path) -> None:
    from entra_auth.cache.file_cache import FileTokenCache

    old_umask = os.umask(0)  # even a permissive umask must not widen the file's mode
    try:
        path = tmp_path / "new-dir" / "cache.json"
        cache = FileTokenCache(path)
        app = msal.ConfidentialClientApplication(
            WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=entra_emulator.authority(),
            verify=entra_emulator.ca_bundle, token_cache=cache)
        assert "access_token" in app.acquire_token_for_client(GRAPH_DEFAULT)
        app.acquire_token_for_client([f"{GRAPH_RESOURCE}/.default"])
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for other in path.parent.iterdir():  # lock and temp files too
        assert stat.S_IMODE(other.stat().st_mode) & 0o077 == 0, other.name


def test_loopback_listeners_bind_both_loopback_addresses_only(entra_emulator: Emulator) -> None:
    # 127.0.0.1 and ::1 on one port ("localhost" may resolve to either), nothing else
    assert listening_addresses(entra_emulator.port) == ["127.0.0.1"]
    listener = LoopbackListener()
    try:
        assert sorted(listening_addresses(listener.port)) == ["127.0.0.1", "::1"]
    finally:
        listener.close()

    async def run() -> list[str]:
        server = await AsyncLoopbackListener.start()
        try:
            return listening_addresses(server.port)
        finally:
            await server.aclose()

    assert sorted(asyncio.run(run())) == ["127.0.0.1", "::1"]
