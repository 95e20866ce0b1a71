"""The adapter's token slot: attach, refresh ahead of expiry, and share one acquisition.

Concurrent callers that need a token share one in-flight acquisition per claims value
(single-flight), in threads and in asyncio tasks. A proactive refresh runs in the background
while the old token is still handed out. The lock is never held across I/O.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import sys
import threading
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any, Literal

from ._acquire import (
    AppCall,
    ShowMessage,
    TokenRecord,
    TokenSource,
    acquire_flow,
    record_from_result,
)

__all__ = ["TokenProvider", "default_prompt"]

logger = logging.getLogger("entra_auth.adapters")

# After a failed or fruitless background refresh, wait this long before trying again.
REFRESH_RETRY = 30.0

AcquireFlow = Generator[AppCall | ShowMessage, Any, Mapping[str, Any]]
SyncFlight = concurrent.futures.Future[TokenRecord]
AsyncFlight = tuple[asyncio.AbstractEventLoop, "asyncio.Task[TokenRecord]"]


def default_prompt(message: str) -> None:
    """Print device-code instructions to stderr."""
    print(message, file=sys.stderr, flush=True)


class TokenProvider:
    """Hands out access tokens for one application, scope set and token source."""

    def __init__(
        self,
        app: Any,
        scopes: Sequence[str],
        source: TokenSource,
        *,
        prompt: Callable[[str], None] = default_prompt,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.scopes = list(scopes)
        self.source = source
        self.prompt = prompt
        self.clock = clock
        self.app_kind: Literal["public", "confidential"] = (
            "confidential" if hasattr(app, "acquire_token_for_client") else "public"
        )
        self.app_is_async = inspect.iscoroutinefunction(
            getattr(app, "acquire_token_silent_with_error", None)
        )
        self._lock = threading.Lock()
        self._record: TokenRecord | None = None
        self._next_refresh = 0.0
        self._refreshing = False
        self._sync_flights: dict[str, SyncFlight] = {}
        self._async_flights: dict[str, AsyncFlight] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._username: str | None = None

    # -- the shared decision -------------------------------------------------------------

    def _plan(self, claims: str | None, rejected: str | None) -> tuple[str | None, bool]:
        """Under the lock: the token to use now (or None to acquire), and whether to refresh."""
        now = self.clock()
        record = self._record
        if rejected is not None and record is not None and record.token == rejected:
            self._record = record = None
        if record is None or not record.usable(now):
            return None, False
        if claims is not None:
            # Another caller already answered this very challenge: reuse its token.
            if rejected is not None and record.token != rejected and record.claims == claims:
                return record.token, False
            return None, False
        if now >= record.refresh_at and now >= self._next_refresh and not self._refreshing:
            self._refreshing = True
            return record.token, True
        return record.token, False

    def _flow(self, claims: str | None) -> AcquireFlow:
        return acquire_flow(self.app_kind, self.source, self.scopes, claims, self._username)

    def _store(self, result: Mapping[str, Any], claims: str | None) -> TokenRecord:
        record = record_from_result(result, self.clock(), claims)
        with self._lock:
            previous = self._record
            self._record = record
            if record.username:
                self._username = record.username
            if previous is not None and previous.token == record.token:
                # The app handed back the same token (its cache still deems it fresh):
                # don't ask again on every request.
                self._next_refresh = self.clock() + REFRESH_RETRY
        return record

    def _refresh_failed(self, exc: BaseException) -> None:
        with self._lock:
            self._next_refresh = self.clock() + REFRESH_RETRY
        logger.warning("proactive token refresh failed (%s); still using the current token",
                       type(exc).__name__)

    def _refresh_done(self) -> None:
        with self._lock:
            self._refreshing = False

    def _key(self, claims: str | None) -> str:
        return claims or ""

    def invalidate(self) -> None:
        """Forget the current token (the next request acquires a new one)."""
        with self._lock:
            self._record = None

    # -- threads --------------------------------------------------------------------------

    def token_sync(self, claims: str | None = None, rejected: str | None = None) -> str:
        """Return an access token, acquiring one (shared with concurrent callers) if needed."""
        if self.app_is_async:
            raise TypeError(
                "this EntraAuth wraps an async application (entra_auth.aio); "
                "use it with httpx.AsyncClient"
            )
        with self._lock:
            token, refresh = self._plan(claims, rejected)
            if token is None:
                future, leader = self._sync_flight(claims)
        if token is not None:
            if refresh:
                threading.Thread(target=self._refresh_sync, daemon=True).start()
            return token
        if leader:
            self._lead_sync(future, claims)
        return future.result().token

    def _sync_flight(self, claims: str | None) -> tuple[SyncFlight, bool]:
        """Under the lock: the flight to wait on for ``claims``, and whether we lead it."""
        future = self._sync_flights.get(self._key(claims))
        if future is not None:
            return future, False
        future = concurrent.futures.Future()
        self._sync_flights[self._key(claims)] = future
        return future, True

    def _lead_sync(self, future: SyncFlight, claims: str | None) -> None:
        try:
            result = _run_sync(self._flow(claims), self.app, self.prompt)
            future.set_result(self._store(result, claims))
        except BaseException as exc:
            future.set_exception(exc)
        finally:
            with self._lock:
                if self._sync_flights.get(self._key(claims)) is future:
                    del self._sync_flights[self._key(claims)]

    def _refresh_sync(self) -> None:
        try:
            with self._lock:
                future, leader = self._sync_flight(None)
            if leader:
                self._lead_sync(future, None)
            exc = future.exception()
            if exc is not None:
                self._refresh_failed(exc)
        finally:
            self._refresh_done()

    # -- asyncio --------------------------------------------------------------------------

    async def token_async(self, claims: str | None = None, rejected: str | None = None) -> str:
        """Return an access token without blocking the event loop (shared across tasks)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            token, refresh = self._plan(claims, rejected)
            task = None
            if token is None:
                entry = self._async_flights.get(self._key(claims))
                if entry is not None and entry[0] is loop:
                    task = entry[1]
                else:
                    task = loop.create_task(self._lead_async(claims))
                    task.add_done_callback(_consume_exception)
                    self._async_flights[self._key(claims)] = (loop, task)
        if token is not None:
            if refresh:
                background = loop.create_task(self._refresh_async())
                self._background.add(background)
                background.add_done_callback(self._background.discard)
            return token
        assert task is not None
        # shield: one caller's cancellation must not cancel the acquisition others wait on.
        record = await asyncio.shield(task)
        return record.token

    async def _lead_async(self, claims: str | None) -> TokenRecord:
        try:
            result = await _run_async(self._flow(claims), self.app, self.prompt, self.app_is_async)
            return self._store(result, claims)
        finally:
            with self._lock:
                entry = self._async_flights.get(self._key(claims))
                if entry is not None and entry[1] is asyncio.current_task():
                    del self._async_flights[self._key(claims)]

    async def _refresh_async(self) -> None:
        try:
            loop = asyncio.get_running_loop()
            with self._lock:
                entry = self._async_flights.get("")
                if entry is not None and entry[0] is loop:
                    task = entry[1]
                else:
                    task = loop.create_task(self._lead_async(None))
                    task.add_done_callback(_consume_exception)
                    self._async_flights[""] = (loop, task)
            try:
                await asyncio.shield(task)
            except Exception as exc:
                self._refresh_failed(exc)
        finally:
            self._refresh_done()


def _consume_exception(task: asyncio.Task[Any]) -> None:
    # Every waiter may have been cancelled; retrieve the exception so asyncio doesn't warn.
    if not task.cancelled():
        task.exception()


def _run_sync(flow: AcquireFlow, app: Any, prompt: Callable[[str], None]) -> Mapping[str, Any]:
    try:
        effect = next(flow)
        while True:
            if isinstance(effect, ShowMessage):
                prompt(effect.text)
                effect = flow.send(None)
            else:
                effect = flow.send(getattr(app, effect.method)(*effect.args, **effect.kwargs))
    except StopIteration as stop:
        result: Mapping[str, Any] = stop.value
        return result
    finally:
        flow.close()


async def _run_async(
    flow: AcquireFlow, app: Any, prompt: Callable[[str], None], app_is_async: bool
) -> Mapping[str, Any]:
    try:
        effect = next(flow)
        while True:
            if isinstance(effect, ShowMessage):
                prompt(effect.text)
                effect = flow.send(None)
                continue
            method = getattr(app, effect.method)
            if app_is_async:
                value = method(*effect.args, **effect.kwargs)
                if inspect.isawaitable(value):
                    value = await value
            else:
                # A sync application under an async client: keep its blocking I/O off the loop.
                value = await asyncio.to_thread(method, *effect.args, **effect.kwargs)
            effect = flow.send(value)
    except StopIteration as stop:
        result: Mapping[str, Any] = stop.value
        return result
    finally:
        flow.close()
