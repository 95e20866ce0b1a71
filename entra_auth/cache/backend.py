"""The cache backend protocol: how an application tells its token cache to load and to flush.

The flows read and write the token cache synchronously and do no I/O of their own. A cache
whose entries live elsewhere (a file, a database, Redis) does its storage I/O in the open, in
one step around each application call: before the call it **loads** what the call reads
(described by :class:`CallReads`), after it **flushes** what the call wrote. The sync
applications (:mod:`entra_auth.application`) and the async ones (:mod:`entra_auth.aio`) call
the same protocol at the same points, each method with the same :class:`CallReads`:

- :class:`CacheIO`: ``with cache.around_call(reads): ...``, for sync applications (and for
  async ones when the cache has no async variant: the load then blocks, as any sync I/O);
- :class:`AsyncCacheIO`: ``async with cache.around_call_async(reads): ...``, for
  :mod:`entra_auth.aio` applications.

A cache that implements neither (a plain :class:`~entra_auth.cache.TokenCache`) is called
directly and pays nothing. See ``docs/cache.md`` ("Writing a cache backend").
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "WRITES_ONLY", "AsyncCacheIO", "CacheIO", "CallReads", "async_cache_io", "sync_cache_io",
]


@dataclass(frozen=True)
class CallReads:
    """What one application call may read from its token cache: the part a backend loads.

    Every field is optional; a call names what it knows. A backend may load more than asked
    (a whole-file cache loads everything), never less: a backend that can't read in the
    middle of a call serves what it did not load as empty (a cache miss). ``CallReads()``
    (nothing named) is a call that only writes, e.g. a sign-in storing new tokens.

    Attributes:
        home_account_id: one user's access, refresh and ID tokens and account entries.
        client_id: the application; needed by ``tenant`` and ``app_metadata``.
        tenant: the application's own (client credentials) tokens in this tenant (realm).
        app_metadata: the application's AppMetadata entry (its FOCI family), which a
            refresh reads.
        user_assertion_hash: the tokens got on behalf of one incoming token, by its hash
            (base64url SHA-256, as cached in ``user_assertion_hash``; never the token).
        all_accounts: every user's account entries (``get_accounts()``); costs what the
            number of users costs.
        all_app_tokens_of: a client id: its app-only tokens in every tenant
            (``remove_tokens_for_client()``).
    """

    home_account_id: str | None = None
    client_id: str | None = None
    tenant: str | None = None
    app_metadata: bool = False
    user_assertion_hash: str | None = None
    all_accounts: bool = False
    all_app_tokens_of: str | None = None


WRITES_ONLY = CallReads()  # a call that only writes (a sign-in)


@runtime_checkable
class CacheIO(Protocol):
    """A token cache that does blocking storage I/O around each application call."""

    def around_call(self, reads: CallReads) -> contextlib.AbstractContextManager[object]:
        """Load what a call reads on entry; flush what it wrote on exit.

        The application runs the whole call (cache lookups, token requests, cache writes)
        inside the block. On exit the backend sends writes it kept back (a backend may also
        write through at once, inside each write); it must run on an exception too, and a
        failure to flush must not replace the call's own exception (log it instead).

        Raises:
            CacheError: the load or the flush failed (nothing is requested with a failed load).
        """
        ...


@runtime_checkable
class AsyncCacheIO(Protocol):
    """A token cache whose storage is awaited: it loads and flushes around each async call."""

    def around_call_async(
        self, reads: CallReads
    ) -> contextlib.AbstractAsyncContextManager[object]:
        """:meth:`CacheIO.around_call`, awaited: ``async with cache.around_call_async(reads)``.

        Inside the block the application reads and writes the cache synchronously, so the
        load must fetch everything ``reads`` names, and writes wait in memory for the exit.
        """
        ...


class _Blocking:
    """An :class:`AsyncCacheIO` view of a :class:`CacheIO`: the same I/O, blocking."""

    __slots__ = ("_cache",)

    def __init__(self, cache: CacheIO) -> None:
        self._cache = cache

    @contextlib.asynccontextmanager
    async def around_call_async(self, reads: CallReads) -> AsyncIterator[object]:
        with self._cache.around_call(reads) as value:
            yield value


def sync_cache_io(cache: object) -> CacheIO | None:
    """The protocol a sync application calls on ``cache``: None for an in-memory cache.

    Raises:
        ValueError: ``cache`` can only load by awaiting (e.g. ``AsyncRedisTokenCache``).
    """
    if isinstance(cache, CacheIO):
        return cache
    if isinstance(cache, AsyncCacheIO):
        raise ValueError(
            f"{type(cache).__name__} loads and flushes with await: use it with an "
            "entra_auth.aio application (or a sync cache, e.g. RedisTokenCache, here)")
    return None


def async_cache_io(cache: object) -> AsyncCacheIO | None:
    """The protocol an async application calls on ``cache``: None for an in-memory cache.

    A cache with only the sync :class:`CacheIO` gets it called as is (its loads block the
    event loop, as all its other I/O does).
    """
    if isinstance(cache, AsyncCacheIO):
        return cache
    if isinstance(cache, CacheIO):
        return _Blocking(cache)
    return None
