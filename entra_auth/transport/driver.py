"""The one pair of flow drivers: ``run_sync`` (blocking) and ``run_async`` (asyncio).

They answer every message of :mod:`entra_auth.protocol.messages` but the adapters' own
(``NeedToken``/``SendWithToken``): an :class:`HttpRequest` through the transport, a
:class:`Sleep`, single-flight (:class:`InFlight`/:class:`Shared`, through the flights table;
without one a shared flow simply runs inline), and, given ``app=``, calls on an MSAL-like
application (:class:`AppCall`, :class:`ForgetToken`) and ``prompt=`` (:class:`ShowMessage`).
The two differ only in ``await``; all protocol logic lives in the flows.

A flow one of whose steps someone else must do (httpx's ``auth_flow`` has to ``yield`` the
request itself) is stepped with :func:`start` and :func:`resume`, which return the next
message or :class:`Done`. This module is the only place that sees ``StopIteration``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Generator, Hashable
from functools import partial
from typing import Any, Generic, Protocol, TypeVar

from ..protocol.messages import (
    AppCall,
    AppFlow,
    ForgetToken,
    HttpRequest,
    HttpResponse,
    InFlight,
    SendError,
    Shared,
    ShowMessage,
    Sleep,
)

__all__ = [
    "AsyncFlights", "AsyncTransport", "Done", "SyncFlights", "SyncTransport", "resume",
    "run_async", "run_sync", "start",
]

# ForgetToken is the adapters' message: its warning keeps the adapters' logger name.
logger = logging.getLogger("entra_auth.adapters")

T = TypeVar("T")
Y = TypeVar("Y")
R = TypeVar("R")


class SyncTransport(Protocol):
    """Sends one request and returns the response; raises SendError on failure."""

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


# -- stepping a flow by hand ------------------------------------------------------------------


class Done(Generic[R]):
    """What :func:`start`/:func:`resume` return once the flow has ended: its ``result``."""

    __slots__ = ("result",)

    def __init__(self, result: R) -> None:
        self.result = result

    def __repr__(self) -> str:
        return "Done(...)"


def start(flow: Generator[Y, Any, R]) -> Y | Done[R]:
    """Run ``flow`` to its first message; :class:`Done` if it ended without one."""
    try:
        return next(flow)
    except StopIteration as stop:
        return Done(stop.value)


def resume(flow: Generator[Y, Any, R], value: object) -> Y | Done[R]:
    """Send ``value`` (the answer to the last message) and return the next message, or
    :class:`Done`."""
    try:
        return flow.send(value)
    except StopIteration as stop:
        return Done(stop.value)


# -- the drivers ------------------------------------------------------------------------------


def run_sync(
    flow: AppFlow[T],
    transport: SyncTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    flights: SyncFlights | None = None,
    *,
    app: object = None,
    prompt: Callable[[str], None] | None = None,
) -> T:
    """Drive ``flow`` to completion with blocking I/O and return its result.

    Args:
        flow: The flow to run.
        transport: Sends :class:`HttpRequest` messages (raising :class:`SendError`).
        sleep: Answers :class:`Sleep`.
        flights: The single-flight table for :class:`InFlight`/:class:`Shared`.
        app: The application that :class:`AppCall` and :class:`ForgetToken` address (a
            ``protocol.client_app.SyncApp``; for ``run_async`` also an ``AsyncApp``).
        prompt: Shows a :class:`ShowMessage`'s text.

    Raises:
        TypeError: The flow yielded a message this call has nothing to answer with.
    """
    try:
        message = next(flow)
        while True:
            if isinstance(message, Sleep):
                sleep(max(0.0, message.seconds))
                message = flow.send(None)
            elif isinstance(message, InFlight):
                message = flow.send(flights is not None and flights.busy(message.key))
            elif isinstance(message, Shared):
                run = partial(run_sync, message.flow, transport, sleep, flights,
                              app=app, prompt=prompt)
                shared = run() if flights is None else flights.do(message.key, run)
                message = flow.send(shared)
            elif isinstance(message, HttpRequest):
                if transport is None:
                    raise _unanswerable(message, "transport")
                try:
                    response = transport.send(message)
                except SendError as exc:
                    message = flow.throw(exc)
                else:
                    message = flow.send(response)
            elif isinstance(message, AppCall):
                if app is None:
                    raise _unanswerable(message, "app")
                method = getattr(app, message.method)
                message = flow.send(method(*message.args, **message.kwargs))
            elif isinstance(message, ShowMessage):
                if prompt is None:
                    raise _unanswerable(message, "prompt")
                prompt(message.text)
                message = flow.send(None)
            elif isinstance(message, ForgetToken):
                forget_access_token(app, message.token)
                message = flow.send(None)
            else:
                raise _unanswerable(message, "")
    except StopIteration as stop:
        result: T = stop.value
        return result
    finally:
        flow.close()


async def run_async(
    flow: AppFlow[T],
    transport: AsyncTransport | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    flights: AsyncFlights | None = None,
    *,
    app: object = None,
    prompt: Callable[[str], None] | None = None,
) -> T:
    """Drive ``flow`` to completion with asynchronous I/O and return its result.

    Arguments as for :func:`run_sync`. An :class:`AppCall` to a coroutine method is awaited;
    a plain method (a sync application, e.g. msal's) runs in a worker thread, and so does
    :class:`ForgetToken`, so the event loop never blocks.
    """
    import asyncio

    if sleep is None:
        sleep = asyncio.sleep
    try:
        message = next(flow)
        while True:
            if isinstance(message, Sleep):
                await sleep(max(0.0, message.seconds))
                message = flow.send(None)
            elif isinstance(message, InFlight):
                message = flow.send(flights is not None and flights.busy(message.key))
            elif isinstance(message, Shared):
                run_ = partial(run_async, message.flow, transport, sleep, flights,
                               app=app, prompt=prompt)
                shared = await (run_() if flights is None else flights.do(message.key, run_))
                message = flow.send(shared)
            elif isinstance(message, HttpRequest):
                if transport is None:
                    raise _unanswerable(message, "transport")
                try:
                    response = await transport.send(message)
                except SendError as exc:
                    message = flow.throw(exc)
                else:
                    message = flow.send(response)
            elif isinstance(message, AppCall):
                if app is None:
                    raise _unanswerable(message, "app")
                message = flow.send(await _call_async(app, message))
            elif isinstance(message, ShowMessage):
                if prompt is None:
                    raise _unanswerable(message, "prompt")
                prompt(message.text)
                message = flow.send(None)
            elif isinstance(message, ForgetToken):
                # msal's caches are sync and lock: keep them off the loop.
                await asyncio.to_thread(forget_access_token, app, message.token)
                message = flow.send(None)
            else:
                raise _unanswerable(message, "")
    except StopIteration as stop:
        result: T = stop.value
        return result
    finally:
        flow.close()


async def _call_async(app: object, call: AppCall) -> Any:
    """Await a coroutine method; run a plain one in a worker thread (await what it returns
    if that is awaitable)."""
    import asyncio
    import inspect

    method = getattr(app, call.method)
    if inspect.iscoroutinefunction(method):
        return await method(*call.args, **call.kwargs)
    value = await asyncio.to_thread(method, *call.args, **call.kwargs)
    if inspect.isawaitable(value):
        value = await value
    return value


def forget_access_token(app: object, token: str) -> None:
    """Remove ``token`` from an msal-style ``app.token_cache`` (``search`` + ``remove_at``);
    nothing for an application without one."""
    cache = getattr(app, "token_cache", None)
    search = getattr(cache, "search", None)
    remove = getattr(cache, "remove_at", None)
    if not (callable(search) and callable(remove)):
        return
    try:
        for entry in list(search("AccessToken", query={"secret": token})):
            remove(entry)
    except Exception as exc:  # a cache we can't edit: the new request may get it again
        logger.warning("could not remove a rejected token from the cache (%s)",
                       type(exc).__name__)


def _unanswerable(message: object, missing: str) -> TypeError:
    needs = f" without {missing}=" if missing else ""
    return TypeError(f"this driver can't answer {message!r}{needs}")
