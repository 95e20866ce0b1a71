"""AsyncRedisTokenCache: the Redis token cache over ``redis.asyncio``, for ``entra_auth.aio`` apps.

The protocol core reads the cache synchronously, so this cache serves reads from partitions
loaded beforehand (``await cache.load(...)``) and sends writes with ``await cache.flush()``;
``async with cache.using(...)`` does both around a call.
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import hashlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from .encryption import CacheEncryption
from .partitioned import Change, PartitionedTokenCache
from .partitions import READ_SCRIPT, WRITE_SCRIPT, PartitionCodec
from .redis_cache import (
    DEFAULT_PREFIX,
    DEFAULT_RT_TTL,
    Mirror,
    adopt_reply,
    plan_writes,
    redis_error,
)
from .token_cache import TokenCache

__all__ = ["AsyncRedisTokenCache", "assertion_hash"]


def assertion_hash(user_assertion: str) -> str:
    """The partition id of an on-behalf-of assertion: base64url SHA-256, as the core computes."""
    digest = hashlib.sha256(user_assertion.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


class AsyncRedisTokenCache(PartitionedTokenCache):
    """A :class:`~entra_auth.RedisTokenCache` for asyncio, on a ``redis.asyncio.Redis`` client.

    Same keys, fields and TTLs as ``RedisTokenCache`` (the two can share a Redis). Because the
    applications read their cache synchronously, the partitions a call needs are loaded
    first, and its writes are sent after::

        cache = AsyncRedisTokenCache(redis.asyncio.Redis(...))
        app = entra_auth.aio.ConfidentialClientApplication(..., token_cache=cache)
        async with cache.using(client_id=CLIENT_ID, tenant=TENANT):
            result = await app.acquire_token_for_client(scopes)
        async with cache.using(account=account):            # a user's tokens
            result = await app.acquire_token_silent(scopes, account)
        async with cache.using(user_assertion=incoming):     # on-behalf-of
            result = await app.acquire_token_on_behalf_of(incoming, scopes)

    A partition that was not loaded reads as empty (a cache miss). Writes wait in memory
    until :meth:`flush` (``using`` flushes on exit, also after an exception).

    Args:
        client: a ``redis.asyncio.Redis`` client.
        prefix, refresh_token_ttl, encryption, cached_partitions, clock: as for
            ``RedisTokenCache``.
    """

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = DEFAULT_PREFIX,
        refresh_token_ttl: int = DEFAULT_RT_TTL,
        encryption: CacheEncryption | bytes | None = None,
        cached_partitions: int = 1024,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if isinstance(encryption, (bytes, bytearray)):
            encryption = CacheEncryption(bytes(encryption))
        super().__init__(PartitionCodec(prefix, refresh_token_ttl, encryption), clock=clock)
        self.client = client
        self._mirror = Mirror(cached_partitions)
        self._read = client.register_script(READ_SCRIPT)
        self._write = client.register_script(WRITE_SCRIPT)
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
        wanted = list(keys) + self.partition_keys(**inputs)
        if not wanted:
            return
        known = [self._mirror.get(key) for key in wanted]
        try:
            pipe = self.client.pipeline(transaction=False)
            for key, item in zip(wanted, known, strict=True):
                await self._read(keys=[key], args=[item[0] if item else ""], client=pipe)
            replies = await pipe.execute()
        except Exception as exc:
            raise redis_error(exc, "reading the cache") from None
        for key, item, reply in zip(wanted, known, replies, strict=True):
            adopt_reply(self._codec, self._mirror, key, item, reply)

    async def flush(self) -> None:
        """Send the writes made since the last flush (atomic per partition).

        Raises:
            CacheError: Redis failed; the writes are dropped and the loaded partitions
                forgotten, so the next load re-reads them.
        """
        pending, self._pending = self._pending, []
        for changes, now in pending:
            plans = plan_writes(self._codec, self._mirror, changes, now)
            if not plans:
                continue
            try:
                pipe = self.client.pipeline(transaction=False)
                for key, _, args in plans:
                    await self._write(keys=[key], args=args, client=pipe)
                olds = await pipe.execute()
            except Exception as exc:
                for key, _, _ in plans:
                    self._mirror.drop(key)
                raise redis_error(exc, "writing the cache") from None
            for (key, version, _), old in zip(plans, olds, strict=True):
                self._mirror.after_write(key, old, version, changes[key])

    @contextlib.asynccontextmanager
    async def using(self, *keys: str, **inputs: Any) -> AsyncIterator[AsyncRedisTokenCache]:
        """Load the partitions a call needs, then flush its writes (see :meth:`load`)."""
        await self.load(*keys, **inputs)
        try:
            yield self
        finally:
            await self.flush()

    # -- the synchronous side the applications call ---------------------------------------

    def _view(self, key: str) -> TokenCache:
        known = self._mirror.get(key)
        return known[1] if known is not None else TokenCache()

    def _apply(self, changes: dict[str, Change], now: int) -> None:
        # Visible to this instance at once (later reads in the same call see them), sent by
        # flush(). The local copy goes stale-marked so the next load re-reads the partition.
        for key, change in changes.items():
            known = self._mirror.get(key)
            if known is None:
                view = TokenCache()
                self._mirror.put(key, "", view)
            else:
                view = known[1]
            store = view._store
            for name, (section, entry) in change.entries.items():
                store.put(section, name.partition(":")[2], entry)
            for name in change.deletes:
                section, _, entry_key = name.partition(":")
                store.ensure_section(section)
                store.pop(section, entry_key)
        self._pending.append((changes, now))

    def _scan(self, pattern: str) -> list[str]:
        # No synchronous I/O here: list what was loaded (load() partitions first).
        return [key for key in self._mirror.names() if fnmatch.fnmatchcase(key, pattern)]

