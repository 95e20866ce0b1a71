"""Run an I/O-free flow: ``run_sync`` with a blocking transport, ``run_async`` with an async one.

The two drivers differ only in ``await``; all protocol logic lives in the flows.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from ..protocol.messages import Flow, HttpRequest, HttpResponse, Sleep, TransportError

__all__ = ["AsyncTransport", "SyncTransport", "run_async", "run_sync"]

T = TypeVar("T")


class SyncTransport(Protocol):
    """Sends one request and returns the response; raises TransportError on failure."""

    def send(self, request: HttpRequest) -> HttpResponse: ...


class AsyncTransport(Protocol):
    """The asynchronous twin of :class:`SyncTransport`."""

    async def send(self, request: HttpRequest) -> HttpResponse: ...


def run_sync(
    flow: Flow[T],
    transport: SyncTransport,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Drive ``flow`` to completion with blocking I/O and return its result."""
    try:
        message = next(flow)
        while True:
            if isinstance(message, Sleep):
                sleep(max(0.0, message.seconds))
                message = flow.send(None)
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
    flow: Flow[T],
    transport: AsyncTransport,
    sleep: Callable[[float], Awaitable[None]] | None = None,
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
