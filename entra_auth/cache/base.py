"""The shared core of the token cache classes: lock, persistence hooks, keyed writes.

Holds the MSAL unified-schema document (see ``entry_store.py``) behind one lock and runs the
persistence hooks around each outermost operation; the public classes build on it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from types import TracebackType
from typing import Any

from .entry_store import EntryStore
from .schema import Entry, lowered, make_key_makers

__all__ = ["CacheCore", "as_int", "env_set", "is_subdict", "lowered_tuple"]

_MISSING = object()


def _wall_clock() -> float:
    return datetime.now(timezone.utc).timestamp()


def as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: a JSON 1e999 (infinity)
        return None


def is_subdict(small: Mapping[str, Any], big: Mapping[str, Any]) -> bool:
    for name, value in small.items():
        present = big.get(name, _MISSING)
        if present is not value and present != value:
            return False
    return True


def env_set(environments: Iterable[str] | str) -> frozenset[str]:
    if isinstance(environments, str):
        return frozenset((environments.lower(),))
    if type(environments) is tuple:
        return lowered_tuple(environments)
    return lowered(environments)


# Lowercased sets of the few host-alias and scope tuples an application asks with, so a
# lookup does not build them again on every call. Bounded: odd callers just miss.
_LOWERED: dict[tuple[Any, ...], frozenset[str]] = {}
_MAX_LOWERED = 1024


def lowered_tuple(values: tuple[Any, ...]) -> frozenset[str]:
    """:func:`lowered` of a tuple, remembered."""
    try:
        found = _LOWERED.get(values)
    except TypeError:  # an unhashable member: nothing to remember
        return lowered(values)
    if found is None:
        found = lowered(values)
        if len(_LOWERED) < _MAX_LOWERED:
            _LOWERED[values] = found
    return found


class _Operation:
    """Runs the persistence hooks around the outermost cache operation of a thread."""

    __slots__ = ("_cache", "_outer", "_write")

    def __init__(self, cache: CacheCore, write: bool) -> None:
        self._cache = cache
        self._write = write
        self._outer = False

    def __enter__(self) -> None:
        tls = self._cache._tls
        depth: int = getattr(tls, "depth", 0)
        tls.depth = depth + 1  # set first, so a hook that reads the cache does not recurse
        if depth:
            return
        try:
            if self._write:
                self._cache._before_write()
            else:
                self._cache._before_read()
        except BaseException:
            tls.depth = depth
            raise
        self._outer = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._cache._tls.depth -= 1
        if self._outer and self._write:
            self._cache._after_write()

class CacheCore:
    """Storage, locking and hook plumbing shared by :class:`~entra_auth.cache.TokenCache`."""

    def __init__(self, *, clock: Callable[[], float] | None = None) -> None:
        """Create an empty cache.

        Args:
            clock: returns the current time in epoch seconds; used when ``add``/``search``
                get no ``now`` and by ``update_rt``. Defaults to the system clock.
        """
        self._lock = threading.RLock()
        self._store = EntryStore()
        self._clock = clock or _wall_clock
        self._tls = threading.local()
        self.key_makers: dict[str, Callable[..., str]] = make_key_makers()

    # -- persistence hooks ----------------------------------------------------------------

    def _before_read(self) -> None:
        """Hook: called before each outermost read (e.g. reload a changed file)."""

    def _before_write(self) -> None:
        """Hook: called before each outermost write (e.g. lock and reload the file)."""

    def _after_write(self) -> None:
        """Hook: called after each outermost write, even a failed one (e.g. save, unlock)."""

    def _mark_changed(self) -> None:
        """Called after every change; SerializableTokenCache sets ``has_state_changed``."""

    def _operation(self, write: bool) -> _Operation:
        return _Operation(self, write)

    @property
    def _cache(self) -> dict[str, Any]:
        # msal exposes its document as ``_cache``; tests and tools poke at it.
        return self._store.sections

    def _modify_is_overridden(self) -> bool:
        return type(self).modify is not CacheCore.modify

    def _now(self, now: float | None) -> int:
        return int(self._clock() if now is None else now)

    def _key(self, credential_type: str, entry: Mapping[str, Any]) -> str:
        maker = self.key_makers.get(credential_type)
        if maker is None:
            raise ValueError(f"unknown credential type {credential_type!r}")
        return maker(**entry)

    def modify(
        self,
        credential_type: str,
        old_entry: Mapping[str, Any],
        new_key_value_pairs: Mapping[str, Any] | None = None,
    ) -> None:
        """Update the entry keyed like ``old_entry`` with new fields, or remove it.

        Args:
            credential_type: a :class:`CredentialType` section name.
            old_entry: the entry (its key is computed from its fields).
            new_key_value_pairs: fields to set; when empty or None the entry is removed.

        Raises:
            ValueError: unknown credential type.
        """
        key = self._key(credential_type, old_entry)
        with self._operation(write=True):
            with self._lock:
                if new_key_value_pairs:
                    self._store.put(
                        credential_type, key, {**old_entry, **new_key_value_pairs}
                    )
                else:
                    self._store.ensure_section(credential_type)
                    self._store.pop(credential_type, key)
            self._mark_changed()

    def _remove(self, doomed: list[tuple[str, str, Entry]]) -> None:
        if not doomed:
            return
        if self._modify_is_overridden():
            for section, _, entry in doomed:  # let the subclass see every change
                self.modify(section, entry)
            return
        with self._lock:
            for section, key, _ in doomed:
                self._store.pop(section, key)
        self._mark_changed()
