"""The lock a FileTokenCache change takes: our writers' queue, then msal-extensions' lock file.

1. :class:`~entra_auth.cache.queue_lock.QueueLock` on ``<path>.lock`` lines up this library's
   writers (threads and processes) first come, first served: under contention each waits for
   the writers ahead of it, not for luck.
2. :class:`~entra_auth.cache.msal_extensions_lock.MsalExtensionsLock` on ``<path>.lockfile``
   excludes msal-extensions' writers, which poll for that file every 0.25 s and give up after
   5 s. Once another program's writer has held it (in the last :data:`FOREIGN_MEMORY` seconds), ours
   leave the lock file absent for :data:`GAP` seconds whenever it has been busy for
   :data:`MIXED_BUSY` seconds on end (:data:`PROBE_AFTER` when the sighting is older than
   :data:`RECENT`), so every waiting msal-extensions writer polls into a free lock file well
   within its 5 s. With no such writer ever seen, ours never pause. The times live in the
   queue file, shared by our processes.
"""

from __future__ import annotations

import os
import struct
import time

from .msal_extensions_lock import MsalExtensionsLock
from .queue_lock import QueueLock

__all__ = ["CacheWriteLock"]

GAP = 0.3  # longer than msal-extensions' 0.25 s poll: each of its waiters polls once in it
PROBE_AFTER = 4.0  # below its 5 s timeout
MIXED_BUSY = 0.5
RECENT = 60.0
FOREIGN_MEMORY = 24 * 3600.0

_STATE = struct.Struct("<ddd")  # last release, last foreign sighting, busy since (epoch s)
_STATE_AT = 16


class CacheWriteLock:
    """Both locks, taken in order and released in reverse; one holder per object at a time.

    Args:
        cache_path: the cache file.
        timeout: seconds to wait for both locks together.
    """

    def __init__(self, cache_path: str, timeout: float = 10.0) -> None:
        self.queue = QueueLock(cache_path + ".lock", timeout)
        self.lockfile = MsalExtensionsLock(cache_path + ".lockfile")
        self.timeout = timeout
        self._local_state = (0.0, 0.0, 0.0)  # where the queue file can't hold it

    @property
    def locked(self) -> bool:
        """Whether this object holds the locks."""
        return self.lockfile.locked

    def acquire(self) -> None:
        """Take both locks within ``timeout`` seconds.

        Raises:
            CacheError: they could not be taken in time, or a lock file can't be opened.
        """
        deadline = time.monotonic() + self.timeout
        self.queue.acquire()
        try:
            released, foreign, busy_since = self._state()
            now = time.time()
            if now - released >= GAP:
                busy_since = now  # the lock file was just free long enough for anyone
            since_foreign = now - foreign
            busy_for = MIXED_BUSY if since_foreign < RECENT else \
                PROBE_AFTER if since_foreign < FOREIGN_MEMORY else None
            if busy_for is not None and now - busy_since >= busy_for:
                wait = released + GAP - now
                if wait > 0:
                    time.sleep(min(wait, max(0.0, deadline - time.monotonic())))
                busy_since = time.time()
            self.lockfile.acquire(deadline, self.timeout)
            if self.lockfile.foreign_seen:
                foreign = time.time()
            self._save_state(released, foreign, busy_since)
        except BaseException:
            self.queue.release()
            raise

    def __enter__(self) -> CacheWriteLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def release(self) -> None:
        """Release both (a no-op when not held)."""
        if not self.lockfile.locked:
            return
        try:
            self.lockfile.release()
            _, foreign, busy_since = self._state()
            self._save_state(time.time(), foreign, busy_since)
        finally:
            self.queue.release()

    def _state(self) -> tuple[float, float, float]:
        fd = self.queue._fd
        if fd is None:
            return self._local_state
        data = os.pread(fd, _STATE.size, _STATE_AT)
        if len(data) != _STATE.size:
            return (0.0, 0.0, 0.0)
        released, foreign, busy = _STATE.unpack(data)
        return (float(released), float(foreign), float(busy))

    def _save_state(self, released: float, foreign: float, busy_since: float) -> None:
        fd = self.queue._fd
        if fd is None:
            self._local_state = (released, foreign, busy_since)
            return
        os.pwrite(fd, _STATE.pack(released, foreign, busy_since), _STATE_AT)
