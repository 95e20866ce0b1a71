"""The adapter's token slot: attach, refresh ahead of expiry, and share one acquisition.

Concurrent callers that need a token share one in-flight acquisition per claims value
(single-flight), in threads and in asyncio tasks. A proactive refresh runs in the background
while the old token is still handed out. A token a resource rejected gets one forced
re-acquisition (past the application's cached access token), shared by every caller it was
rejected for. The lock is never held across I/O.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import inspect
import logging
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from ..protocol.client_app import ClientApp
from ..transport.driver import run_async, run_sync
from ._acquire import (
    AcquireFlow,
    Force,
    TokenRecord,
    TokenSource,
    acquire_flow,
    record_from_result,
)

__all__ = ["TokenProvider", "default_prompt"]

logger = logging.getLogger("entra_auth.adapters")

# After a failed or fruitless background refresh, wait this long before trying again.
REFRESH_RETRY = 30.0
# A token that a forced re-acquisition got is not forced again this soon: a resource that
# refuses even fresh tokens (wrong audience, its clock behind) costs one token request per
# this long, not one per request.
FORCE_RETRY = 30.0
# How many rejected tokens (SHA-256 digests) are remembered as already force-refreshed.
FORCED_MEMORY = 256

SyncFlight = concurrent.futures.Future[TokenRecord]
AsyncFlight = tuple[asyncio.AbstractEventLoop, "asyncio.Task[TokenRecord]"]


def default_prompt(message: str) -> None:
    """Print device-code instructions to stderr."""
    print(message, file=sys.stderr, flush=True)


class TokenProvider:
    """Hands out access tokens for one application, scope set and token source."""

    def __init__(
        self,
        app: ClientApp,
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
        self._forced: dict[str, None] = {}  # digests of tokens that had their forced refresh
        self._force_next = False  # invalidate(): the next acquisition is forced
        self._invalidated: str | None = None
        method = {"app": "acquire_token_for_client", "obo": "acquire_token_on_behalf_of"}
        self._force_by_argument = source.kind in method and _takes_force_refresh(
            getattr(app, method[source.kind], None))

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

    def _decide(
        self, claims: str | None, rejected: str | None, force: bool, flights: Mapping[str, Any]
    ) -> tuple[str | None, bool, str, Force | None]:
        """Under the lock: the token to use now (or None), whether to refresh in the
        background, and else the flight key to share and whether that flight is forced."""
        if force:
            record = self._record
            now = self.clock()
            if record is not None and record.usable(now):
                if record.token != rejected:
                    return record.token, False, "", None  # another caller already replaced it
                if record.forced_at is not None and now - record.forced_at < FORCE_RETRY:
                    return record.token, False, "", None  # fresh from a forced refresh
            key = _force_key(rejected)
            if key in flights:
                return None, False, key, None  # join the forced re-acquisition under way
            if key not in self._forced:
                self._remember_forced(key)
                return None, False, key, Force(rejected, self._force_by_argument)
            if record is not None and record.usable(now):
                return record.token, False, "", None  # this token had its forced refresh
        token, refresh = self._plan(claims, rejected)
        if token is not None:
            return token, refresh, "", None
        if claims is None and self._force_next:
            # invalidate(): bypass the application's cached access token once.
            self._force_next = False
            key = _force_key(self._invalidated)
            if key not in flights:
                self._remember_forced(key)
                return None, False, key, Force(self._invalidated, self._force_by_argument)
            return None, False, key, None
        return None, False, self._key(claims), None

    def _remember_forced(self, key: str) -> None:
        self._forced[key] = None
        if len(self._forced) > FORCED_MEMORY:
            del self._forced[next(iter(self._forced))]

    def _flow(self, claims: str | None, force: Force | None = None) -> AcquireFlow:
        return acquire_flow(self.app_kind, self.source, self.scopes, claims, self._username,
                            force)

    def _store(
        self, result: Mapping[str, Any], claims: str | None, forced: bool = False
    ) -> TokenRecord:
        record = record_from_result(result, self.clock(), claims, forced)
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
        """Forget the current token; the next acquisition bypasses the app's cached one."""
        with self._lock:
            if self._record is not None:
                self._invalidated = self._record.token
            self._record = None
            self._force_next = True

    # -- threads --------------------------------------------------------------------------

    def token_sync(
        self, claims: str | None = None, rejected: str | None = None, force: bool = False
    ) -> str:
        """Return an access token, acquiring one (shared with concurrent callers) if needed.

        ``force``: the resource refused ``rejected``; get another past the app's cache (once
        per token), or hand back the current token when that was done already.
        """
        if self.app_is_async:
            raise TypeError(
                "this EntraAuth wraps an async application (entra_auth.aio): use "
                "`await auth.get_token_async()`, or the auth with httpx.AsyncClient"
            )
        with self._lock:
            token, refresh, key, forced = self._decide(claims, rejected, force,
                                                       self._sync_flights)
            if token is None:
                future, leader = self._sync_flight(key)
        if token is not None:
            if refresh:
                threading.Thread(target=self._refresh_sync, daemon=True).start()
            return token
        if leader:
            self._lead_sync(future, key, claims, forced)
        return future.result().token

    def _sync_flight(self, key: str) -> tuple[SyncFlight, bool]:
        """Under the lock: the flight to wait on for ``key``, and whether we lead it."""
        future = self._sync_flights.get(key)
        if future is not None:
            return future, False
        future = concurrent.futures.Future()
        self._sync_flights[key] = future
        return future, True

    def _lead_sync(
        self, future: SyncFlight, key: str, claims: str | None, force: Force | None = None
    ) -> None:
        try:
            result = run_sync(self._flow(claims, force), app=self.app, prompt=self.prompt)
            future.set_result(self._store(result, claims, force is not None))
        except BaseException as exc:
            future.set_exception(exc)
        finally:
            with self._lock:
                if self._sync_flights.get(key) is future:
                    del self._sync_flights[key]

    def _refresh_sync(self) -> None:
        try:
            with self._lock:
                future, leader = self._sync_flight(self._key(None))
            if leader:
                self._lead_sync(future, self._key(None), None)
            exc = future.exception()
            if exc is not None:
                self._refresh_failed(exc)
        finally:
            self._refresh_done()

    # -- asyncio --------------------------------------------------------------------------

    async def token_async(
        self, claims: str | None = None, rejected: str | None = None, force: bool = False
    ) -> str:
        """Return an access token without blocking the event loop (shared across tasks)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            token, refresh, key, forced = self._decide(claims, rejected, force,
                                                       self._async_flights)
            task = None
            if token is None:
                entry = self._async_flights.get(key)
                if entry is not None and entry[0] is loop:
                    task = entry[1]
                else:
                    task = loop.create_task(self._lead_async(key, claims, forced))
                    task.add_done_callback(_consume_exception)
                    self._async_flights[key] = (loop, task)
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

    async def _lead_async(
        self, key: str, claims: str | None, force: Force | None = None
    ) -> TokenRecord:
        try:
            result = await run_async(self._flow(claims, force), app=self.app,
                                     prompt=self.prompt)
            return self._store(result, claims, force is not None)
        finally:
            with self._lock:
                entry = self._async_flights.get(key)
                if entry is not None and entry[1] is asyncio.current_task():
                    del self._async_flights[key]

    async def _refresh_async(self) -> None:
        try:
            loop = asyncio.get_running_loop()
            with self._lock:
                entry = self._async_flights.get("")
                if entry is not None and entry[0] is loop:
                    task = entry[1]
                else:
                    task = loop.create_task(self._lead_async("", None))
                    task.add_done_callback(_consume_exception)
                    self._async_flights[""] = (loop, task)
            try:
                await asyncio.shield(task)
            except Exception as exc:
                self._refresh_failed(exc)
        finally:
            self._refresh_done()


def _force_key(token: str | None) -> str:
    # Claims keys are JSON objects, so this prefix can't collide with one.
    digest = hashlib.sha256((token or "").encode("utf-8")).hexdigest()[:32]
    return f"force:{digest}"


def _takes_force_refresh(method: object) -> bool:
    """Whether an application method accepts ``force_refresh`` (entra_auth's do)."""
    if not callable(method):
        return False
    try:
        return "force_refresh" in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


def _consume_exception(task: asyncio.Task[Any]) -> None:
    # Every waiter may have been cancelled; retrieve the exception so asyncio doesn't warn.
    if not task.cancelled():
        task.exception()
