"""A token cache backend written from docs/cache.md alone: one JSON document in a key-value store.

The store stands for any key-value service: a ``dict`` for sync applications, and
:class:`AsyncStore` (awaited ``get``/``put``) for ``entra_auth.aio`` ones. Both backends
implement the cache backend protocol (:mod:`entra_auth.cache.backend`): before each
application call they load the document (when it changed), after it they store it (when the
call changed it). The applications call them by themselves.

Run: ``.venv/bin/python examples/key_value_cache.py`` (on an in-process emulator).

Last writer wins: two instances that change the cache at the same moment may drop one
token, which only means one more token request later. For a fleet writing at once, use
``RedisTokenCache`` or ``SqliteTokenCache`` (atomic per entry).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator, MutableMapping

import entra_auth
import entra_auth.aio
from entra_auth.cache import CallReads

logger = logging.getLogger("key_value_cache")


class AsyncStore:
    """A key-value store read and written with ``await`` (e.g. an asyncio client)."""

    def __init__(self, data: MutableMapping[str, str]) -> None:
        self.data = data

    async def get(self, key: str) -> str | None:
        await asyncio.sleep(0)  # where a real client would wait for the network
        return self.data.get(key)

    async def put(self, key: str, value: str) -> None:
        await asyncio.sleep(0)
        self.data[key] = value


class _DocumentCache(entra_auth.SerializableTokenCache):
    """What both backends share: the document loaded last, and the calls' reads (for the demo)."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.reads: list[CallReads] = []
        self._loaded: str | None = None

    def _load(self, text: str | None) -> None:
        if text != self._loaded:  # unchanged: keep the entries (and indexes) in memory
            self.deserialize(text)
            self._loaded = text

    def _changed_text(self) -> str | None:
        if not self.has_state_changed:
            return None
        text = self.serialize()
        self._loaded = text
        return text


class KeyValueTokenCache(_DocumentCache):
    """The sync backend (:class:`entra_auth.cache.CacheIO`) over a dict-like store."""

    def __init__(self, store: MutableMapping[str, str], key: str = "tokens") -> None:
        super().__init__(key)
        self.store = store

    @contextlib.contextmanager
    def around_call(self, reads: CallReads) -> Iterator[KeyValueTokenCache]:
        # The document holds everything, so ``reads`` needs nothing more than one load.
        self.reads.append(reads)
        self._load(self.store.get(self.key))
        try:
            yield self
        except BaseException:
            try:
                self._flush()
            except Exception as exc:  # the call's own exception says more
                logger.warning("could not store the token cache: %s", type(exc).__name__)
            raise
        self._flush()

    def _flush(self) -> None:
        text = self._changed_text()
        if text is not None:
            self.store[self.key] = text


class AsyncKeyValueTokenCache(_DocumentCache):
    """The async backend (:class:`entra_auth.cache.AsyncCacheIO`) over an :class:`AsyncStore`."""

    def __init__(self, store: AsyncStore, key: str = "tokens") -> None:
        super().__init__(key)
        self.store = store

    @contextlib.asynccontextmanager
    async def around_call_async(self, reads: CallReads) -> AsyncIterator[AsyncKeyValueTokenCache]:
        self.reads.append(reads)
        self._load(await self.store.get(self.key))
        try:
            yield self
        except BaseException:
            try:
                await self._flush()
            except Exception as exc:
                logger.warning("could not store the token cache: %s", type(exc).__name__)
            raise
        await self._flush()

    async def _flush(self) -> None:
        text = self._changed_text()
        if text is not None:
            await self.store.put(self.key, text)


def main() -> None:
    from entra_auth.testing import GRAPH_RESOURCE, WEB_APP_ID, WEB_APP_SECRET, Emulator

    scopes = [f"{GRAPH_RESOURCE}/.default"]
    data: dict[str, str] = {}  # the "server" both kinds of application share
    with Emulator() as emu:
        app = entra_auth.ConfidentialClientApplication(
            WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
            verify=emu.ca_bundle, token_cache=KeyValueTokenCache(data))
        print("sync app: ", app.acquire_token_for_client(scopes)["token_source"])

        async def from_async_app() -> str:
            async with entra_auth.aio.ConfidentialClientApplication(
                    WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
                    verify=emu.ca_bundle,
                    token_cache=AsyncKeyValueTokenCache(AsyncStore(data))) as aio_app:
                return str((await aio_app.acquire_token_for_client(scopes))["token_source"])

        print("async app:", asyncio.run(from_async_app()))  # cache: the sync app stored it


if __name__ == "__main__":
    main()
