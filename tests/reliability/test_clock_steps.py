"""Wall-clock steps don't stretch waits (against the emulator): a throttle measured on the
monotonic clock ends on time after the wall clock steps back an hour, and a persisted
``http_cache`` written by a process whose clock was ahead is not trusted."""

from __future__ import annotations

import time
from typing import Any

from fake_time import FakeTime

import entra_auth as msal
from entra_auth.testing import WEB_APP_ID, WEB_APP_SECRET, Emulator

from .flows import GRAPH_DEFAULT


class SteppedClock:
    """A wall clock that follows ``time`` but is stepped by ``offset`` seconds (NTP, a VM
    resume, a user), while ``time`` itself (the monotonic clock) never steps."""

    def __init__(self, time: FakeTime) -> None:
        self.time = time
        self.offset = 0.0

    def __call__(self) -> float:
        return self.time() + self.offset


def _app(emu: Emulator, http_cache: dict[str, Any], **kwargs: Any) -> Any:
    app = msal.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        verify=emu.ca_bundle, token_cache=msal.SerializableTokenCache(), http_cache=http_cache,
        **kwargs)
    app.get_accounts()
    return app


def test_throttle_ends_on_time_after_the_wall_clock_steps_back(entra_emulator: Emulator) -> None:
    emu = entra_emulator
    fake = FakeTime()
    app = _app(emu, {}, clock=fake)  # the wall and the monotonic clock: both fake
    clock = SteppedClock(fake)
    app._ctx.clock = clock  # the wall clock alone steps, as a test seam
    emu.inject_fault("token", "status", status=503, retry_after=1, times=1)
    first = app.acquire_token_for_client(GRAPH_DEFAULT)
    assert first["error"] == "temporarily_unavailable"
    clock.offset = -3600.0
    assert app.acquire_token_for_client(GRAPH_DEFAULT) == first  # within 1 s: replayed
    assert len(emu.requests_to("token")) == 1
    fake.advance(1.2)
    # msal 1.39 keeps replaying here for an hour (expires_at is an hour ahead of the clock)
    assert "access_token" in app.acquire_token_for_client(GRAPH_DEFAULT)
    assert len(emu.requests_to("token")) == 2


def test_persisted_http_cache_from_a_clock_ahead_is_not_trusted(entra_emulator: Emulator) -> None:
    emu = entra_emulator
    http_cache: dict[str, Any] = {}
    writer = _app(emu, http_cache)
    writer._ctx.clock = lambda: time.time() + 3600  # the writing process's clock was ahead
    writer._ctx.monotonic = None  # and it is another process: its marks are not ours
    emu.inject_fault("token", "status", status=503, retry_after=5, times=1)
    assert writer.acquire_token_for_client(GRAPH_DEFAULT)["error"] == "temporarily_unavailable"
    for entry in http_cache.values():  # as loaded from disk in a new process
        entry["monotonic"] = ["another-process", 0.0]
    reader = _app(emu, http_cache)
    assert "access_token" in reader.acquire_token_for_client(GRAPH_DEFAULT)
    assert len(emu.requests_to("token")) == 2
