"""Run an I/O-free flow: ``run_sync`` with a blocking transport, ``run_async`` with an async one.

The two drivers differ only in ``await``; all protocol logic lives in the flows. Given a
single-flight table, they also answer :class:`InFlight` and run :class:`Shared` flows through
it (without one, a shared flow simply runs inline).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from functools import partial
from typing import Protocol, TypeVar

from ..protocol.messages import (
    AppFlow,
    HttpRequest,
    HttpResponse,
    InFlight,
    Shared,
    Sleep,
    TransportError,
)

__all__ = [
    "AsyncFlights", "AsyncTransport", "SyncFlights", "SyncTransport", "run_async", "run_sync",
]

T = TypeVar("T")


class SyncTransport(Protocol):
    """Sends one request and returns the response; raises TransportError on failure."""

    def send(self, request: HttpRequest) -> HttpResponse: ...


class AsyncTransport(Protocol):
    """The asynchronous twin of :class:`SyncTransport`."""

    async def send(self, request: HttpRequest) -> HttpResponse: ...


class SyncFlights(Protocol):
    """A single-flight table for threads (:class:`.singleflight.SingleFlight`)."""

    def busy(self, key: Hashable) -> bool: ...

    def do(self, key: Hashable, fn: Callable[[], T]) -> T: ...


class AsyncFlights(Protocol):
    """A single-flight table for asyncio tasks (:class:`.singleflight.AsyncSingleFlight`)."""

    def busy(self, key: Hashable) -> bool: ...

    async def do(self, key: Hashable, fn: Callable[[], Awaitable[T]]) -> T: ...


def run_sync(
    flow: AppFlow[T],
    transport: SyncTransport,
    sleep: Callable[[float], None] = time.sleep,
    flights: SyncFlights | None = None,
) -> T:
    """Drive ``flow`` to completion with blocking I/O and return its result."""
    try:
        message = next(flow)
        while True:
            if isinstance(message, Sleep):
                sleep(max(0.0, message.seconds))
                message = flow.send(None)
                continue
            if isinstance(message, InFlight):
                message = flow.send(flights is not None and flights.busy(message.key))
                continue
            if isinstance(message, Shared):
                run = partial(run_sync, message.flow, transport, sleep, flights)
                shared = run() if flights is None else flights.do(message.key, run)
                message = flow.send(shared)
                continue
            try:
                response = transport.send(message)
            except TransportError as exc:
                message = flow.throw(exc)
            else:
                message = flow.send(response)
    except StopIteration as stop:
        result: T = stop.value
        return result
    finally:
        flow.close()


async def run_async(
    flow: AppFlow[T],
    transport: AsyncTransport,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    flights: AsyncFlights | None = None,
) -> T:
    """Drive ``flow`` to completion with asynchronous I/O and return its result."""
    if sleep is None:
        import asyncio

        sleep = asyncio.sleep
    try:
        message = next(flow)
        while True:
            if isinstance(message, Sleep):
                await sleep(max(0.0, message.seconds))
                message = flow.send(None)
                continue
            if isinstance(message, InFlight):
                message = flow.send(flights is not None and flights.busy(message.key))
                continue
            if isinstance(message, Shared):
                run_ = partial(run_async, message.flow, transport, sleep, flights)
                shared = await (run_() if flights is None else flights.do(message.key, run_))
                message = flow.send(shared)
                continue
            try:
                response = await transport.send(message)
            except TransportError as exc:
                message = flow.throw(exc)
            else:
                message = flow.send(response)
    except StopIteration as stop:
        result: T = stop.value
        return result
    finally:
        flow.close()
