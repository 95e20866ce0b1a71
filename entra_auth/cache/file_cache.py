"""FileTokenCache: a token cache in one file (MSAL's unified schema), shared safely by processes.

Reads re-load the file only when a ``stat`` says it changed; writes queue on ``<path>.lock``,
take msal-extensions' ``<path>.lockfile``, re-load, apply the change and replace the file
atomically (temp file, fsync, rename). See :mod:`entra_auth.cache.file_cache_lock`.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator

from ..errors import CacheError
from ._fs_safety import ensure_private_directory, open_nofollow
from .backend import CallReads
from .encryption import CacheEncryption, is_encrypted
from .file_cache_lock import CacheWriteLock
from .json_format import Memo, dumps
from .msal_extensions_lock import remove_dead_private_files
from .serializable_cache import SerializableTokenCache

__all__ = ["FileTokenCache"]

logger = logging.getLogger("entra_auth.cache")

_Stamp = tuple[int, int, int, int]

# The caches (by id) whose file the running application call loaded (see around_call); per
# thread and per asyncio task.
_IN_CALL: contextvars.ContextVar[frozenset[int]] = contextvars.ContextVar(
    "entra_auth_file_cache_calls", default=frozenset())


def _io_error(error: str, what: str, exc: OSError) -> CacheError:
    return CacheError(error, f"{what}: {exc.strerror or type(exc).__name__}")


def _stamp_of(st: os.stat_result) -> _Stamp:
    # A rename gives every write a new inode, so this changes even where mtime is coarse.
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class FileTokenCache(SerializableTokenCache):
    """A token cache kept in a file, shared by every process and thread that opens the same path.

    The file holds MSAL's serialized cache (what ``msal.SerializableTokenCache.serialize()``
    writes), so a plaintext file can be shared with MSAL, msal-extensions' plaintext
    persistence and the Azure CLI's ``msal_token_cache.json``. Pass it to any application as
    ``token_cache=``::

        cache = entra_auth.FileTokenCache("~/.config/my-tool/token_cache.json")
        app = entra_auth.PublicClientApplication(CLIENT_ID, token_cache=cache)

    - Reads ``stat`` the file and parse it only when it changed since this object last
      loaded or wrote it.
    - Each change waits its turn among this library's writers (first come, first served,
      ``<path>.lock``), takes the lock msal-extensions takes (``<path>.lockfile``, created
      exclusively, removed after), re-loads the file, applies the change, and writes a temp
      file in the same directory (mode 0600), fsyncs it and renames it over the cache file, so
      readers and killed writers never see half a file and no writer drops another's entries,
      msal-extensions' writers included. A lock file left by a writer that died is removed.
    - With ``encryption``, the file holds an AES-GCM blob instead of JSON and plaintext never
      reaches the disk. A file that can't be decrypted or parsed raises :class:`CacheError`
      and is left untouched.

    Args:
        path: the cache file (``~`` is expanded). Missing directories are created with mode
            0700; a directory on the way that another user owns or could write is refused,
            and so is a symlink at the cache or lock path.
        encryption: a :class:`~entra_auth.cache.encryption.CacheEncryption` (e.g.
            ``CacheEncryption.from_env()`` or ``.from_keyring()``) or a raw 16/24/32-byte
            AES key; None stores plaintext JSON.
        lock_timeout: seconds a change waits for the lock before raising :class:`CacheError`.
        fsync: fsync the temp file before renaming it over the cache (turn off only for
            throwaway caches: a power loss could then leave an empty file).
        clock: as for :class:`~entra_auth.TokenCache`.

    Raises:
        CacheError: from any cache operation, when the file can't be read, decrypted, parsed,
            locked in time or written. A failed write leaves the previous file in place.
            From the constructor, when the directory is unsafe (``cache_unsafe_directory``).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        encryption: CacheEncryption | bytes | None = None,
        lock_timeout: float = 10.0,
        fsync: bool = True,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(clock=clock)
        self.path = os.path.abspath(os.path.expanduser(os.fspath(path)))
        if isinstance(encryption, (bytes, bytearray)):
            encryption = CacheEncryption(bytes(encryption))
        self._encryption = encryption
        self._fsync = fsync
        self._file_lock = CacheWriteLock(self.path, timeout=lock_timeout)
        # Held from _before_write to _after_write, and around re-loads, so that a reader's
        # re-load never swaps the entries out from under another thread's change.
        self._io_lock = threading.RLock()
        self._stamp: _Stamp | None = None
        self._temps_checked = False
        self._encoded: Memo = {}
        ensure_private_directory(os.path.dirname(self.path))
        # What an encrypted file is bound to: its resolved path (see CacheEncryption)
        self._context = "entra_auth.FileTokenCache:" + os.path.realpath(self.path)

    def __repr__(self) -> str:
        return f"FileTokenCache({self.path!r}, encrypted={self._encryption is not None})"

    @property
    def encrypted(self) -> bool:
        """Whether the file is encrypted at rest."""
        return self._encryption is not None

    # -- the application call (CacheIO) --------------------------------------------------

    def around_call(self, reads: CallReads) -> contextlib.AbstractContextManager[object]:
        """The :class:`~entra_auth.cache.backend.CacheIO` step the applications take.

        The load is one ``stat`` (and a re-load when another process changed the file); the
        call's lookups then read memory without a ``stat`` each. Every write still takes the
        lock, re-loads and replaces the file by itself: no lock is held across a token
        request, so nothing is left to flush. ``reads`` is not needed: the file is loaded
        whole.

        Raises:
            CacheError: the file can't be read, decrypted or parsed.
        """
        return self._load_call()

    @contextlib.contextmanager
    def _load_call(self) -> Iterator[FileTokenCache]:
        self._before_read()
        outer = _IN_CALL.get()
        _IN_CALL.set(outer | {id(self)})
        try:
            yield self
        finally:
            _IN_CALL.set(outer)

    # -- persistence hooks ----------------------------------------------------------------

    def _current_stamp(self) -> _Stamp | None:
        try:
            return _stamp_of(os.stat(self.path))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise _io_error("cache_read_failed", f"cannot stat {self.path}", exc) from None

    def _before_read(self) -> None:
        if id(self) in _IN_CALL.get():
            return  # loaded by around_call for this call
        if self._current_stamp() == self._stamp:
            return  # the hot path: one stat
        with self._io_lock:
            try:
                self._reload_if_changed()
            except CacheError as exc:
                if exc.error != "cache_corrupt":
                    raise
                # msal-extensions rewrites the file in place, under its lock: a read without
                # the lock may catch half a write. Under the lock, the file is whole.
                self._file_lock.acquire()
                try:
                    self._reload_if_changed()
                finally:
                    self._file_lock.release()

    def _before_write(self) -> None:
        self._io_lock.acquire()
        try:
            self._file_lock.acquire()
        except BaseException:
            self._io_lock.release()
            raise
        try:
            self._reload_if_changed()
        except BaseException:
            self._file_lock.release()
            self._io_lock.release()
            raise

    def _after_write(self) -> None:
        try:
            if self.has_state_changed:
                with self._lock:
                    self.has_state_changed = False
                    # Most entries are as the last write left them: their text is reused.
                    text = dumps(self._store.sections, memo=self._encoded)
                self._write(text)
        finally:
            self._file_lock.release()
            self._io_lock.release()

    # -- file I/O -------------------------------------------------------------------------

    def _reload_if_changed(self) -> None:
        stamp = self._current_stamp()
        if stamp == self._stamp:
            return
        if stamp is None:  # deleted (e.g. a sign-out that removed the file): start empty
            self.deserialize(None)
            self._stamp = None
            return
        try:
            with open_nofollow(self.path) as f:
                blob = f.read()
                stamp = _stamp_of(os.fstat(f.fileno()))
        except FileNotFoundError:
            self.deserialize(None)
            self._stamp = None
            return
        except OSError as exc:
            raise _io_error("cache_read_failed", f"cannot read {self.path}", exc) from None
        text = self._decode(blob)
        try:
            self.deserialize(text)
        except ValueError as exc:  # deserialize names the place, never the content
            raise CacheError(
                "cache_corrupt", f"{self.path} is not a token cache ({exc}); it was left untouched"
            ) from None
        self._stamp = stamp
        logger.debug("Loaded the token cache file %s (%d bytes)", self.path, len(blob))

    def _decode(self, blob: bytes) -> str:
        if self._encryption is not None:
            if not blob:
                return ""
            blob = self._encryption.decrypt(blob, source=self.path, context=self._context)
        elif is_encrypted(blob):
            raise CacheError(
                "cache_encrypted",
                f"{self.path} is encrypted; open it with the key it was written with",
            )
        try:
            return blob.decode("utf-8")
        except UnicodeDecodeError:
            raise CacheError(
                "cache_corrupt", f"{self.path} is not UTF-8 text; it was left untouched"
            ) from None

    def _remove_stale_temps(self) -> None:
        # Temp files are only created under the lock, so any found while holding it were left
        # by a writer that died mid-write. Checked once per instance.
        self._temps_checked = True
        directory, base = os.path.split(self.path)
        prefix = f".{base}."
        try:
            names = os.listdir(directory)
        except OSError:
            return
        for name in names:
            if name.startswith(prefix) and name.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(directory, name))
        remove_dead_private_files(self._file_lock.lockfile.path)

    def _write(self, text: str) -> None:
        if not self._temps_checked:
            self._remove_stale_temps()
        data = text.encode("utf-8")
        if self._encryption is not None:
            data = self._encryption.encrypt(data, context=self._context)
        directory = os.path.dirname(self.path)
        temp = os.path.join(
            directory, f".{os.path.basename(self.path)}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        )
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                if self._fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            # A precise mtime: msal-extensions re-reads only when the mtime is later than its
            # last write (by time.time()); the kernel's coarse clock can lag by a tick.
            now = time.time_ns()
            os.utime(temp, ns=(now, now))
            os.replace(temp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise _io_error("cache_write_failed", f"cannot write {self.path}", exc) from None
        self._stamp = self._current_stamp()
