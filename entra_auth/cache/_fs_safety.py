"""Safe places for token caches on disk: private directories, no symlinks followed (POSIX).

Missing directories are created one by one with mode 0700 (``os.makedirs`` gives only the last
one its mode). A cache directory, or any directory above it, that another user owns or that is
group- or world-writable without the sticky bit is refused, as OpenSSH refuses such paths: its
owner or group could swap in a cache signed in to their own account. Cache and lock files are
opened with ``O_NOFOLLOW``, so a symlink planted at their path is refused, never followed.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import IO

from ..errors import CacheError

__all__ = ["O_NOFOLLOW", "check_directory", "ensure_private_directory", "open_nofollow",
           "symlink_refusal"]

O_NOFOLLOW: int = getattr(os, "O_NOFOLLOW", 0)
_POSIX = os.name == "posix"


def _ancestors(path: str) -> list[str]:
    found: list[str] = []
    for start in (os.path.abspath(path), os.path.realpath(path)):
        current = start
        while current not in found:
            found.append(current)
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
    return found


def check_directory(directory: str) -> None:
    """Refuse ``directory`` if another local user could replace what it holds.

    Checks the directory and every directory above it (as written and with symlinks
    resolved): each must be owned by this user or root, and not writable by group or others
    unless the sticky bit is set (``/tmp``). A no-op off POSIX.

    Raises:
        CacheError: ``cache_unsafe_directory``, naming the directory and what is wrong.
    """
    if not _POSIX:  # pragma: no cover - Windows ACLs are not modes
        return
    uid = os.getuid()
    for path in _ancestors(directory):
        try:
            st = os.stat(path)
        except OSError as exc:
            raise CacheError("cache_unsafe_directory",
                             f"cannot check {path}: {exc.strerror}") from None
        if st.st_uid not in (uid, 0):
            raise CacheError(
                "cache_unsafe_directory",
                f"{path} is owned by another user (uid {st.st_uid}), who could replace the "
                f"token cache in {directory}; use a directory of your own")
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not st.st_mode & stat.S_ISVTX:
            who = "others" if st.st_mode & stat.S_IWOTH else "its group"
            raise CacheError(
                "cache_unsafe_directory",
                f"{path} is writable by {who} (mode {stat.S_IMODE(st.st_mode):04o}), who could "
                f"replace the token cache in {directory}; run chmod go-w {path}")


def ensure_private_directory(directory: str) -> None:
    """Create ``directory`` and its missing parents with mode 0700, then check it.

    Raises:
        CacheError: a directory can't be created, or the result is not safe
            (see :func:`check_directory`).
    """
    missing: list[str] = []
    current = os.path.abspath(directory)
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    if missing:
        check_directory(current)  # nothing is created below an unsafe directory
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)  # never more than 0700, whatever the umask
        except FileExistsError:
            if not os.path.isdir(path):
                raise CacheError("cache_unsafe_directory",
                                 f"{path} exists and is not a directory") from None
        except OSError as exc:
            raise CacheError("cache_write_failed",
                             f"cannot create the directory {path}: {exc.strerror}") from None
    check_directory(directory)


def symlink_refusal(path: str, exc: OSError) -> CacheError | None:
    """The CacheError for an ``O_NOFOLLOW`` open that met a symlink (None for other errors)."""
    if exc.errno == errno.ELOOP or (exc.errno == errno.EMLINK and os.path.islink(path)):
        return CacheError("cache_unsafe_path",
                          f"{path} is a symbolic link; refusing to follow it (remove it)")
    return None


def open_nofollow(path: str) -> IO[bytes]:
    """Open ``path`` for reading without following a symlink at it.

    Raises:
        CacheError: ``cache_unsafe_path`` when ``path`` is a symlink.
        OSError: any other failure (``FileNotFoundError`` included).
    """
    try:
        fd = os.open(path, os.O_RDONLY | O_NOFOLLOW | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        refusal = symlink_refusal(path, exc)
        if refusal is not None:
            raise refusal from None
        raise
    return os.fdopen(fd, "rb")
