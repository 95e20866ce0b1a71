"""The CLI's token cache problems: say what is wrong and how to recover, before any sign-in.

Every cache failure exits with :data:`EXIT_CACHE`. An unreadable cache (corrupt, or
encrypted by something else) can be reset with ``entra-auth logout --all``, which first moves
the file aside to a timestamped backup: nothing is deleted.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import TYPE_CHECKING, Any

from ..errors import CacheError
from ..protocol.messages import app_call
from ..transport.driver import run_sync

if TYPE_CHECKING:
    from ..protocol.client_app import SyncApp

__all__ = ["EXIT_CACHE", "RESETTABLE", "cache_problem", "check_cache", "move_aside"]

EXIT_CACHE = 5  # as _common.EXIT_CACHE: the local token cache can't be used
# Problems with the file's contents, which moving the file aside fixes.
RESETTABLE = frozenset({"cache_corrupt", "cache_encrypted", "cache_decryption_failed",
                        "cache_not_encrypted"})


def cache_problem(exc: CacheError) -> str:
    """One line: what is wrong with the cache, and what to do about it."""
    text = str(exc.error_description or exc.error).splitlines()[0][:300]
    if exc.error in RESETTABLE:
        return (f"the token cache can't be read: {text}; run `entra-auth logout --all` to "
                "move it aside (kept as a timestamped backup) and start over")
    if exc.error == "cache_lock_timeout":
        return f"the token cache is busy: {text}; try again"
    return f"the token cache can't be used: {text}"


def check_cache(app: SyncApp, path: str) -> None:
    """Read the cache and check its directory is writable, so a sign-in can be stored.

    Raises:
        CacheError: the cache can't be read or its directory is not writable.
    """
    # Loads the file: a corrupt one raises here, before any prompt.
    run_sync(app_call("get_accounts"), app=app)
    directory = os.path.dirname(path)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise CacheError("cache_write_failed",
                         f"{directory} is not writable, so a sign-in could not be saved")


def move_aside(cache: Any, path: str, now: float | None = None) -> str:
    """Rename the cache file to ``<path>.unreadable-<UTC time>`` (under the cache's lock).

    Returns:
        The backup's path.

    Raises:
        CacheError: the file could not be renamed.
    """
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    backup = f"{path}.unreadable-{stamp}"
    counter = 1
    while os.path.lexists(backup):
        counter += 1
        backup = f"{path}.unreadable-{stamp}-{counter}"
    lock = getattr(cache, "_file_lock", None)
    with lock if lock is not None else contextlib.nullcontext():
        try:
            os.rename(path, backup)
        except OSError as exc:
            raise CacheError("cache_write_failed",
                             f"cannot move {path} aside: {exc.strerror}") from None
    return backup
