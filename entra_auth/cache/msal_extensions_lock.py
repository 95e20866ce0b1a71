"""The lock msal-extensions takes on a cache file: ``<path>.lockfile``, created exclusively.

msal-extensions (``CrossPlatLock``) holds a cache by creating ``<cache>.lockfile`` with
``O_EXCL``, writing ``"<pid> <argv[0]>"`` into it and deleting it when done; a writer that finds
it present retries every 0.25 s and gives up after 5 s. Taking the same file the same way makes
its writers and ours exclude each other. Two additions of ours, invisible to it: a lock file
whose writer is dead (SIGKILL) is removed, and a waiter of ours leaves the file absent for
longer than its 0.25 s poll now and then (see :class:`MsalExtensionsLock`), so its writers are
never starved into their 5 s timeout.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time

from ..errors import CacheError
from .file_lock import open_lock_file

__all__ = ["MsalExtensionsLock", "remove_dead_private_files"]

logger = logging.getLogger("entra_auth.cache")

_POLL = 0.0005
_MAX_POLL = 0.005
# A lock file with no pid yet: msal-extensions writes the pid right after creating the file.
_EMPTY_LOCK_STALE_AFTER = 3.0


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if sys.platform == "win32":  # pragma: no cover - os.kill(pid, 0) would end the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_dead_private_files(lock_path: str) -> None:
    """Remove the private files (see :meth:`MsalExtensionsLock._create`) of dead processes."""
    directory, base = os.path.split(lock_path)
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return
    prefix = f"{base}."
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid = name[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(directory, name))


class MsalExtensionsLock:
    """``<path>.lockfile`` held as msal-extensions holds it.

    Callers serialize their own threads and processes first (FileTokenCache's queue), so at
    most one of ours contends here at a time: a lock file found present is another program's
    (or a dead writer's).

    Args:
        path: the lock file (the cache path plus ``.lockfile``).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None
        self.foreign_seen = False  # set when the last acquire found another holder

    @property
    def locked(self) -> bool:
        """Whether this object holds the lock file."""
        return self._fd is not None

    def acquire(self, deadline: float, timeout: float) -> None:
        """Create the lock file, waiting until ``deadline`` (``time.monotonic()``).

        Raises:
            CacheError: another holder kept it past the deadline, or it can't be created.
        """
        self.foreign_seen = False
        delay = _POLL
        while True:
            try:
                fd = self._create()
            except FileExistsError:
                if os.path.islink(self.path):  # planted: never wait on (or remove) its target
                    raise CacheError("cache_unsafe_path", f"{self.path} is a symbolic link; "
                                     "refusing to follow it (remove it)") from None
                self.foreign_seen = True
                if self._remove_if_stale():
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CacheError(
                        "cache_lock_timeout",
                        f"could not lock {self.path} within {timeout:g} s; another program "
                        "(msal-extensions?) holds it",
                    ) from None
                time.sleep(min(delay, remaining))
                delay = min(delay * 2, _MAX_POLL)
                continue
            except OSError as exc:
                raise CacheError(
                    "cache_lock_failed", f"cannot create the lock file {self.path}: "
                    f"{exc.strerror}") from None
            self._fd = fd
            return

    def _create(self) -> int:
        """Create the lock file with our pid in it, atomically where links work.

        A file written after an O_EXCL create would be empty for a moment, and a writer killed
        in that moment leaves a lock file nobody can tell is stale. So the content goes into a
        private file first, which is then linked to the lock file's name (failing if it exists).

        Raises:
            FileExistsError: The lock file exists.
        """
        content = f"{os.getpid()} {sys.argv[0] if sys.argv else ''}".encode()
        private = f"{self.path}.{os.getpid()}.{id(self):x}.tmp"
        try:
            fd = open_lock_file(private, os.O_RDWR | os.O_CREAT | os.O_TRUNC)
        except OSError:
            fd = -1
        if fd >= 0:
            try:
                os.write(fd, content)
                try:
                    os.link(private, self.path)
                except FileExistsError:
                    os.close(fd)
                    raise
                except OSError:  # no hard links here: create the name itself below
                    os.close(fd)
                    fd = -1
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(private)
            if fd >= 0:
                return fd
        fd = open_lock_file(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        with contextlib.suppress(OSError):
            os.write(fd, content)
        return fd

    def release(self) -> None:
        """Delete the lock file if it is still ours (a no-op when not held)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            ours = os.fstat(fd)
            current = os.stat(self.path)
            if (current.st_dev, current.st_ino) == (ours.st_dev, ours.st_ino):
                os.unlink(self.path)
        except OSError:
            pass  # already gone: nothing to release
        finally:
            os.close(fd)

    def _remove_if_stale(self) -> bool:
        """Remove a lock file whose writer is dead; True if removed."""
        try:
            fd = open_lock_file(self.path, os.O_RDONLY)
        except OSError:
            return False  # gone already (the next create will tell) or unreadable
        try:
            seen = os.fstat(fd)
            content = os.read(fd, 64)
        finally:
            os.close(fd)
        head = content.split(b" ", 1)[0]
        if head.isdigit():
            pid = int(head)
            if pid == os.getpid() or _alive(pid):
                return False
        elif time.time() - seen.st_mtime < _EMPTY_LOCK_STALE_AFTER:
            return False
        try:
            current = os.stat(self.path)
            # Only our queue's head removes stale files, and a live holder's file can't take
            # the place of one that still exists, so this is the file we inspected.
            if (current.st_dev, current.st_ino) != (seen.st_dev, seen.st_ino):
                return False
            os.unlink(self.path)
        except OSError:
            return False
        logger.warning("Removed the lock file %s left by a writer that died", self.path)
        return True
