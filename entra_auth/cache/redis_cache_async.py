"""AsyncRedisTokenCache: the Redis token cache over ``redis.asyncio``, for ``entra_auth.aio`` apps.

The protocol core reads the cache synchronously, so this cache serves reads from partitions
loaded beforehand and sends writes after the call. ``entra_auth.aio`` applications do both
around each method (the :class:`~entra_auth.cache.backend.AsyncCacheIO` protocol,
:meth:`AsyncRedisTokenCache.around_call_async`); ``async with cache.using(...)`` does it by
hand.
"""

from __future__ import annotations

import contextlib
import fnmatch
import inspect
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from ..errors import CacheError
from .backend import CallReads
from .partitioned_cache import CALL_LOADS, CallLoads, Change
from .redis_cache import (
    RedisBackedCache,
    _text,
    adopt_reply,
    plan_writes,
    queue_script,
    redis_error,
)
from .schema import assertion_hash
from .token_cache import TokenCache

__all__ = ["AsyncRedisTokenCache", "assertion_hash"]

logger = logging.getLogger("entra_auth.cache")


class _Scope(CallLoads):
    """One call's partitions (as loaded) and its writes not yet sent.

    Held, like the sync caches' loads, in :data:`~entra_auth.cache.partitioned_cache.CALL_LOADS`
    (per asyncio task): concurrent calls never evict each other's partitions mid-call, a call
    reads what it loaded even when that is more than ``cached_partitions``, and each call
    sends (and hears the failure of) its own writes.
    """

    __slots__ = ("closed", "pending")

    def __init__(self, views: dict[str, TokenCache]) -> None:
        super().__init__(views, {})
        self.pending: list[tuple[dict[str, Change], int]] = []
        # A shared (single-flight) request runs in a task holding a copy of its starter's
        # context, and may write after the starter left (cancelled): such writes go to the
        # cache's unscoped list, sent by the next flush.
        self.closed = False


class AsyncRedisTokenCache(RedisBackedCache):
    """A :class:`~entra_auth.RedisTokenCache` for asyncio, on a ``redis.asyncio.Redis`` client.

    Same keys, fields and TTLs as ``RedisTokenCache`` (the two can share a Redis). Because the
    applications read their cache synchronously, the partitions a call needs are loaded
    first, and its writes are sent after. ``entra_auth.aio`` applications do that by
    themselves around each method::

        cache = AsyncRedisTokenCache(redis.asyncio.Redis(...))
        app = entra_auth.aio.ConfidentialClientApplication(..., token_cache=cache)
        result = await app.acquire_token_for_client(scopes)

    Used directly (or to batch several calls into one load), ``using`` loads and flushes::

        async with cache.using(account=account):            # a user's tokens
            entries = cache.find_refresh_tokens(...)

    A partition that was not loaded reads as empty (a cache miss). Writes wait in memory
    until :meth:`flush` (``using`` flushes on exit, also after an exception).

    Args:
        client: a ``redis.asyncio.Redis`` client.
        prefix, refresh_token_ttl, encryption, cached_partitions, clock: as for
            ``RedisTokenCache``.
    """

    def __init__(self, client: Any, **options: Any) -> None:
        super().__init__(client, **options)
        self._pending: list[tuple[dict[str, Change], int]] = []

    def __repr__(self) -> str:
        return f"AsyncRedisTokenCache(prefix={self._codec.prefix!r})"

    # -- async I/O --------------------------------------------------------------------------

    def partition_keys(
        self,
        *,
        account: Mapping[str, Any] | None = None,
        home_account_id: str | None = None,
        client_id: str | None = None,
        tenant: str | None = None,
        user_assertion: str | None = None,
    ) -> list[str]:
        """The partition keys a call with these inputs reads."""
        keys = []
        home = home_account_id or (account or {}).get("home_account_id")
        if home:
            keys.append(self._codec.user_key(str(home)))
        if client_id:
            keys.append(self._codec.metadata_key(client_id))
            if tenant:
                keys.append(self._codec.app_key(client_id, tenant))
        if user_assertion:
            keys.append(self._codec.obo_key(assertion_hash(user_assertion)))
        return keys

    async def load(self, *keys: str, **inputs: Any) -> None:
        """Fetch partitions (by key, or by :meth:`partition_keys` inputs) in one round trip.

        Raises:
            CacheError: Redis failed or an entry can't be decoded.
        """
        await self._fetch(list(keys) + self.partition_keys(**inputs))

    async def _fetch(self, wanted: list[str]) -> dict[str, TokenCache]:
        """Read partitions in one pipelined round trip; their views by key (empty if absent)."""
        wanted = list(dict.fromkeys(wanted))
        if not wanted:
            return {}
        known = [self._mirror.get(key) for key in wanted]
        try:
            pipe = self.client.pipeline(transaction=False)
            for key, item in zip(wanted, known, strict=True):
                await _queued(queue_script(
                    pipe, self._read, [key], [item[0] if item else ""], self._cluster))
            replies = await pipe.execute()
        except Exception as exc:
            raise redis_error(exc, "reading the cache") from None
        return {
            key: adopt_reply(self._codec, self._mirror, key, item, reply)
            for key, item, reply in zip(wanted, known, replies, strict=True)
        }

    async def _members_redis(self, indexes: list[str]) -> list[str]:
        try:
            pipe = self.client.pipeline(transaction=False)
            for index in indexes:
                await _queued(queue_script(pipe, self._list, [index], [], self._cluster))
            return [_text(k) for members in await pipe.execute() for k in members]
        except Exception as exc:
            raise redis_error(exc, "listing the cache") from None

    async def flush(self) -> None:
        """Send the writes made since the last flush (atomic per partition).

        Raises:
            CacheError: Redis failed; the writes are dropped and the loaded partitions
                forgotten, so the next load re-reads them.
        """
        scope = self._current()
        pending, self._pending = self._pending, []
        if scope is not None:
            pending, scope.pending = scope.pending + pending, []
        await self._send(pending)

    async def _send(self, pending: list[tuple[dict[str, Change], int]]) -> None:
        for changes, now in pending:
            plans = plan_writes(self._codec, self._mirror, changes, now)
            if not plans:
                continue
            try:
                pipe = self.client.pipeline(transaction=False)
                for key, _, args in plans:
                    await _queued(queue_script(
                        pipe, self._write, self._codec.write_keys(key), args, self._cluster))
                olds = await pipe.execute()
            except Exception as exc:
                self._mirror.forget(plans)
                raise redis_error(exc, "writing the cache") from None
            self._mirror.after_writes(plans, olds, changes)

    def using(self, *keys: str, **inputs: Any) -> contextlib.AbstractAsyncContextManager[
            AsyncRedisTokenCache]:
        """Load the partitions a call needs, then flush its writes (see :meth:`load`).

        Inside the block, this task reads the partitions as loaded on entry (plus its own
        writes). An exception in the block propagates even when the flush then fails too
        (that failure is logged); otherwise a failed flush raises ``CacheError``.
        """
        return self._scope(list(keys) + self.partition_keys(**inputs))

    def around_call_async(
        self, reads: CallReads
    ) -> contextlib.AbstractAsyncContextManager[AsyncRedisTokenCache]:
        """The :class:`~entra_auth.cache.backend.AsyncCacheIO` step of :mod:`entra_auth.aio`.

        Loads what the call reads (the index sets ``reads`` names first, then every partition
        in one pipelined round trip), and flushes the call's writes on exit, as :meth:`using`
        does. ``CallReads()`` reads nothing and flushes.
        """
        keys, indexes = self._read_keys(reads)
        return self._scope(keys, indexes)

    @contextlib.asynccontextmanager
    async def _scope(
        self, keys: list[str], indexes: list[str] | None = None
    ) -> AsyncIterator[AsyncRedisTokenCache]:
        if indexes:
            found = await self._members_redis(indexes)
            present = set(found)
            listed = {self._codec.index_of(name) for name in found} | set(indexes)
            # Partitions held here but no longer in Redis (removed by another instance,
            # or expired) must not be listed from memory.
            for name in self._mirror.names():
                if self._codec.index_of(name) in listed and name not in present:
                    self._mirror.drop(name)
            keys = keys + found
        views = await self._fetch(keys)
        outer = CALL_LOADS.get()
        enclosing = self._current()
        scope = _Scope({**enclosing.views, **views} if enclosing else views)
        CALL_LOADS.set({**(outer or {}), id(self): scope})
        try:
            yield self
        except BaseException:
            CALL_LOADS.set(outer)
            try:
                await self._send(self._take(scope))
            except CacheError as exc:  # the call's own exception says more
                logger.warning("Could not send token cache writes after a failed call: %s", exc)
            raise
        CALL_LOADS.set(outer)
        await self._send(self._take(scope))

    def _take(self, scope: _Scope) -> list[tuple[dict[str, Change], int]]:
        # The scope's writes, and any made outside every scope since the last flush.
        scope.closed = True
        pending = scope.pending + self._pending
        scope.pending, self._pending = [], []
        return pending

    def _current(self) -> _Scope | None:
        loaded = self._call_loads()
        return loaded if isinstance(loaded, _Scope) else None

    # -- the synchronous side the applications call ---------------------------------------

    def _local(self, key: str) -> TokenCache | None:
        scope = self._current()
        if scope is not None:
            view = scope.views.get(key)
            if view is not None:
                return view
        known = self._mirror.get(key)
        return known[1] if known is not None else None

    def _view(self, key: str) -> TokenCache:
        view = self._local(key)
        return view if view is not None else TokenCache()

    def _apply(self, changes: dict[str, Change], now: int) -> None:
        # Visible to this instance at once (later reads in the same call see them), sent by
        # flush(). A partition not loaded gets a local copy of version "", which the next
        # load re-reads.
        for key, change in changes.items():
            view = self._local(key)
            if view is None:
                view = TokenCache()
                self._mirror.put(key, "", view)
                scope = self._current()
                if scope is not None:
                    scope.views[key] = view
            change.apply_to(view._store)
        scope = self._current()
        if scope is not None and not scope.closed:
            scope.pending.append((changes, now))
        else:
            self._pending.append((changes, now))

    def _loaded(self) -> list[str]:
        scope = self._current()
        return list(dict.fromkeys([*(scope.views if scope else ()), *self._mirror.names()]))

    def _scan(self, pattern: str) -> list[str]:
        # No synchronous I/O here: list what was loaded (load() partitions first).
        return [key for key in self._loaded() if fnmatch.fnmatchcase(key, pattern)]

    def _members(self, indexes: list[str]) -> list[str]:
        # Likewise: the loaded partitions those index sets list.
        wanted = set(indexes)
        return [key for key in self._loaded() if self._codec.index_of(key) in wanted]


async def _queued(queued: Any) -> None:
    # redis.asyncio's Script queues with a coroutine; a cluster pipeline queues at once (and
    # returns itself, which is awaitable too: awaiting it would not queue anything).
    if inspect.iscoroutine(queued):
        await queued

