"""SqliteTokenCache: a token cache in one SQLite database (WAL) for the worker processes of a host.

One row per MSAL entry, grouped in partitions as in the Redis cache (per user, per app and
tenant, per on-behalf-of assertion, per client's metadata), so a silent lookup reads one small
partition, and only when its version changed since this process last read it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import CacheError
from ._fs_safety import O_NOFOLLOW, ensure_private_directory, symlink_refusal
from .backend import CallReads
from .encryption import CacheEncryption
from .partition_codec import PartitionCodec
from .partitioned_cache import Change, PartitionedTokenCache
from .queue_lock import QueueLock
from .redis_cache import Mirror, adopt_reply, plan_writes
from .token_cache import TokenCache

__all__ = ["SqliteTokenCache"]

logger = logging.getLogger("entra_auth.cache")

SCHEMA_VERSION = 1
DEFAULT_RT_TTL = 90 * 24 * 3600
_PREFIX = "p"  # partition keys are the Redis cache's, under this fixed prefix
_PURGE_EVERY = 256  # writes between removals of expired partitions

# Connections inherited through fork(), kept open and unused for the life of the child.
_FROM_PARENT: list[sqlite3.Connection] = []

_SCHEMA = """
CREATE TABLE IF NOT EXISTS partitions (
    name TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (
    partition TEXT NOT NULL,
    field TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (partition, field)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS partitions_by_expiry ON partitions (expires_at);
"""


def _glob(pattern: str) -> tuple[str, re.Pattern[str]]:
    """The literal prefix and a regex of a :meth:`PartitionCodec.pattern` glob (Redis style:
    ``*`` and ``?`` wildcards, ``\\`` escapes)."""
    prefix: list[str] = []
    regex: list[str] = []
    literal = True
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            i += 1
            char = pattern[i]
            regex.append(re.escape(char))
            if literal:
                prefix.append(char)
        elif char in "*?":
            literal = False
            regex.append(".*" if char == "*" else ".")
        else:
            regex.append(re.escape(char))
            if literal:
                prefix.append(char)
        i += 1
    return "".join(prefix), re.compile("".join(regex), re.DOTALL)


class SqliteTokenCache(PartitionedTokenCache):
    """A token cache in a SQLite database shared by every process and thread on one host.

    The embedded choice for a web API with several worker processes (gunicorn, uvicorn
    ``--workers``): no server to run, and a write touches one row, not a whole file. Pass it to
    any application as ``token_cache=``::

        cache = entra_auth.SqliteTokenCache("/var/lib/my-api/tokens.db")
        app = entra_auth.ConfidentialClientApplication(..., token_cache=cache)

    - Entries are MSAL's, one row each, in partitions keyed like :class:`RedisTokenCache`'s;
      each partition has a version that every write changes, and a process re-reads a partition
      only when its version moved.
    - Writes are transactions (``BEGIN IMMEDIATE``), taken in arrival order (a queue on
      ``<path>.lock``), so concurrent writers never lose each other's entries; the database
      is in WAL mode, so readers never wait for a writer, and a writer killed mid-transaction
      (even by SIGKILL) leaves the previous state.
    - The database file is created with mode 0600 (SQLite gives its ``-wal`` and ``-shm``
      files the same mode), and its directory with 0700.
    - With ``encryption``, each entry's value is an AES-GCM blob.
    - Partitions expire like the Redis cache's: at their longest-lived entry's expiry, or
      ``refresh_token_ttl`` seconds after a write for refresh tokens and accounts.

    Args:
        path: the database file (``~`` is expanded).
        encryption: a :class:`~entra_auth.cache.encryption.CacheEncryption` or a raw AES key.
        lock_timeout: seconds a write waits for another writer before raising CacheError.
        fsync: sync every commit to disk (``synchronous=FULL``); False keeps every commit safe
            from a killed process but not from a power loss (``NORMAL``).
        refresh_token_ttl: seconds a user or OBO partition lives after its last write.
        cached_partitions: how many partitions each process keeps in memory.
        clock: as for :class:`~entra_auth.TokenCache`.

    Raises:
        CacheError: from any operation when the database can't be opened, read or written
            (``cache_corrupt`` for a file that is not this cache's database: it is left
            untouched), or a write waited ``lock_timeout`` seconds.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        encryption: CacheEncryption | bytes | None = None,
        lock_timeout: float = 10.0,
        fsync: bool = True,
        refresh_token_ttl: int = DEFAULT_RT_TTL,
        cached_partitions: int = 1024,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if isinstance(encryption, (bytes, bytearray)):
            encryption = CacheEncryption(bytes(encryption))
        super().__init__(PartitionCodec(_PREFIX, refresh_token_ttl, encryption), clock=clock)
        self.path = os.path.abspath(os.path.expanduser(os.fspath(path)))
        self._lock_timeout = lock_timeout
        self._synchronous = "FULL" if fsync else "NORMAL"
        self._mirror = Mirror(cached_partitions)
        self._local = threading.local()
        self._writes = 0
        self._queue = QueueLock(self.path + ".lock", lock_timeout)
        ensure_private_directory(os.path.dirname(self.path))
        self._create_file()
        self._connection()  # opens and checks the database now, not at the first token

    def __repr__(self) -> str:
        return f"SqliteTokenCache({self.path!r}, encrypted={self._codec.encryption is not None})"

    @property
    def encrypted(self) -> bool:
        """Whether entries are encrypted at rest."""
        return self._codec.encryption is not None

    # -- connection ---------------------------------------------------------------------------

    def _create_file(self) -> None:
        try:
            # O_NOFOLLOW: a symlink planted at the database path is refused, not followed
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
                         | O_NOFOLLOW, 0o600)
        except OSError as exc:
            refusal = symlink_refusal(self.path, exc)
            if refusal is not None:
                raise refusal from None
            raise CacheError("cache_write_failed",
                             f"cannot open {self.path}: {exc.strerror}") from None
        try:
            if os.fstat(fd).st_mode & 0o077:
                os.fchmod(fd, 0o600)
        except (OSError, AttributeError):
            pass
        finally:
            os.close(fd)

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        connection: sqlite3.Connection | None = getattr(local, "connection", None)
        if connection is not None and local.pid == os.getpid():
            return connection
        if connection is not None:
            # A forked child: the parent's connection must not be used, nor closed here
            # (closing it could checkpoint or clean up under the parent's feet). Keep it.
            _FROM_PARENT.append(connection)
        # A new thread, or a forked child (a connection must not cross a fork).
        try:
            connection = sqlite3.connect(self.path, timeout=self._lock_timeout,
                                         isolation_level=None, check_same_thread=True)
        except sqlite3.Error as exc:
            raise self._error(exc, "opening") from None
        try:
            self._prepare(connection)
        except BaseException:
            connection.close()
            raise
        local.connection, local.pid = connection, os.getpid()
        return connection

    def _prepare(self, connection: sqlite3.Connection) -> None:
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise CacheError("cache_corrupt", f"{self.path} has token cache schema "
                                 f"{version}; this version reads {SCHEMA_VERSION}")
            mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                logger.warning("SQLite cache %s is in %s mode, not WAL", self.path, mode)
            connection.execute(f"PRAGMA synchronous={self._synchronous}")
            if version == 0:
                with self._transaction(connection):
                    if connection.execute("PRAGMA user_version").fetchone()[0] == 0:
                        if connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                            raise CacheError("cache_corrupt", f"{self.path} is a database of "
                                             "something else; it was left untouched")
                        for statement in _SCHEMA.split(";"):
                            if statement.strip():
                                connection.execute(statement)
                        connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            else:
                self._check_tables(connection)
        except sqlite3.Error as exc:
            raise self._error(exc, "opening") from None

    def _check_tables(self, connection: sqlite3.Connection) -> None:
        names = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"partitions", "entries"} <= names:
            raise CacheError("cache_corrupt",
                             f"{self.path} is not a token cache database; it was left untouched")

    @contextlib.contextmanager
    def _transaction(self, connection: sqlite3.Connection) -> Iterator[None]:
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _error(self, exc: sqlite3.Error, doing: str) -> CacheError:
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            return CacheError("cache_lock_timeout", f"{self.path} stayed locked by another "
                              f"writer for {self._lock_timeout:g} s while {doing}")
        if isinstance(exc, sqlite3.DatabaseError) and (
                "not a database" in text or "malformed" in text or "corrupt" in text):
            return CacheError("cache_corrupt",
                              f"{self.path} is not a token cache database; it was left untouched")
        return CacheError("cache_backend_error",
                          f"SQLite failed while {doing} {self.path}: {type(exc).__name__}")

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            self._local.connection = None
            connection.close()

    # -- PartitionedTokenCache I/O --------------------------------------------------------

    def around_call(self, reads: CallReads) -> contextlib.AbstractContextManager[object]:
        """The :class:`~entra_auth.cache.backend.CacheIO` step the applications take.

        Reads the partitions ``reads`` names in one read transaction (each re-read only when
        its version changed) and serves the call's lookups from them. Writes commit as they
        happen (one transaction each).

        Raises:
            CacheError: the database can't be read, or an entry can't be decoded.
        """
        return self._load_call(reads)

    def _read_views(self, keys: list[str]) -> dict[str, TokenCache]:
        known = [self._mirror.get(key) for key in keys]
        connection = self._connection()
        now = int(self._now(None))
        replies: list[list[Any]] = []
        try:
            connection.execute("BEGIN")  # one snapshot for the versions and the rows
            try:
                for key, item in zip(keys, known, strict=True):
                    replies.append(self._read_partition(connection, key, item, now))
            finally:
                connection.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._error(exc, "reading") from None
        return {
            key: adopt_reply(self._codec, self._mirror, key, item, reply)
            for key, item, reply in zip(keys, known, replies, strict=True)
        }

    @staticmethod
    def _read_partition(
        connection: sqlite3.Connection, key: str, known: tuple[str, TokenCache] | None, now: int
    ) -> list[Any]:
        """A partition as Redis' READ_SCRIPT answers: [], [version] (unchanged) or
        [version, flat fields and values]."""
        row = connection.execute(
            "SELECT version, expires_at FROM partitions WHERE name = ?", (key,)
        ).fetchone()
        if row is None or row[1] <= now:
            return []
        if known is not None and known[0] == str(row[0]):
            return [str(row[0])]
        flat: list[Any] = []
        for field, value in connection.execute(
                "SELECT field, value FROM entries WHERE partition = ?", (key,)):
            flat += (field, value)
        return [str(row[0]), flat]

    def _held(self, key: str) -> TokenCache | None:
        known = self._mirror.get(key)
        return known[1] if known is not None else None

    def _apply(self, changes: dict[str, Change], now: int) -> None:
        try:
            self._commit(changes, now)
        finally:
            self._written(changes)

    def _commit(self, changes: dict[str, Change], now: int) -> None:
        plans = plan_writes(self._codec, self._mirror, changes, now)
        if not plans:
            return
        connection = self._connection()
        olds: list[str | None] = []
        versions: list[str] = []
        # Writers line up first come, first served before SQLite's write lock, whose busy
        # handler retries with sleeps of up to 100 ms: without the queue, a few writes under
        # contention wait for hundreds of ms while others pass.
        self._queue.acquire()
        try:
            with self._transaction(connection):
                for key, version, _ in plans:
                    olds.append(self._write_partition(connection, key, version, changes[key],
                                                      now))
                    versions.append(self._current_version(connection, key))
                self._writes += 1
                if self._writes % _PURGE_EVERY == 1:
                    self._purge(connection, now)
        except sqlite3.Error as exc:
            for key, _, _ in plans:
                self._mirror.drop(key)
            raise self._error(exc, "writing") from None
        except BaseException:
            for key, _, _ in plans:
                self._mirror.drop(key)
            raise
        finally:
            self._queue.release()
        for (key, _, _), old, version in zip(plans, olds, versions, strict=True):
            if version:
                self._mirror.after_write(key, old, version, changes[key])
            else:
                self._mirror.drop(key)

    def _write_partition(
        self, connection: sqlite3.Connection, key: str, version: str, change: Change, now: int
    ) -> str | None:
        """Apply one partition's change; return its version before (None: it was new)."""
        row = connection.execute(
            "SELECT version, expires_at FROM partitions WHERE name = ?", (key,)).fetchone()
        if row is not None and row[1] <= now:  # expired: its entries are gone, as in Redis
            connection.execute("DELETE FROM entries WHERE partition = ?", (key,))
            connection.execute("DELETE FROM partitions WHERE name = ?", (key,))
            row = None
        for name, value in change.sets.items():
            connection.execute(
                "INSERT INTO entries (partition, field, value) VALUES (?, ?, ?) "
                "ON CONFLICT (partition, field) DO UPDATE SET value = excluded.value",
                (key, name, value))
        for name in change.deletes:
            connection.execute("DELETE FROM entries WHERE partition = ? AND field = ?",
                               (key, name))
        left = connection.execute(
            "SELECT EXISTS (SELECT 1 FROM entries WHERE partition = ?)", (key,)).fetchone()[0]
        if not left:
            connection.execute("DELETE FROM partitions WHERE name = ?", (key,))
        else:
            expires = now + max(1, change.ttl_ms // 1000) if change.ttl_ms else 0
            if row is None:
                connection.execute(
                    "INSERT INTO partitions (name, version, expires_at) VALUES (?, ?, ?)",
                    (key, version, expires or now + self._codec.refresh_token_ttl))
            else:  # the lifetime only grows: an access token never cuts a refresh token's
                connection.execute(
                    "UPDATE partitions SET version = ?, expires_at = max(expires_at, ?) "
                    "WHERE name = ?", (version, expires, key))
        return None if row is None else str(row[0])

    @staticmethod
    def _current_version(connection: sqlite3.Connection, key: str) -> str:
        row = connection.execute("SELECT version FROM partitions WHERE name = ?",
                                 (key,)).fetchone()
        return "" if row is None else str(row[0])

    @staticmethod
    def _purge(connection: sqlite3.Connection, now: int) -> None:
        connection.execute(
            "DELETE FROM entries WHERE partition IN "
            "(SELECT name FROM partitions WHERE expires_at <= ?)", (now,))
        connection.execute("DELETE FROM partitions WHERE expires_at <= ?", (now,))

    def _list_members(self, indexes: list[str]) -> list[str]:
        # No index sets here: the partitions table's primary key answers a prefix query, and
        # each partition names the index it belongs to.
        wanted = set(indexes)
        return [key for kind in ("user", "app")
                for key in self._scan(f"{self._codec.prefix}:{kind}:*")
                if self._codec.index_of(key) in wanted]

    def _scan(self, pattern: str) -> list[str]:
        prefix, regex = _glob(pattern)
        try:
            return [row[0] for row in self._connection().execute(
                "SELECT name FROM partitions WHERE name >= ? AND name < ? AND expires_at > ?",
                (prefix, prefix + "\U0010ffff", int(self._now(None))))
                if regex.fullmatch(row[0])]
        except sqlite3.Error as exc:
            raise self._error(exc, "listing") from None
