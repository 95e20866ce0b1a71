"""Network failures name the method, URL and cause; certificate failures the host and how to
pass a CA: in the applications (sync and aio), the adapters and for an msal app under them.

Real sockets only: a loopback port nothing listens on, and the emulator's HTTPS endpoint
with its CA not passed.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import msal
import pytest
import requests

import entra_auth
from entra_auth import EntraAuth, aio
from entra_auth.errors import TransportFailure
from entra_auth.testing import PUBLIC_CLIENT_ID, WEB_APP_ID, WEB_APP_SECRET, Emulator
from entra_auth.transport.failures import CA_HINT, describe, request_failure

APP_SCOPES = ["https://graph.microsoft.com/.default"]


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening on it (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def no_ca_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No CA bundle from the environment: the emulator's certificate is untrusted."""
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    yield


def _refused_app(port: int, aio_app: bool = False) -> Any:
    module: Any = aio if aio_app else entra_auth
    return module.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET,
        authority=f"https://127.0.0.1:{port}/contoso", instance_discovery=False,
    )


def _untrusted_app(emu: Emulator, aio_app: bool = False) -> Any:
    module: Any = aio if aio_app else entra_auth
    return module.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        instance_discovery=False,
    )


def _refused(port: int, description: str) -> None:
    assert description.startswith(f"GET https://127.0.0.1:{port}/contoso/"), description
    assert description.endswith(": connection refused"), description


def _untrusted(emu: Emulator, description: str) -> None:
    assert description.startswith(f"GET {emu.base_url}/"), description
    assert "certificate verification failed for 127.0.0.1" in description
    assert "verify='/path/to/ca.pem'" in description
    assert WEB_APP_SECRET not in description


def test_sync_application_names_method_url_and_cause(closed_port: int) -> None:
    result = _refused_app(closed_port).acquire_token_for_client(APP_SCOPES)
    assert result["error"] == "transport_error"
    _refused(closed_port, result["error_description"])


def test_aio_application_names_method_url_and_cause(closed_port: int) -> None:
    async def go() -> dict[str, Any]:
        result: dict[str, Any] = await _refused_app(closed_port, True).acquire_token_for_client(
            APP_SCOPES)
        return result

    result = asyncio.run(go())
    assert result["error"] == "transport_error"
    _refused(closed_port, result["error_description"])


def test_untrusted_certificate_sync_and_aio(emu: Emulator, no_ca_env: None) -> None:
    result = _untrusted_app(emu).acquire_token_for_client(APP_SCOPES)
    _untrusted(emu, result["error_description"])

    async def go() -> dict[str, Any]:
        result: dict[str, Any] = await _untrusted_app(emu, True).acquire_token_for_client(
            APP_SCOPES)
        return result

    _untrusted(emu, asyncio.run(go())["error_description"])
    # and with the CA passed, it works
    trusted = entra_auth.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        instance_discovery=False, verify=str(emu.ca_bundle),
    )
    assert "access_token" in trusted.acquire_token_for_client(APP_SCOPES)


def test_adapters_raise_transport_failure_with_the_cause(closed_port: int) -> None:
    auth = EntraAuth(_refused_app(closed_port), APP_SCOPES)
    with pytest.raises(TransportFailure) as sync_error:
        requests.get("https://graph.microsoft.com/v1.0/me", auth=auth, timeout=5)
    _refused(closed_port, str(sync_error.value.error_description))
    with httpx.Client(auth=auth) as client, pytest.raises(TransportFailure) as httpx_error:
        client.get("https://graph.microsoft.com/v1.0/me")
    _refused(closed_port, str(httpx_error.value.error_description))

    async def go() -> None:
        aio_auth = EntraAuth(_refused_app(closed_port, True), APP_SCOPES)
        async with httpx.AsyncClient(auth=aio_auth) as client:
            await client.get("https://graph.microsoft.com/v1.0/me")

    with pytest.raises(TransportFailure) as async_error:
        asyncio.run(go())
    _refused(closed_port, str(async_error.value.error_description))


def test_adapter_over_an_msal_app_names_the_failed_request(
    emu: Emulator, no_ca_env: None
) -> None:
    # msal lets requests' exception through; the adapter describes it. (msal discovers the
    # authority in its constructor: trust the CA for that, then stop trusting it.)
    session = requests.Session()
    session.verify = str(emu.ca_bundle)
    app = msal.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        instance_discovery=False, http_client=session,
    )
    session.verify = True
    auth = EntraAuth(app, APP_SCOPES)
    with pytest.raises(TransportFailure) as caught:
        auth.get_token()
    description = str(caught.value.error_description)
    assert description.startswith(f"POST {emu.base_url}/"), description
    assert "certificate verification failed for 127.0.0.1" in description
    assert isinstance(caught.value.__cause__, requests.exceptions.SSLError)


def test_get_token_on_an_aio_app_points_to_get_token_async(emu: Emulator) -> None:
    app = aio.PublicClientApplication(PUBLIC_CLIENT_ID, authority=emu.authority(),
                                      verify=emu.ca_bundle, instance_discovery=False)
    with pytest.raises(TypeError, match=r"await auth\.get_token_async\(\)"):
        EntraAuth(app, ["User.Read"]).get_token()


def test_describe_real_exceptions(closed_port: int, emu: Emulator, no_ca_env: None) -> None:
    url = f"http://127.0.0.1:{closed_port}/x?secret=1"
    with pytest.raises(requests.exceptions.ConnectionError) as refused:
        requests.get(url, timeout=5)
    assert request_failure("GET", url, refused.value) == (
        f"GET http://127.0.0.1:{closed_port}/x: connection refused")
    with pytest.raises(httpx.ConnectError) as httpx_refused:
        httpx.get(url)
    assert describe(httpx_refused.value).cause == "connection refused"
    with pytest.raises(requests.exceptions.SSLError) as untrusted:
        requests.get(emu.graph_url, timeout=5)
    failure = describe(untrusted.value, emu.graph_url)
    assert failure.certificate and failure.kind == "tls"
    assert failure.cause.startswith("certificate verification failed for 127.0.0.1 (")
    assert failure.cause.endswith(CA_HINT)
    with pytest.raises(httpx.ConnectError) as httpx_untrusted:
        httpx.get(emu.graph_url)
    assert describe(httpx_untrusted.value, emu.graph_url).certificate
    # (no DNS lookup in the suite: loopback only) a resolver failure as the socket raises it
    unresolved = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    assert describe(unresolved, "https://login.contoso.invalid/t").cause == (
        "could not resolve host login.contoso.invalid")


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        server.close()
        for conn in held:
            conn.close()


def test_a_server_that_never_answers_is_a_timeout(silent_port: int) -> None:
    def app(module: Any) -> Any:
        return module.ConfidentialClientApplication(
            WEB_APP_ID, client_credential=WEB_APP_SECRET, timeout=0.5,
            authority=f"http://127.0.0.1:{silent_port}/contoso", instance_discovery=False)

    async def go() -> dict[str, Any]:
        result: dict[str, Any] = await app(aio).acquire_token_for_client(APP_SCOPES)
        return result

    for result in (app(entra_auth).acquire_token_for_client(APP_SCOPES), asyncio.run(go())):
        description = result["error_description"]
        assert description.startswith(f"GET http://127.0.0.1:{silent_port}/contoso/")
        assert description.endswith(": timed out waiting for the reply"), description
