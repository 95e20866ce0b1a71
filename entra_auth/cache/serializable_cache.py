"""SerializableTokenCache: a TokenCache that round-trips MSAL's unified-schema JSON text.

Mirrors msal 1.39's ``msal.SerializableTokenCache`` (``serialize``, ``deserialize``,
``has_state_changed``); the text is byte-identical to what msal writes.
"""

from __future__ import annotations

import logging
from typing import Any

from .entry_store import EntryStore
from .json_format import dumps, loads
from .token_cache import TokenCache

__all__ = ["SerializableTokenCache"]

logger = logging.getLogger("entra_auth.cache")


class SerializableTokenCache(TokenCache):
    """A token cache you can save to text and load back, interchangeable with MSAL's.

    The library does not persist it by itself. Load it at start and save it when it changed::

        import atexit, os
        import entra_auth as msal

        cache = msal.SerializableTokenCache()
        if os.path.exists("my_cache.bin"):
            with open("my_cache.bin") as f:
                cache.deserialize(f.read())

        def save() -> None:
            if cache.has_state_changed:
                with open("my_cache.bin", "w") as f:
                    f.write(cache.serialize())

        atexit.register(save)
        app = msal.PublicClientApplication(..., token_cache=cache)

    A file written by ``msal.SerializableTokenCache.serialize()`` loads here and the reverse.
    ``serialize`` and ``deserialize`` do not call the persistence hooks (they are what the
    hooks use).

    Attributes:
        has_state_changed: True when the cache changed since the last ``serialize()`` or
            ``deserialize()`` (set by every ``add`` and ``modify``, as in MSAL).
    """

    has_state_changed: bool = False

    def _mark_changed(self) -> None:
        self.has_state_changed = True

    def serialize(self) -> str:
        """Return the cache as MSAL's unified-schema JSON text and clear ``has_state_changed``."""
        with self._lock:
            self.has_state_changed = False
            return dumps(self._store.sections)

    def deserialize(self, state: str | bytes | bytearray | None) -> None:
        """Replace the cache with one previously serialized (by this library or by MSAL).

        Unknown sections and unknown entry fields are kept and written back unchanged.
        An empty or None ``state`` empties the cache. Clears ``has_state_changed``.

        Raises:
            ValueError: ``state`` is not JSON or not shaped like a token cache (the message
                says where, never what). The cache is then left exactly as it was.
            TypeError: ``state`` is not text.
        """
        sections: dict[str, Any] = loads(state)
        store = EntryStore(sections)  # indexing happens before the swap, outside the lock
        with self._lock:
            self._store = store
            self.has_state_changed = False
        logger.debug(
            "Loaded a token cache: %s",
            ", ".join(
                f"{len(store.section(name))} {name}"
                for name in ("AccessToken", "RefreshToken", "IdToken", "Account", "AppMetadata")
            ),
        )
