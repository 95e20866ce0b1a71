"""Time for tests that must not wait: a clock that moves only when told, and sleeps that
return at once after moving it.

Pass ``clock=time, sleep=time.sleep`` to an application (``sleep=time.async_sleep`` to an
:mod:`entra_auth.aio` one). A test then asserts what was waited (``time.slept``) instead of
measuring the wall clock. Given an emulator, the clock *is* the emulator's clock and a sleep
moves it too, so the emulator judges device-code intervals and lifetimes by the same time.
"""

from __future__ import annotations

import asyncio
import time as _time
from typing import Any

__all__ = ["FakeTime"]


class FakeTime:
    """A clock (epoch seconds) and its ``sleep``, which advances it instead of waiting.

    Args:
        emulator: When given, the clock reads ``emulator.now()`` and every advance moves the
            emulator's clock as well (wall time still passes underneath, which is harmless).
        start: The start time when there is no emulator (default: now, a whole second).
    """

    def __init__(self, emulator: Any = None, start: float | None = None) -> None:
        self.emulator = emulator
        self._now = float(int(_time.time())) if start is None else start
        self.slept: list[float] = []

    def __call__(self) -> float:
        if self.emulator is not None:
            return float(self.emulator.now())
        return self._now

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass (also on the emulator's clock)."""
        self._now += seconds
        if self.emulator is not None:
            self.emulator.advance_clock(seconds)

    def sleep(self, seconds: float) -> None:
        """Record a wait of ``seconds`` and let that much time pass, at once."""
        self.slept.append(seconds)
        self.advance(seconds)

    async def async_sleep(self, seconds: float) -> None:
        """:meth:`sleep` for asyncio: records, advances, and lets other tasks run once."""
        self.sleep(seconds)
        await asyncio.sleep(0)
