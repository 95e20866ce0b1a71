"""Single-flight for threads: concurrent callers needing the same token share one request.

The lock only guards the table of calls in flight; it is never held while the leader does I/O.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

__all__ = ["SingleFlight"]

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
