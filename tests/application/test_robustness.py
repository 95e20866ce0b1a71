"""Bad replies, faults, throttling, single-flight, transports and logging, against the emulator."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from fake_time import FakeTime

import entra_auth as msal
from entra_auth.testing import GRAPH_RESOURCE, WEB_APP_ID, WEB_APP_SECRET, Emulator

from .conftest import ALICE, ALICE_PW, USER_READ, public_app, sign_in

DEFAULT = [f"{GRAPH_RESOURCE}/.default"]


@pytest.mark.parametrize(
    ("kind", "status", "retry_after", "error"),
    [
        ("malformed_json", 200, None, "invalid_response"),
        ("html", 500, None, "server_error"),
        ("empty", 200, None, "invalid_response"),
        ("truncated", 200, None, None),  # cut short of Content-Length: a read error
        ("status", 500, None, "server_error"),
        ("status", 429, 30, None),
        ("drop", 200, None, "transport_error"),
    ],
)
def test_token_endpoint_faults_give_error_dicts(
    emu: Emulator, kind: str, status: int, retry_after: int | None, error: str | None
) -> None:
    app = public_app(emu)
    cache_before = app.token_cache.find_accounts()
    emu.inject_fault("token", kind, status=status, retry_after=retry_after)  # type: ignore[arg-type]
    result = app.acquire_token_by_username_password(ALICE, ALICE_PW, [USER_READ])
    assert "access_token" not in result
    assert result["error"] == (error or result["error"]) and result["error_description"]
    assert "correlation_id" in result
    assert app.token_cache.find_accounts() == cache_before == []
    if retry_after:
        assert result["retry_after"] == "30"
        # Throttled: the same request is answered from the http_cache, not the network.
        count = len(emu.requests_to("token"))
        again = app.acquire_token_by_username_password(ALICE, ALICE_PW, [USER_READ])
        assert again["error"] == result["error"] and len(emu.requests_to("token")) == count


def test_connection_refused_is_an_error_dict() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = msal.PublicClientApplication("id", authority=f"http://127.0.0.1:{port}/tenant")
    result = app.acquire_token_by_username_password(ALICE, ALICE_PW, [USER_READ])
    assert result["error"] == "transport_error" and "127.0.0.1" in result["error_description"]
    assert app.acquire_token_silent([USER_READ], {"home_account_id": "a.b"}) is None


def test_discovery_faults(emu: Emulator) -> None:
    emu.inject_fault("openid_configuration", "html", status=502)
    app = public_app(emu)
    result = app.acquire_token_by_username_password(ALICE, ALICE_PW, [USER_READ])
    assert result["error"] == "invalid_discovery_response"
    with pytest.raises(ValueError, match="authority configuration"):
        public_app(emu, authority=emu.authority("no-such-tenant.example")
                   ).acquire_token_by_username_password(ALICE, ALICE_PW, [USER_READ])


def test_failed_proactive_refresh_returns_valid_token(emu: Emulator) -> None:
    emu.settings.refresh_in = 1  # refresh_on is (almost) immediately due
    fake = FakeTime()
    app = public_app(emu, clock=fake)
    first = sign_in(app)
    [account] = app.get_accounts()
    fake.advance(1.1)
    emu.inject_fault("token", "status", status=503, times=None)
    result = app.acquire_token_silent_with_error([USER_READ], account)
    assert result is not None and result["access_token"] == first["access_token"]
    assert result["token_source"] == "cache"
    emu.clear_faults()
    emu.inject_fault("token", "drop", times=None)
    app.token_cache  # the same cache, a new throttling window thanks to a fresh app
    other = public_app(emu, token_cache=app.token_cache, clock=fake)
    result = other.acquire_token_silent_with_error([USER_READ], account)
    assert result is not None and result["access_token"] == first["access_token"]
    assert [r.status for r in emu.requests_to("token")][1:] == [503, 0]  # both refreshes tried


def test_single_flight_one_refresh_for_16_threads(emu: Emulator) -> None:
    emu.settings.access_token_lifetime = 200  # under the 5-minute margin: expired at once
    app = public_app(emu)
    sign_in(app)
    [account] = app.get_accounts()
    emu.settings.access_token_lifetime = 3600
    emu.inject_fault("token", "delay", seconds=0.5)
    before = len(emu.requests_to("token"))
    barrier = threading.Barrier(16)
    results: list[Any] = []

    def worker() -> None:
        barrier.wait()
        results.append(app.acquire_token_silent([USER_READ], account))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(emu.requests_to("token")) - before == 1
    assert len(results) == 16 and all(r and "access_token" in r for r in results)
    assert len({r["access_token"] for r in results}) == 1


def test_verify_beats_requests_ca_bundle(emu: Emulator, monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Any) -> None:
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bogus))
    result = sign_in(public_app(emu))  # verify=emu.ca_bundle reaches every request
    assert result["token_source"] == "identity_provider"


def test_custom_http_client(emu: Emulator) -> None:
    session = emu.requests_session()
    calls: list[str] = []

    class Client:
        def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None,
                 **kw: Any) -> Any:
            calls.append("POST")
            return session.post(url, params=params, data=data, headers=headers, **kw)

        def get(self, url: str, params: Any = None, headers: Any = None, **kw: Any) -> Any:
            calls.append("GET")
            return session.get(url, params=params, headers=headers, **kw)

    app = msal.ConfidentialClientApplication(
        WEB_APP_ID, WEB_APP_SECRET, authority=emu.authority(), http_client=Client())
    assert "access_token" in app.acquire_token_for_client(DEFAULT)
    assert "POST" in calls and "GET" in calls

    class Broken:
        def post(self, *a: Any, **k: Any) -> Any:
            raise RuntimeError("boom")

        get = post

    broken = msal.ConfidentialClientApplication(
        WEB_APP_ID, WEB_APP_SECRET, authority=emu.authority(), http_client=Broken())
    assert broken.acquire_token_for_client(DEFAULT)["error"] == "transport_error"


def test_no_secret_in_any_log_record(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app = public_app(emu)
    result = sign_in(app)
    [account] = app.get_accounts()
    app.acquire_token_silent([USER_READ], account, force_refresh=True)
    cca = msal.ConfidentialClientApplication(
        WEB_APP_ID, WEB_APP_SECRET, authority=emu.authority(), verify=emu.ca_bundle)
    cca.acquire_token_for_client(DEFAULT)
    emu.inject_fault("token", "truncated")
    app.acquire_token_silent([USER_READ], account, force_refresh=True)
    secrets = [ALICE_PW, WEB_APP_SECRET, result["access_token"], result["refresh_token"],
               result["id_token"]]
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("entra_auth"))
    assert text  # something was logged
    for secret in secrets:
        assert secret not in text
