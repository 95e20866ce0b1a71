"""Single-flight: concurrent callers needing the same token share one request.

:class:`SingleFlight` serves threads: its lock only guards the table of calls in flight and is
never held while the leader does I/O. :class:`AsyncSingleFlight`, its asyncio twin, runs the
shared work in its own task and each caller awaits it through ``asyncio.shield``, so one
caller's cancellation leaves the others (and the request) running.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

__all__ = ["AsyncSingleFlight", "SingleFlight"]

T = TypeVar("T")


class _Call(Generic[T]):
    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None


class SingleFlight:
    """Run ``fn`` once per key at a time; callers arriving meanwhile get the same result."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[Hashable, _Call[Any]] = {}

    def busy(self, key: Hashable) -> bool:
        """True while a call for ``key`` is in flight."""
        with self._lock:
            return key in self._calls

    def do(self, key: Hashable, fn: Callable[[], T]) -> T:
        """Return ``fn()``, or the result of the identical call already in flight.

        Followers get a shallow copy of a dict result, so callers can't alter each other's.
        """
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if call is None:
                call = _Call()
                self._calls[key] = call
        if not leader:
            call.done.wait()
            if call.error is not None:
                raise call.error
            result = call.result
            return dict(result) if isinstance(result, dict) else result  # type: ignore[return-value]
        try:
            call.result = fn()
        except BaseException as exc:
            call.error = exc
            raise
        finally:
            with self._lock:
                self._calls.pop(key, None)
            call.done.set()
        return call.result


class AsyncSingleFlight:
    """Run ``fn`` once per key at a time; tasks arriving meanwhile get the same result."""

    def __init__(self) -> None:
        self._calls: dict[Hashable, asyncio.Task[Any]] = {}

    def busy(self, key: Hashable) -> bool:
        """True while a call for ``key`` is in flight on the running loop."""
        task = self._calls.get(key)
        return task is not None and not task.done()

    async def do(self, key: Hashable, fn: Callable[[], Awaitable[T]]) -> T:
        """Return ``await fn()``, or the result of the identical call already in flight.

        Followers get a shallow copy of a dict result, so callers can't alter each other's.
        """
        loop = asyncio.get_running_loop()
        task = self._calls.get(key)
        leader = task is None or task.done() or task.get_loop() is not loop
        if leader:
            task = loop.create_task(_await(fn))
            self._calls[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        assert task is not None
        result: T = await asyncio.shield(task)
        if not leader and isinstance(result, dict):
            return dict(result)  # type: ignore[return-value]
        return result

    def _forget(self, key: Hashable, task: asyncio.Task[Any]) -> None:
        if self._calls.get(key) is task:
            del self._calls[key]
        if not task.cancelled():
            task.exception()  # retrieved: every waiter may have been cancelled


async def _await(fn: Callable[[], Awaitable[T]]) -> T:
    return await fn()
