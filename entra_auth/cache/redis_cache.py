"""RedisTokenCache: a token cache shared by a fleet through Redis, one small hash per partition.

A silent lookup costs one round trip (a Lua script that returns the partition only when its
version changed); writes are atomic Lua scripts, so concurrent writers never lose entries.
Works on one Redis server and on Redis Cluster (every script touches one hash-tagged slot).
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import CacheError
from .backend import CallReads
from .encryption import CacheEncryption
from .partition_codec import LIST_SCRIPT, READ_SCRIPT, WRITE_SCRIPT, PartitionCodec, expired_fields
from .partitioned_cache import Change, PartitionedTokenCache
from .token_cache import TokenCache

__all__ = ["RedisTokenCache"]

DEFAULT_PREFIX = "entra_auth:tokencache"
DEFAULT_RT_TTL = 90 * 24 * 3600


class Mirror:
    """Recently read partitions (version, view), least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, tuple[str, TokenCache]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[str, TokenCache] | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: str, version: str, view: TokenCache) -> None:
        with self._lock:
            self._items[key] = (version, view)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def names(self) -> list[str]:
        with self._lock:
            return list(self._items)

    def drop(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def after_write(self, key: str, old: Any, new_version: str, change: Change) -> None:
        """Apply our own write locally when nobody else wrote in between; else forget it."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return
            version, view = item
            if old is None or _text(old) != version:
                del self._items[key]
                return
            change.apply_to(view._store)
            self._items[key] = (new_version, view)

    def after_writes(self, plans: Sequence[tuple[str, str, Any]], olds: Sequence[Any],
                     changes: Mapping[str, Change]) -> None:
        """:meth:`after_write` for each (partition, new version, _) written, and its old value."""
        for (key, version, _), old in zip(plans, olds, strict=True):
            self.after_write(key, old, version, changes[key])

    def forget(self, plans: Sequence[tuple[str, str, Any]]) -> None:
        """Drop the partitions of writes that failed: what the server holds is unknown."""
        for key, _, _ in plans:
            self.drop(key)


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, (bytes, bytearray)) else str(value)


def redis_error(exc: Exception, doing: str) -> CacheError:
    """A CacheError for a failed Redis call (the message names the error type, no data)."""
    return CacheError("cache_backend_error", f"Redis failed while {doing}: {type(exc).__name__}")


def adopt_reply(
    codec: PartitionCodec, mirror: Mirror, key: str,
    known: tuple[str, TokenCache] | None, reply: list[Any],
) -> TokenCache:
    """The partition view for a READ_SCRIPT reply, remembered in ``mirror``."""
    if not reply:
        mirror.drop(key)
        return TokenCache()
    version = _text(reply[0])
    if len(reply) == 1 and known is not None:
        return known[1]
    try:
        view = codec.build_view(list(reply[1]), key)
    except CacheError:
        raise
    except (ValueError, UnicodeDecodeError):
        raise CacheError("cache_corrupt", f"a cache entry in {key} is not valid") from None
    mirror.put(key, version, view)
    return view


def is_cluster(client: Any) -> bool:
    """Whether ``client`` is a ``redis.RedisCluster`` (sync or asyncio)."""
    return callable(getattr(client, "get_nodes", None))


def queue_script(pipe: Any, script: Any, keys: list[str], args: list[Any], cluster: bool) -> Any:
    """Queue a script call on a pipeline (returns what the client returns: await it if async).

    A Redis Cluster pipeline gets EVAL with the script's text: redis-py refuses EVALSHA there,
    and a restarted node has forgotten the scripts loaded before.
    """
    if cluster:
        return pipe.execute_command("EVAL", script.script, len(keys), *keys, *args)
    return script(keys=keys, args=args, client=pipe)


def plan_writes(
    codec: PartitionCodec, mirror: Mirror, changes: dict[str, Change], now: int
) -> list[tuple[str, str, list[Any]]]:
    """(key, new version, WRITE_SCRIPT args) per changed partition."""
    plans = []
    for key, change in changes.items():
        known = mirror.get(key)
        if known is not None:  # expired access tokens we know of leave with this write
            change.deletes += [f for f in expired_fields(known[1], now)
                               if f not in change.sets and f not in change.deletes]
        if not change.sets and not change.deletes:
            continue
        version = codec.new_version()
        plans.append((key, version, codec.write_args(
            version, change.ttl_ms, change.sets, change.deletes)))
    return plans


class RedisBackedCache(PartitionedTokenCache):
    """What the sync and async Redis caches share: the codec, the partition mirror, the scripts.

    ``client`` is a ``redis.Redis`` or a ``redis.asyncio.Redis``; both register scripts alike.
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
        self._cluster = is_cluster(client)
        self._read = client.register_script(READ_SCRIPT)
        self._write = client.register_script(WRITE_SCRIPT)
        self._list = client.register_script(LIST_SCRIPT)


class RedisTokenCache(RedisBackedCache):
    """A token cache in Redis for many app instances, partitioned so a request reads one small key.

    Pass it to any application as ``token_cache=``. Entries are MSAL's, each kept as a field of
    one Redis hash per partition:

    - ``<prefix>:user:<home_account_id>``: a user's access, refresh and ID tokens and accounts;
    - ``<prefix>:app:<client_id>:<tenant>``: an app's own (client credentials) tokens;
    - ``<prefix>:obo:<assertion hash>``: tokens obtained on behalf of one incoming token;
    - ``<prefix>:meta:<client_id>``: the client's AppMetadata (FOCI).

    Each partition's TTL follows its longest-lived entry: an access token's expiry, or
    ``refresh_token_ttl`` for refresh tokens and accounts. Writes are Lua scripts (atomic),
    so instances writing at once never lose each other's entries. Partitions read recently
    are kept in memory and re-sent by Redis only when they changed. An application reads the
    partitions each of its calls needs in one pipelined round trip before the call
    (:meth:`around_call`, the cache backend protocol), and serves its lookups from them.

    Every key carries a hash tag, so the cache runs on Redis Cluster (pass a
    ``redis.RedisCluster``): user partitions are spread over 256 tags, each with an index set
    that the same atomic write keeps; a client's app partitions share the client's tag and
    index. Listing every account (``get_accounts()`` without a username filter) reads the 256
    user indexes and ``remove_tokens_for_client()`` the client's index: no SCAN of the
    keyspace. Only an MSAL ``search()`` naming no partition (rare; MSAL's own lookups always
    name one) still SCANs.

    Args:
        client: a ``redis.Redis`` or ``redis.RedisCluster`` client.
        prefix: the key prefix; give each application environment its own (no braces:
            they would make it every key's cluster hash tag).
        refresh_token_ttl: seconds a user or OBO partition lives after its last write.
        encryption: encrypt each entry (AES-GCM); the client then needs
            ``decode_responses=False`` (the default).
        cached_partitions: how many partitions to keep in process memory.
        clock: as for :class:`~entra_auth.TokenCache`.

    Raises:
        ValueError: ``prefix`` contains ``{`` or ``}``.
        CacheError: from any operation when Redis fails or an entry can't be decrypted.
    """

    def __repr__(self) -> str:
        return f"RedisTokenCache(prefix={self._codec.prefix!r})"

    def around_call(self, reads: CallReads) -> contextlib.AbstractContextManager[object]:
        """The :class:`~entra_auth.cache.backend.CacheIO` step the applications take.

        Reads the partitions ``reads`` names (after the index sets it names) in one pipelined
        round trip, each re-sent by Redis only when its version changed, and serves the
        call's lookups from them. Writes are sent as they happen (atomic per partition).

        Raises:
            CacheError: Redis failed or an entry can't be decoded.
        """
        return self._load_call(reads)

    def _read_views(self, keys: list[str]) -> dict[str, TokenCache]:
        known = [self._mirror.get(key) for key in keys]
        versions = [item[0] if item else "" for item in known]
        try:
            if len(keys) == 1:
                replies = [self._read(keys=keys, args=versions)]
            else:
                pipe = self.client.pipeline(transaction=False)
                for key, version in zip(keys, versions, strict=True):
                    queue_script(pipe, self._read, [key], [version], self._cluster)
                replies = pipe.execute()
        except Exception as exc:  # redis.RedisError and connection errors alike
            raise redis_error(exc, "reading the cache") from None
        return {
            key: adopt_reply(self._codec, self._mirror, key, item, reply)
            for key, item, reply in zip(keys, known, replies, strict=True)
        }

    def _held(self, key: str) -> TokenCache | None:
        known = self._mirror.get(key)
        return known[1] if known is not None else None

    def _apply(self, changes: dict[str, Change], now: int) -> None:
        try:
            self._send(changes, now)
        finally:
            self._written(changes)

    def _send(self, changes: dict[str, Change], now: int) -> None:
        plans = plan_writes(self._codec, self._mirror, changes, now)
        if not plans:
            return
        try:
            if len(plans) == 1:
                key, _, args = plans[0]
                olds = [self._write(keys=self._codec.write_keys(key), args=args)]
            else:
                pipe = self.client.pipeline(transaction=False)
                for key, _, args in plans:
                    queue_script(pipe, self._write, self._codec.write_keys(key), args,
                                 self._cluster)
                olds = pipe.execute()
        except Exception as exc:
            self._mirror.forget(plans)
            raise redis_error(exc, "writing the cache") from None
        self._mirror.after_writes(plans, olds, changes)

    def _list_members(self, indexes: list[str]) -> list[str]:
        try:
            pipe = self.client.pipeline(transaction=False)
            for index in indexes:
                queue_script(pipe, self._list, [index], [], self._cluster)
            return [_text(k) for members in pipe.execute() for k in members]
        except Exception as exc:
            raise redis_error(exc, "listing the cache") from None

    def _scan(self, pattern: str) -> list[str]:
        try:
            return [_text(k) for k in self.client.scan_iter(match=pattern, count=500)]
        except Exception as exc:
            raise redis_error(exc, "listing the cache") from None
