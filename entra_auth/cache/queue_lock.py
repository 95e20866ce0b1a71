"""A first-come, first-served cross-process lock (a ticket queue over Linux OFD record locks).

Writers of one cache file line up in ``<path>.lock``: each takes the next ticket (a counter in
the file, changed under a record lock on byte 0) and holds a record lock on its ticket's byte
while it waits and while it writes. A writer goes when every earlier ticket is done: the
``done`` counter says so, or the earlier ticket's byte is free, which the kernel guarantees
once its holder releases, gives up or dies (even by SIGKILL), so a dead writer never blocks
the queue. Open-file-description locks belong to one open of the file, so two caches in one
process queue like two processes. Where they are missing (not Linux), :class:`FileLock`'s
``flock`` stands in, without the ordering.
"""

from __future__ import annotations

import errno
import os
import struct
import sys
import threading
import time

from ..errors import CacheError
from .file_lock import FileLock, forget_in_children, open_tracked_lock, track_in_parent

__all__ = ["QueueLock", "queue_lock_supported"]

_F_OFD_SETLK = 37
_F_OFD_SETLKW = 38
_WRITE, _UNLOCK = 1, 2  # F_WRLCK, F_UNLCK on Linux
# struct flock on 64-bit Linux: l_type, l_whence, l_start, l_len, l_pid (+ padding).
_FLOCK = struct.Struct("@hhqqi4x")
_U64 = struct.Struct("<Q")
_NEXT, _DONE = 0, 8  # counters at these offsets; record locks live apart from the data
_GUARD = 0
_TICKETS = 1 << 32  # ticket t is locked at byte _TICKETS + t
_SLEEP = 0.0005


def queue_lock_supported() -> bool:
    """Whether OFD record locks are available (Linux on a 64-bit platform)."""
    return sys.platform.startswith("linux") and struct.calcsize("P") == 8


def _record_lock(fd: int, kind: int, offset: int, wait: bool = False) -> bool:
    import fcntl

    try:
        fcntl.fcntl(fd, _F_OFD_SETLKW if wait else _F_OFD_SETLK,
                    _FLOCK.pack(kind, os.SEEK_SET, offset, 1, 0))
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def _wait_until_free(fd: int, offset: int, timeout: float) -> bool:
    """Block until the record lock at ``offset`` is free, at most ``timeout`` seconds.

    A blocking ``F_OFD_SETLKW`` can't time out by itself, so it runs in a helper thread on a
    duplicate of ``fd`` (the same open file description: our own locks don't conflict with
    it). A helper outliving a timeout finishes on its own and closes its duplicate; until
    then our ticket stays held, which delays nobody: our successors wait for the same writer.
    """
    if timeout <= 0:
        return False
    duplicate = track_in_parent(os.dup(fd))
    freed = threading.Event()

    def wait() -> None:
        try:
            _record_lock(duplicate, _WRITE, offset, wait=True)
            _record_lock(duplicate, _UNLOCK, offset)
        except OSError:
            pass  # the caller re-checks the byte itself
        finally:
            forget_in_children(duplicate)
            os.close(duplicate)
            freed.set()

    threading.Thread(target=wait, name="entra-auth-lock-wait", daemon=True).start()
    return freed.wait(timeout)


def _read(fd: int, offset: int) -> int:
    data = os.pread(fd, 8, offset)
    return _U64.unpack(data)[0] if len(data) == 8 else 0


class QueueLock:
    """An exclusive lock on ``path`` that lets waiters in the order they came.

    The holder also holds an ``flock`` on the same file, so writers of earlier versions (which
    ``flock`` it) are excluded too.

    Args:
        path: the queue file (created with mode 0600 if missing; never removed).
        timeout: seconds to wait before raising :class:`CacheError`.
    """

    def __init__(self, path: str, timeout: float = 10.0) -> None:
        if timeout < 0:
            raise ValueError("timeout must be >= 0")
        self.path = path
        self.timeout = timeout
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._ticket = 0
        self._fallback = None if queue_lock_supported() else FileLock(path, timeout)

    @property
    def locked(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None or bool(self._fallback and self._fallback.locked)

    def acquire(self) -> None:
        """Wait for our turn, at most ``timeout`` seconds.

        Raises:
            CacheError: not our turn in time, or the queue file can't be opened.
        """
        if self._fallback is not None:
            self._fallback.acquire()
            return
        deadline = time.monotonic() + self.timeout
        if not self._thread_lock.acquire(timeout=self.timeout):
            raise self._timeout_error()
        try:
            fd = open_tracked_lock(self.path)
        except CacheError:
            self._thread_lock.release()
            raise
        try:
            self._wait_for_turn(fd, deadline)
        except BaseException:
            forget_in_children(fd)
            os.close(fd)  # drops our ticket's lock: our successor moves on
            self._thread_lock.release()
            raise
        self._fd = fd

    def _wait_for_turn(self, fd: int, deadline: float) -> None:
        import fcntl

        _record_lock(fd, _WRITE, _GUARD, wait=True)  # held for a few system calls
        try:
            ticket = _read(fd, _NEXT)
            os.pwrite(fd, _U64.pack(ticket + 1), _NEXT)
            _record_lock(fd, _WRITE, _TICKETS + ticket)
        finally:
            _record_lock(fd, _UNLOCK, _GUARD)
        self._ticket = ticket
        earlier = ticket - 1
        while earlier >= 0:
            done = _read(fd, _DONE)
            if done > earlier:
                break
            if _record_lock(fd, _WRITE, _TICKETS + earlier):
                # That writer is gone: done (then DONE says so) or gave up or died, in which
                # case the one before it decides.
                _record_lock(fd, _UNLOCK, _TICKETS + earlier)
                earlier -= 1
                continue
            # Sleep in the kernel until that writer's byte is free: no polling, and the
            # wake-up comes the moment it lets go.
            if not _wait_until_free(fd, _TICKETS + earlier, deadline - time.monotonic()):
                raise self._timeout_error()
        # Our turn among this version's writers; earlier versions only flock the file.
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise self._timeout_error() from None
                time.sleep(_SLEEP * 4)

    def release(self) -> None:
        """Let the next writer go (a no-op when not held)."""
        if self._fallback is not None:
            self._fallback.release()
            return
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            _record_lock(fd, _WRITE, _GUARD, wait=True)
            try:
                if _read(fd, _DONE) <= self._ticket:
                    os.pwrite(fd, _U64.pack(self._ticket + 1), _DONE)
            finally:
                _record_lock(fd, _UNLOCK, _GUARD)
        finally:
            forget_in_children(fd)
            os.close(fd)  # releases the ticket's record lock and the flock
            self._thread_lock.release()

    def _timeout_error(self) -> CacheError:
        return CacheError(
            "cache_lock_timeout",
            f"could not lock {self.path} within {self.timeout:g} s; other writers hold it",
        )
