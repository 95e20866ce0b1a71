"""A cross-process exclusive file lock with a bounded wait (POSIX ``flock``, Windows ``msvcrt``).

The lock file sits next to the cache file and is never deleted: deleting a lock file while
another process waits on it is how lock-file schemes lose mutual exclusion. FileTokenCache
queues its writers with :mod:`entra_auth.cache.queue_lock` and excludes msal-extensions with
:mod:`entra_auth.cache.msal_extensions_lock`; this lock is their fallback where Linux OFD locks
are missing.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from types import TracebackType

from ..errors import CacheError
from ._fs_safety import O_NOFOLLOW, symlink_refusal

__all__ = [
    "FileLock", "forget_in_children", "open_lock_file", "open_tracked_lock", "track_in_parent",
]

# Descriptors whose locks belong to this process. flock and OFD locks belong to an open file
# description, which a fork() shares with the child: a child that kept the descriptor would
# keep our lock alive after we release it. Children close these right after the fork.
_tracked: set[int] = set()
_tracked_lock = threading.Lock()


def track_in_parent(fd: int) -> int:
    """Remember ``fd`` as holding (or waiting for) a lock of this process; returns it."""
    with _tracked_lock:
        _tracked.add(fd)
    return fd


def forget_in_children(fd: int) -> None:
    """``fd`` is being closed by this process: stop tracking it."""
    with _tracked_lock:
        _tracked.discard(fd)


def _close_inherited() -> None:
    global _tracked_lock
    _tracked_lock = threading.Lock()  # another thread may have held it at the fork
    for fd in list(_tracked):
        with contextlib.suppress(OSError):
            os.close(fd)
    _tracked.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_inherited)


def open_lock_file(path: str, flags: int) -> int:
    """Open a lock file with ``flags`` (created with mode 0600 when ``O_CREAT`` is in them).

    Every lock file the caches use is opened here, so checks on the path belong here too.
    """
    return os.open(path, flags | getattr(os, "O_CLOEXEC", 0) | O_NOFOLLOW, 0o600)

def open_tracked_lock(path: str) -> int:
    """Open (creating it 0600) a lock file this process will lock, tracked for fork().

    Raises:
        CacheError: ``cache_unsafe_path`` for a symlink planted at ``path`` (never followed:
            ``open_lock_file`` adds ``O_NOFOLLOW``), else ``cache_lock_failed``.
    """
    try:
        return track_in_parent(open_lock_file(path, os.O_RDWR | os.O_CREAT))
    except OSError as exc:
        refusal = symlink_refusal(path, exc)
        if refusal is not None:
            raise refusal from None
        raise CacheError(
            "cache_lock_failed", f"cannot open the lock file {path}: {exc.strerror}"
        ) from None


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class FileLock:
    """An exclusive lock shared by every process (and thread) that names the same file.

    ``flock`` locks belong to an open file description, and the kernel drops them when the
    holder dies (even by SIGKILL), so a crashed writer never leaves the cache locked.

    Args:
        path: the lock file (created with mode 0600 if missing; never removed).
        timeout: seconds to wait for the lock before raising :class:`CacheError`.
    """

    def __init__(self, path: str | os.PathLike[str], timeout: float = 10.0) -> None:
        if timeout < 0:
            raise ValueError("timeout must be >= 0")
        self.path = os.fspath(path)
        self.timeout = timeout
        self._thread_lock = threading.Lock()  # one holder per process at a time
        self._fd: int | None = None

    @property
    def locked(self) -> bool:
        """Whether this object currently holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock, waiting at most ``timeout`` seconds.

        Raises:
            CacheError: the lock could not be taken in time, or the lock file can't be opened.
        """
        deadline = time.monotonic() + self.timeout
        if not self._thread_lock.acquire(timeout=self.timeout):
            raise self._timeout_error()
        try:
            fd = open_tracked_lock(self.path)
        except CacheError:
            self._thread_lock.release()
            raise
        delay = 0.0005
        while not _try_lock(fd):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                forget_in_children(fd)
                os.close(fd)
                self._thread_lock.release()
                raise self._timeout_error()
            # Short first sleeps keep an uncontended wait cheap; the cap bounds wasted time.
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.005)
        self._fd = fd

    def release(self) -> None:
        """Release the lock (a no-op when not held)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            _unlock(fd)
        finally:
            forget_in_children(fd)
            os.close(fd)
            self._thread_lock.release()

    def _timeout_error(self) -> CacheError:
        return CacheError(
            "cache_lock_timeout",
            f"could not lock {self.path} within {self.timeout:g} s; another process holds it",
        )

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
