"""The emulator's HTTP(S) server: stdlib ThreadingHTTPServer on 127.0.0.1, TLS, routing, faults.

HTTP/1.1 with keep-alive (RFC 9112); TLS handshakes run in the connection's own thread so a
stalled client cannot block accept(). Garbage in gets a 4xx, never a 500 or a dead server.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import selectors
import socket
import ssl
import struct
import threading
import time
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import (
    authorize,
    device,
    discovery,
    graph,
    graph_users,
    imds,
    mi_sources,
    oidc,
    token_endpoint,
)
from .aadsts import EntraError
from .core import Core, Reply, Request
from .faults import Fault
from .state import LoggedRequest, redact, redact_headers

__all__ = ["EmulatorServer"]

logger = logging.getLogger("entra_auth.testing")

MAX_BODY = 1 << 20  # 1 MiB: far above any legitimate OAuth form
CONNECTION_TIMEOUT = 30.0

Handler = Callable[..., Reply]
_T = r"(?P<segment>[^/]+)"
ROUTES: list[tuple[re.Pattern[str], str, Handler]] = [
    (re.compile(r"/common/discovery/instance"), "instance_discovery",
     discovery.instance_discovery),
    (re.compile(r"/common/userrealm/(?P<raw_username>[^/]+)"), "userrealm", discovery.user_realm),
    (re.compile(rf"/{_T}/v2\.0/\.well-known/openid-configuration"), "openid_configuration",
     discovery.openid_configuration),
    (re.compile(rf"/{_T}/discovery/(?:v2\.0/)?keys"), "keys", discovery.jwks),
    (re.compile(rf"/{_T}/oauth2/v2\.0/authorize"), "authorize", authorize.authorize),
    (re.compile(rf"/{_T}/oauth2/v2\.0/token"), "token", token_endpoint.token),
    (re.compile(rf"/{_T}/oauth2/v2\.0/devicecode"), "devicecode", device.devicecode),
    (re.compile(rf"/{_T}/oauth2/v2\.0/logout"), "end_session", oidc.end_session),
    (re.compile(r"/oidc/userinfo"), "userinfo", oidc.userinfo),
    (re.compile(r"/devicelogin"), "devicelogin", device.devicelogin),
    (re.compile(r"/v1\.0/me"), "graph", graph.me),
    (re.compile(r"/v1\.0/users(?:/.*)?"), "graph_users", graph_users.users),
    (re.compile(r"/v1\.0/throttled"), "graph_throttled", graph_users.throttled),
    (re.compile(r"/(?:v1\.0/)?echo(?:/.*)?"), "echo", graph.echo),
    (re.compile(r"/metadata/identity/oauth2/token"), "imds", imds.imds),
    (re.compile(r"/msi/token"), "app_service", imds.app_service),
    (re.compile(r"/servicefabric/token"), "service_fabric", mi_sources.service_fabric),
    (re.compile(r"/cloudshell/token"), "cloud_shell", mi_sources.cloud_shell),
    (re.compile(r"/ml/token"), "machine_learning", mi_sources.machine_learning),
    (re.compile(r"/arc/token"), "azure_arc", mi_sources.arc),
]


def _parse_form(req_headers: dict[str, str], body: bytes) -> dict[str, str]:
    ctype = req_headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded" or not body:
        return {}
    text = body.decode("utf-8", errors="replace")
    return dict(parse_qsl(text, keep_blank_values=True))


def _parse_cookies(header: str) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name:
            cookies[name] = value
    return cookies


class Dispatcher:
    """Routes a parsed request to its endpoint, applying faults, logging and error rendering."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def dispatch(self, req: Request) -> Reply:
        """Answer one request (never raises)."""
        core = self.core
        handler: Handler | None = None
        args: dict[str, str] = {}
        for pattern, name, func in ROUTES:
            match = pattern.fullmatch(req.path)
            if match:
                req.endpoint, handler, args = name, func, match.groupdict()
                break
        entry = LoggedRequest(
            req.method, req.path, req.endpoint or "unknown", redact(req.query),
            redact_headers(req.headers), redact(req.form), time=core.now(),
        )
        with core.state.lock:
            core.state.log.append(entry)
        reply = self._answer(req, handler, args)
        entry.status = 0 if reply.action in ("drop", "reset") else reply.status
        return reply

    def _answer(self, req: Request, handler: Handler | None, args: dict[str, str]) -> Reply:
        core = self.core
        if handler is None:
            return Reply.json({"error": "not_found", "error_description":
                               "The emulator has no endpoint at this path."}, 404)
        fault = core.faults.take(req.endpoint)
        if fault is not None:
            if fault.kind == "delay":
                generation = core.state.generation
                time.sleep(fault.seconds)
                if core.state.generation != generation:  # reset meanwhile: a new test
                    return Reply(0, [], b"", action="drop")
            elif fault.kind == "wrong_content_type":
                return _relabel(self._handle(req, handler, args))
            else:
                return _fault_reply(core, req, fault)
        return self._handle(req, handler, args)

    def _handle(self, req: Request, handler: Handler, args: dict[str, str]) -> Reply:
        core = self.core
        try:
            return handler(core, req, **args)
        except EntraError as err:
            return core.error_reply(req, err)
        except Exception:  # a bug in the emulator: answer, record it, keep serving
            detail = traceback.format_exc()
            with core.state.lock:
                core.state.internal_errors.append(detail)
            logger.error("emulator internal error on %s %s", req.method, req.path)
            return core.error_reply(req, EntraError(
                500, "server_error", 90033, "A transient error has occurred. Please try again."))


def _relabel(reply: Reply) -> Reply:
    # The normal answer, labelled as plain text (a proxy or gateway rewriting the type).
    headers = [(k, v) for k, v in reply.headers if k.lower() != "content-type"]
    headers.append(("Content-Type", "text/plain; charset=utf-8"))
    return Reply(reply.status, headers, reply.body, reply.action)


def _fault_reply(core: Core, req: Request, fault: Fault) -> Reply:
    if fault.kind in ("drop", "reset"):
        return Reply(0, [], b"", action=fault.kind)
    if fault.kind == "status":
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        error = "server_error" if fault.status == 500 else "temporarily_unavailable"
        # 90033 MsodsServiceUnavailable for 5xx; 90055 TenantThrottlingError (too many requests)
        # otherwise. Not 50196: that is loop detection, which Entra sends as invalid_grant.
        message = ("There are too many incoming requests (injected fault)."
                   if fault.status < 500 else
                   "The service is temporarily unavailable (injected fault).")
        err = EntraError(fault.status, error, 90033 if fault.status >= 500 else 90055, message,
                         headers=headers)
        return core.error_reply(req, err)
    json_headers = [("Content-Type", "application/json; charset=utf-8")]
    if fault.kind == "malformed_json":
        return Reply(200, json_headers, b'{"token_type": "Bearer", "access_token": ')
    if fault.kind == "html":
        page = ("<!DOCTYPE html><html><head><title>Service unavailable</title></head>"
                "<body><h1>Sorry, something went wrong.</h1></body></html>")
        return Reply(fault.status if fault.status != 503 else 200,
                     [("Content-Type", "text/html; charset=utf-8")], page.encode())
    if fault.kind == "empty":
        return Reply(200, json_headers, b"")
    body = json.dumps({"token_type": "Bearer", "expires_in": 3600,
                       "access_token": "x" * 200}).encode()
    return Reply(200, json_headers, body, action="truncate")  # truncated


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "entra-auth-emulator/1"
    sys_version = ""
    timeout = CONNECTION_TIMEOUT
    server: _HTTPServer
    _headers_buffer: list[bytes]  # BaseHTTPRequestHandler's, filled by send_header()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log (the request log is in memory)."""

    def _serve(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._write(Reply.json({"error": "invalid_request", "error_description":
                                    "Chunked request bodies are not supported."}, 411), True)
            return
        try:
            length = int(headers.get("content-length", "0") or "0")
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._write(Reply.json({"error": "invalid_request", "error_description":
                                    "Bad or oversized Content-Length."}, 413), True)
            return
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        req = Request(
            method=self.command, path=split.path or "/",
            query=dict(parse_qsl(split.query, keep_blank_values=True)), headers=headers,
            form=_parse_form(headers, body), cookies=_parse_cookies(headers.get("cookie", "")),
            host=headers.get("host", ""), body=body,
        )
        reply = self.server.dispatcher.dispatch(req)
        if reply.action == "drop":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if reply.action == "reset":
            # SO_LINGER 0: close() sends a TCP RST instead of a FIN (ECONNRESET at the client).
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.rfile.close()  # the socket closes only when its files are closed too
                self.wfile.close()
                self.connection.close()
            return
        self._write(reply, reply.action == "truncate")

    def _write(self, reply: Reply, close: bool) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        body = reply.body
        if reply.action == "truncate":
            self.send_header("Content-Length", str(len(body)))
            body = body[: len(body) // 2]
        else:
            self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        # Headers and body in one write: one TLS record and one system call per response
        # instead of two (end_headers() would send the headers on their own).
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(body)
        payload = b"".join(self._headers_buffer)
        self._headers_buffer = []
        self.wfile.write(payload)
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    request_queue_size = 128

    def __init__(self, port: int, dispatcher: Dispatcher, tls: ssl.SSLContext | None) -> None:
        self.dispatcher = dispatcher
        self.tls = tls
        super().__init__(("127.0.0.1", port), _RequestHandler)
        self._stop_requested = threading.Event()
        self._stopped = threading.Event()
        self._stopped.set()
        self._wake_read, self._wake_write = socket.socketpair()

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """socketserver's loop, but :meth:`shutdown` wakes it at once instead of at its next
        poll: an emulator stops in microseconds, and an idle one doesn't spin."""
        self._stopped.clear()
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self, selectors.EVENT_READ)
                selector.register(self._wake_read, selectors.EVENT_READ)
                while not self._stop_requested.is_set():
                    ready = selector.select(poll_interval)
                    if self._stop_requested.is_set():
                        break
                    if any(key.fileobj is self for key, _ in ready):
                        self._handle_request_noblock()  # type: ignore[attr-defined]
                    self.service_actions()
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` and wait until it has returned."""
        self._stop_requested.set()
        with contextlib.suppress(OSError):
            self._wake_write.send(b"\0")
        self._stopped.wait()

    def server_close(self) -> None:
        super().server_close()
        self._wake_read.close()
        self._wake_write.close()

    def finish_request(self, request: Any, client_address: Any) -> None:
        # Responses go out in one write, but a client's pipelined or early data must not
        # wait on Nagle plus the peer's delayed ACK (~40 ms).
        with contextlib.suppress(OSError):
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # Runs in the per-connection thread: do the TLS handshake here, not in accept().
        if self.tls is not None:
            try:
                request.settimeout(CONNECTION_TIMEOUT)
                request = self.tls.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                request.close()
                return
        try:
            super().finish_request(request, client_address)
        except (OSError, ssl.SSLError):
            pass  # the client went away mid-request
        finally:
            if self.tls is not None:
                with contextlib.suppress(OSError):
                    request.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("connection error from %s", client_address, exc_info=True)


class EmulatorServer:
    """Binds 127.0.0.1, serves in a background thread, stops on :meth:`stop`."""

    def __init__(self, core: Core, *, port: int = 0, tls: ssl.SSLContext | None = None) -> None:
        self._httpd = _HTTPServer(port, Dispatcher(core), tls)
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 1.0},
            name=f"entra-emulator-{self.port}", daemon=True,
        )

    def start(self) -> None:
        """Start serving in a daemon thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread.ident is not None:  # started
            self._thread.join(timeout=5)
