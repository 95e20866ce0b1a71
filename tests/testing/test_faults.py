"""Per-endpoint fault injection, seen by a real HTTP client."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from entra_auth.testing import WEB_APP_ID, WEB_APP_SECRET, Emulator

from .helpers import assert_entra_error, token

FORM = {"grant_type": "client_credentials", "client_id": WEB_APP_ID,
        "client_secret": WEB_APP_SECRET, "scope": "https://graph.microsoft.com/.default"}


@pytest.mark.parametrize(("status", "error", "code"), [(429, "temporarily_unavailable", 90055),
                                                       (500, "server_error", 90033),
                                                       (503, "temporarily_unavailable", 90033)])
def test_status_with_retry_after_once(http: requests.Session, emu: Emulator, status: int,
                                      error: str, code: int) -> None:
    fault = emu.inject_fault("token", "status", status=status, retry_after=7)
    resp = token(http, emu, FORM)
    assert resp.status_code == status and resp.headers["Retry-After"] == "7"
    assert resp.json()["error"] == error and resp.json()["error_codes"] == [code]
    assert token(http, emu, FORM).status_code == 200
    assert fault.fired == 1 and fault.exhausted


def test_times_and_always(http: requests.Session, emu: Emulator) -> None:
    emu.inject_fault("token", "status", status=503, times=2)
    assert [token(http, emu, FORM).status_code for _ in range(3)] == [503, 503, 200]
    forever = emu.inject_fault("*", "status", status=500, times=None)
    assert all(token(http, emu, FORM).status_code == 500 for _ in range(3))
    assert http.get(f"{emu.authority()}/v2.0/.well-known/openid-configuration",
                    timeout=10).status_code == 500
    assert forever.fired == 4
    emu.clear_faults()
    assert token(http, emu, FORM).status_code == 200


def test_fault_only_hits_its_endpoint(http: requests.Session, emu: Emulator) -> None:
    emu.inject_fault("devicecode", "status", status=503)
    assert token(http, emu, FORM).status_code == 200


def test_broken_bodies(http: requests.Session, emu: Emulator) -> None:
    emu.inject_fault("token", "malformed_json")
    resp = token(http, emu, FORM)
    assert resp.status_code == 200
    with pytest.raises(ValueError):
        resp.json()
    emu.inject_fault("token", "html")
    html = token(http, emu, FORM)
    assert html.headers["content-type"].startswith("text/html") and "<html>" in html.text
    emu.inject_fault("token", "empty")
    assert token(http, emu, FORM).content == b""


def test_truncated_body_and_dropped_connection(http: requests.Session, emu: Emulator) -> None:
    emu.inject_fault("token", "truncated")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        token(http, emu, FORM)
    emu.inject_fault("token", "drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        token(http, emu, FORM)
    assert token(http, emu, FORM).status_code == 200  # the server survived both
    assert [r.status for r in emu.requests_to("token")] == [200, 0, 200]


def test_delay_then_normal_answer(http: requests.Session, emu: Emulator) -> None:
    # Held back: a client that waits less than the delay gets no answer (a real read
    # timeout, as the delay fault is meant for), one that waits longer a normal one.
    emu.inject_fault("token", "delay", seconds=0.3, times=2)
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.post(emu.token_endpoint(), data=FORM, timeout=(5, 0.1))
    assert http.post(emu.token_endpoint(), data=FORM, timeout=10).status_code == 200
    assert token(http, emu, FORM).status_code == 200  # the fault is used up


def test_graph_can_fail_too(http: requests.Session, emu: Emulator) -> None:
    emu.inject_fault("graph", "status", status=429, retry_after=1)
    resp = http.get(emu.graph_url, timeout=10)
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "1"


@pytest.mark.parametrize("kwargs", [
    {"endpoint": "nowhere", "kind": "drop"},
    {"endpoint": "token", "kind": "explode"},
    {"endpoint": "token", "kind": "drop", "times": 0},
    {"endpoint": "token", "kind": "status", "status": 42},
    {"endpoint": "token", "kind": "delay", "seconds": -1},
])
def test_bad_fault_rules_are_rejected(emu: Emulator, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        emu.inject_fault(**kwargs)  # type: ignore[arg-type]


def test_reset_clears_faults(http: requests.Session, emu: Emulator) -> None:
    emu.inject_fault("token", "status", status=503, times=None)
    emu.reset()
    assert token(http, emu, FORM).status_code == 200
    assert_entra_error(token(http, emu, {"client_id": WEB_APP_ID}), 400, "invalid_request",
                       900144)


def test_a_delayed_answer_does_not_outlive_a_reset(http: requests.Session,
                                                   emu: Emulator) -> None:
    # A request held back when its test ends must not issue a token into the next test.
    emu.inject_fault("token", "delay", seconds=0.3)
    outcome: list[object] = []

    def call() -> None:
        try:
            outcome.append(token(http, emu, FORM).status_code)
        except requests.exceptions.ConnectionError as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    while not emu.requests_to("token"):  # arrived, and held
        time.sleep(0.005)
    emu.reset()
    caller.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], requests.exceptions.ConnectionError)
    assert emu.tokens_issued == 0 and emu.requests_to("token") == []
    assert token(http, emu, FORM).status_code == 200  # the reset emulator serves normally
