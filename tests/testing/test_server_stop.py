"""Stopping an emulator wakes its serving loop at once, instead of at the loop's next poll
(once a second), and stopping one that never served returns too."""

from __future__ import annotations

import time

from entra_auth.testing import Emulator
from entra_auth.testing.server import EmulatorServer


def test_stop_does_not_wait_for_the_next_poll() -> None:
    emu = Emulator().start()
    reply = emu.requests_session().get(
        f"{emu.base_url}/common/v2.0/.well-known/openid-configuration", timeout=10)
    assert reply.ok  # it served
    server = emu._server
    assert server is not None
    started = time.monotonic()
    emu.stop()
    elapsed = time.monotonic() - started
    assert not server._thread.is_alive()
    assert elapsed < 0.5  # the loop polls once a second: only the wake-up ends it sooner


def test_a_server_that_never_served_stops() -> None:
    emu = Emulator()
    server = EmulatorServer(emu._core)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 0.5
