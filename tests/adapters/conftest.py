"""Fixtures for the adapter tests: the Entra emulator, signed-in apps, and a loopback resource.

The resource server is a real HTTP server on 127.0.0.1 whose replies the test scripts (claims
challenges, redirects, body recording); tokens always come from the emulator.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from entra_auth.testing.config import PUBLIC_CLIENT_ID, WEB_APP_ID, WEB_APP_SECRET
from entra_auth.testing.emulator import Emulator

ALICE = "alice@contoso.onmicrosoft.com"
ALICE_PASSWORD = "alice-password"
GRAPH_SCOPES = ["User.Read"]
APP_SCOPES = ["https://graph.microsoft.com/.default"]
CLAIMS = {"access_token": {"nbf": {"essential": True, "value": "1700000000"}}}
CHALLENGE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/'
    'authorize", client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", '
    f'claims="{base64.b64encode(json.dumps(CLAIMS).encode()).decode()}"'
)


@pytest.fixture(scope="session")
def _emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def emu(_emulator: Emulator) -> Emulator:
    _emulator.reset()
    return _emulator


def public_app(emu: Emulator, **kwargs: Any) -> Any:
    """A public client application (entra_auth's own) pointed at the emulator."""
    import entra_auth

    return entra_auth.PublicClientApplication(
        PUBLIC_CLIENT_ID,
        authority=emu.authority(),
        http_client=emu.requests_session(),
        instance_discovery=False,
        **kwargs,
    )


def aio_public_app(emu: Emulator, **kwargs: Any) -> Any:
    """The async twin, for httpx.AsyncClient."""
    from entra_auth import aio

    return aio.PublicClientApplication(
        PUBLIC_CLIENT_ID,
        authority=emu.authority(),
        verify=emu.ca_bundle,
        instance_discovery=False,
        **kwargs,
    )


def user_app(emu: Emulator, driver_name: str, signed_in: bool = True) -> Any:
    """A public app for the client kind: sync for requests/httpx, entra_auth.aio for async
    (sharing the cache of a sync app that signed Alice in)."""
    app = public_app(emu)
    if signed_in:
        sign_in(app)
    if driver_name == "httpx-async":
        return aio_public_app(emu, token_cache=app.token_cache)
    return app


def confidential_app(
    emu: Emulator, client_id: str = WEB_APP_ID, client_credential: str = WEB_APP_SECRET,
    **kwargs: Any,
) -> Any:
    import entra_auth

    return entra_auth.ConfidentialClientApplication(
        client_id,
        client_credential=client_credential,
        authority=emu.authority(),
        http_client=emu.requests_session(),
        instance_discovery=False,
        **kwargs,
    )


def sign_in(app: Any, scopes: list[str] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = app.acquire_token_by_username_password(
        ALICE, ALICE_PASSWORD, scopes=scopes or GRAPH_SCOPES
    )
    assert "access_token" in result, result.get("error")
    return result


def token_requests(emu: Emulator) -> int:
    return len(emu.requests_to("token"))


def revoke_access_tokens(emu: Emulator, username: str = ALICE) -> None:
    """A CAE critical event that rejects the user's access tokens but keeps refresh tokens
    (e.g. a network location change)."""
    emu.revoke_access_tokens(username)


@dataclass
class Seen:
    method: str
    path: str
    host: str
    authorization: str | None
    body: bytes


@dataclass
class ResourceServer:
    """A scripted resource on plain HTTP loopback (the policy allows http on loopback)."""

    port: int
    seen: list[Seen] = field(default_factory=list)
    challenge_first: int = 0  # how many requests to /challenge-first get a claims challenge

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def resource() -> Iterator[ResourceServer]:
    server_state = ResourceServer(port=0)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if self.headers.get("transfer-encoding", "").lower() == "chunked":
                body = self._read_chunked()
            else:
                body = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            with lock:
                server_state.seen.append(
                    Seen(self.command, path, self.headers.get("host", ""),
                         self.headers.get("authorization"), body)
                )
            if path == "/redirect":
                self._reply(302, {"Location": query.removeprefix("to=")})
            elif path == "/challenge-always":
                self._reply(401, {"WWW-Authenticate": CHALLENGE})
            elif path == "/challenge-first":
                with lock:
                    challenge = server_state.challenge_first > 0
                    server_state.challenge_first -= 1
                if challenge:
                    self._reply(401, {"WWW-Authenticate": CHALLENGE})
                else:
                    self._reply(200, {}, body)
            elif path == "/bad-claims":
                self._reply(401, {"WWW-Authenticate":
                                  'Bearer error="insufficient_claims", claims="%%%"'})
            elif path == "/basic":
                self._reply(401, {"WWW-Authenticate": 'Basic realm="api"'})
            elif path == "/malformed":
                self._reply(401, {"WWW-Authenticate": 'Bearer error="insufficient_claims'})
            else:
                self._reply(200, {}, body)

        def _read_chunked(self) -> bytes:
            out = b""
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()

        def _reply(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = _handle

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # the default backlog of 5 drops SYNs under 100 connects

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server_state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        server.shutdown()
        server.server_close()


AppFactory = Callable[..., Any]
