"""The server survives garbage, stays on loopback, and serves concurrent clients."""

from __future__ import annotations

import contextlib
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor

import requests

from entra_auth.testing import WEB_APP_ID, WEB_APP_SECRET, Emulator

from .helpers import token

FORM = {"grant_type": "client_credentials", "client_id": WEB_APP_ID,
        "client_secret": WEB_APP_SECRET, "scope": "https://graph.microsoft.com/.default"}


def _raw(emu: Emulator, payload: bytes) -> bytes:
    assert emu.ca_bundle is not None
    context = ssl.create_default_context(cafile=emu.ca_bundle)
    with socket.create_connection(("127.0.0.1", emu.port), timeout=10) as sock, \
            context.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
        tls.sendall(payload)
        chunks = []
        while True:
            try:
                data = tls.recv(65536)
            except (ConnectionError, ssl.SSLError):
                break
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)


def _alive(http: requests.Session, emu: Emulator) -> None:
    assert token(http, emu, FORM).status_code == 200
    assert emu.internal_errors == []


def test_listens_on_loopback_only(emu: Emulator) -> None:
    assert emu.base_url == f"https://127.0.0.1:{emu.port}"
    probe = socket.socket()
    try:
        probe.settimeout(2)
        # 127.0.0.2 is loopback too, but not the address we bound.
        assert probe.connect_ex(("127.0.0.2", emu.port)) != 0
    finally:
        probe.close()


def test_garbage_request_lines(http: requests.Session, emu: Emulator) -> None:
    # Without a parseable version the stdlib answers HTTP/0.9-style: the error page only.
    assert b"Error code: 400" in _raw(emu, b"\x00\x01\x02 garbage\r\n\r\n")
    assert _raw(emu, b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 414")
    huge_header = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 70000 + b"\r\n\r\n"
    assert _raw(emu, huge_header)[:12] in (b"HTTP/1.1 431", b"HTTP/1.1 400")
    many = b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(200)) + b"\r\n"
    assert _raw(emu, many)[:12] in (b"HTTP/1.1 431", b"HTTP/1.1 400")
    _alive(http, emu)


def test_bad_bodies(http: requests.Session, emu: Emulator) -> None:
    url = emu.token_endpoint()
    bad_length = (f"POST /{emu.tenant_id}/oauth2/v2.0/token HTTP/1.1\r\nHost: x\r\n"
                  "Content-Length: nope\r\n\r\n").encode()
    assert _raw(emu, bad_length).startswith(b"HTTP/1.1 413")
    too_big = (f"POST /{emu.tenant_id}/oauth2/v2.0/token HTTP/1.1\r\nHost: x\r\n"
               "Content-Length: 99999999\r\n\r\n").encode()
    assert _raw(emu, too_big).startswith(b"HTTP/1.1 413")
    chunked = (f"POST /{emu.tenant_id}/oauth2/v2.0/token HTTP/1.1\r\nHost: x\r\n"
               "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n").encode()
    assert _raw(emu, chunked).startswith(b"HTTP/1.1 411")
    for body, ctype in [(b"\xff\xfe=\xff&&&==", "application/x-www-form-urlencoded"),
                        (b'{"grant_type": "client_credentials"}', "application/json"),
                        (b"%%%%", "application/x-www-form-urlencoded")]:
        resp = http.post(url, data=body, headers={"Content-Type": ctype}, timeout=10)
        assert resp.status_code == 400 and resp.json()["error_codes"] == [900144]
    assert http.get(f"{emu.base_url}/no/such/path", timeout=10).status_code == 404
    assert http.delete(emu.token_endpoint(), timeout=10).status_code == 400
    assert http.get(f"{emu.base_url}/%ZZ/oauth2/v2.0/token", timeout=10).status_code == 400
    _alive(http, emu)


def test_plain_http_to_the_tls_port_and_abandoned_handshakes(http: requests.Session,
                                                             emu: Emulator) -> None:
    with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(5)
        reply = b""
        with contextlib.suppress(ConnectionError, TimeoutError):
            reply = sock.recv(100)
        assert not reply.startswith(b"HTTP/")  # a TLS alert or a close, never plaintext
    idle = socket.create_connection(("127.0.0.1", emu.port), timeout=5)  # never handshakes
    try:
        _alive(http, emu)
    finally:
        idle.close()


def test_concurrent_clients(emu: Emulator) -> None:
    def fetch(_: int) -> int:
        with emu.requests_session() as session:
            return token(session, emu, FORM).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(fetch, range(64)))
    assert statuses == [200] * 64
    assert emu.tokens_issued == 64
    assert len(emu.requests_to("token")) == 64


def test_plain_http_option() -> None:
    with Emulator(https=False) as emu:
        assert emu.ca_bundle is None and emu.base_url.startswith("http://")
        resp = requests.post(emu.token_endpoint(), data=FORM, timeout=10)
        assert resp.status_code == 200
        assert resp.json()["access_token"].count(".") == 2
