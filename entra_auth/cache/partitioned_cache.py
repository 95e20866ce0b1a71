"""PartitionedTokenCache: the TokenCache API over partitions stored elsewhere (Redis, SQLite).

Each operation names the partition it needs (user, app+tenant, assertion, client metadata);
subclasses provide the I/O: fetch partitions as in-memory views, and apply field changes.
Around an application call (:class:`~entra_auth.cache.backend.CacheIO`), the partitions the
call reads are fetched in one step first (:meth:`PartitionedTokenCache._load_call`) and its
lookups are served from them.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from .backend import CallReads
from .entry_store import EntryStore, norm
from .partition_codec import PartitionCodec, expired_fields
from .schema import CredentialType, Entry, build_entries, lowered
from .token_cache import TokenCache

__all__ = ["CALL_LOADS", "CallLoads", "Change", "PartitionedTokenCache"]

logger = logging.getLogger("entra_auth.cache")


def _env_set(environments: Iterable[str] | str) -> frozenset[str]:
    if isinstance(environments, str):
        return frozenset((environments.lower(),))
    return lowered(environments)


class Change:
    """Field changes to one partition: values to set, fields to delete, the TTL needed."""

    __slots__ = ("deletes", "entries", "sets", "ttl_ms")

    def __init__(self) -> None:
        self.sets: dict[str, bytes | str] = {}
        self.entries: dict[str, tuple[str, Entry]] = {}  # field -> (section, entry)
        self.deletes: list[str] = []
        self.ttl_ms = 0

    def apply_to(self, store: EntryStore) -> None:
        """Make these changes to a local copy of the partition (fields are ``section:key``)."""
        for name, (section, entry) in self.entries.items():
            store.put(section, name.partition(":")[2], entry)
        for name in self.deletes:
            section, _, entry_key = name.partition(":")
            store.ensure_section(section)
            store.pop(section, entry_key)


class CallLoads:
    """The partitions loaded for the running application call (and the index sets listed)."""

    __slots__ = ("members", "views")

    def __init__(self, views: dict[str, TokenCache], members: dict[str, list[str]]) -> None:
        self.views = views
        self.members = members


# The running call's loaded partitions, per cache (by id). A ContextVar: each thread, and each
# asyncio task, sees only the partitions its own call loaded.
CALL_LOADS: contextvars.ContextVar[dict[int, CallLoads] | None] = contextvars.ContextVar(
    "entra_auth_loaded_partitions", default=None)


class PartitionedTokenCache(TokenCache):
    """The MSAL and indexed TokenCache API, each call served by one partition.

    Subclasses implement :meth:`_read_views` (partitions as in-memory TokenCaches),
    :meth:`_apply` (write changes), :meth:`_list_members` (partitions listed in index sets)
    and :meth:`_scan` (partition keys matching a pattern, for queries no index answers).
    The sync ones offer :meth:`_load_call` as their ``around_call``.
    """

    def __init__(self, codec: PartitionCodec, *, clock: Callable[[], float] | None = None) -> None:
        super().__init__(clock=clock)
        self._codec = codec

    # -- I/O primitives ---------------------------------------------------------------------

    def _read_views(self, keys: list[str]) -> dict[str, TokenCache]:
        """Fetch partitions (empty views for absent ones), in as few round trips as can be."""
        raise NotImplementedError

    def _apply(self, changes: dict[str, Change], now: int) -> None:
        raise NotImplementedError

    def _scan(self, pattern: str) -> list[str]:
        raise NotImplementedError

    def _list_members(self, indexes: list[str]) -> list[str]:
        raise NotImplementedError

    def _held(self, key: str) -> TokenCache | None:
        """The partition as this instance holds it after its own write (None: re-read it)."""
        return None

    # -- the application call: load first, then serve lookups from what was loaded ----------

    def _read_keys(self, reads: CallReads) -> tuple[list[str], list[str]]:
        """The partition keys and the index sets a call with these reads needs."""
        codec = self._codec
        keys = []
        if reads.home_account_id:
            keys.append(codec.user_key(reads.home_account_id))
        if reads.client_id and reads.tenant:
            keys.append(codec.app_key(reads.client_id, reads.tenant))
        if reads.client_id and reads.app_metadata:
            keys.append(codec.metadata_key(reads.client_id))
        if reads.user_assertion_hash:
            keys.append(codec.obo_key(reads.user_assertion_hash))
        indexes = []
        if reads.all_accounts:
            indexes += codec.user_indexes()
        if reads.all_app_tokens_of:
            indexes.append(codec.app_index(reads.all_app_tokens_of))
        return keys, indexes

    @contextlib.contextmanager
    def _load_call(self, reads: CallReads) -> Iterator[PartitionedTokenCache]:
        """The sync :class:`~entra_auth.cache.backend.CacheIO` step.

        Lists the index sets ``reads`` names, then fetches every partition it names in one
        go, and serves the call's lookups from them. Writes go through at once (each atomic in
        storage), so nothing is left to flush. A lookup of a partition not loaded reads it.
        """
        keys, indexes = self._read_keys(reads)
        members: dict[str, list[str]] = {}
        if indexes:
            members = {index: [] for index in indexes}
            for key in self._list_members(indexes):
                index = self._codec.index_of(key)
                if index is not None:
                    members.setdefault(index, []).append(key)
                keys.append(key)
        views = self._read_views(list(dict.fromkeys(keys))) if keys else {}
        outer = CALL_LOADS.get()
        enclosing = (outer or {}).get(id(self))
        if enclosing is not None:
            views = {**enclosing.views, **views}
            members = {**enclosing.members, **members}
        CALL_LOADS.set({**(outer or {}), id(self): CallLoads(views, members)})
        try:
            yield self
        finally:
            CALL_LOADS.set(outer)

    def _call_loads(self) -> CallLoads | None:
        scopes = CALL_LOADS.get()
        return None if scopes is None else scopes.get(id(self))

    def _view(self, key: str) -> TokenCache:
        loaded = self._call_loads()
        if loaded is not None:
            view = loaded.views.get(key)
            if view is not None:
                return view
        return self._read_views([key])[key]

    def _members(self, indexes: list[str]) -> list[str]:
        loaded = self._call_loads()
        if loaded is not None and all(index in loaded.members for index in indexes):
            return [key for index in indexes for key in loaded.members[index]]
        return self._list_members(indexes)

    def _written(self, keys: Iterable[str]) -> None:
        """After a write inside a call: its later lookups see what this instance now holds."""
        loaded = self._call_loads()
        if loaded is None:
            return
        for key in keys:
            view = self._held(key)
            if view is None:
                loaded.views.pop(key, None)
            else:
                loaded.views[key] = view

    def _keys(self, kind: str, client_id: str | None = None) -> list[str]:
        """Partition keys of a kind: from the index sets for users and a client's apps, else
        (a query no partition key or index answers) by SCAN."""
        if kind == "user":
            return self._members(self._codec.user_indexes())
        if kind == "app" and client_id is not None:
            return self._members([self._codec.app_index(client_id)])
        return [k for k in self._scan(self._codec.pattern(kind)) if self._codec.is_partition(k)]

    def _views(self, key: str | None, kind: str) -> list[TokenCache]:
        if key is not None:
            return [self._view(key)]
        return [self._view(k) for k in self._keys(kind)]

    # -- writes -----------------------------------------------------------------------------

    def _change(self, changes: dict[str, Change], section: str, entry: Entry, now: int,
                remove: bool = False) -> None:
        key = self._codec.key_of_entry(section, entry)
        change = changes.get(key)
        if change is None:
            change = changes[key] = Change()
        name = self._codec.field(section, entry)
        if remove:
            change.deletes.append(name)
            return
        change.sets[name] = self._codec.encode(entry, name)
        change.entries[name] = (section, entry)
        change.ttl_ms = max(change.ttl_ms, self._codec.ttl_ms(section, entry, now))

    def add(self, event: Mapping[str, Any], now: float | None = None) -> None:
        """Store a token event's entries, each in its partition (see :class:`TokenCache`)."""
        if not isinstance(event, Mapping):
            raise TypeError(f"event must be a mapping, not {type(event).__name__}")
        when = self._now(now)
        changes: dict[str, Change] = {}
        for section, entry in build_entries(event, when):
            self._change(changes, section, entry, when)
        self._apply(changes, when)
        logger.debug("Cached a token event in %d partition(s)", len(changes))

    def modify(
        self,
        credential_type: str,
        old_entry: Mapping[str, Any],
        new_key_value_pairs: Mapping[str, Any] | None = None,
    ) -> None:
        """Update or remove one entry in its partition (see :class:`TokenCache`)."""
        now = self._now(None)
        changes: dict[str, Change] = {}
        if new_key_value_pairs:
            self._change(changes, credential_type, {**old_entry, **new_key_value_pairs}, now)
        else:
            self._change(changes, credential_type, dict(old_entry), now, remove=True)
        self._apply(changes, now)

    def forget_account(
        self, *, home_account_id: str, environments: Iterable[str] | str, client_id: str
    ) -> int:
        """Remove an account's entries from its partition, as :class:`TokenCache` does."""
        envs = _env_set(environments)
        metadata = self.get_app_metadata(client_id=client_id, environments=sorted(envs))
        family = (metadata or {}).get("family_id")
        view = self._view(self._codec.user_key(home_account_id))
        now = self._now(None)
        changes: dict[str, Change] = {}
        count = 0
        for section in (CredentialType.REFRESH_TOKEN, CredentialType.ACCESS_TOKEN,
                        CredentialType.ID_TOKEN, CredentialType.ACCOUNT):
            for entry in view._store.section(section).values():
                if norm(entry.get("environment")) not in envs or norm(
                        entry.get("home_account_id")) != norm(home_account_id):
                    continue
                if section == CredentialType.REFRESH_TOKEN and not (
                    norm(entry.get("client_id")) == client_id.lower()
                    or (family and entry.get("family_id") == family)
                ):
                    continue
                self._change(changes, section, entry, now, remove=True)
                count += 1
        self._apply(changes, now)
        return count

    def remove_app_tokens(
        self, *, client_id: str, environments: Iterable[str] | str | None = None
    ) -> int:
        """Remove a client's app-only access tokens from every tenant's partition."""
        envs = None if environments is None else _env_set(environments)
        now = self._now(None)
        changes: dict[str, Change] = {}
        count = 0
        for key in self._keys("app", client_id):
            for entry in self._view(key)._store.section(CredentialType.ACCESS_TOKEN).values():
                if norm(entry.get("client_id")) == client_id.lower() and (
                    envs is None or norm(entry.get("environment")) in envs
                ):
                    self._change(changes, CredentialType.ACCESS_TOKEN, entry, now, remove=True)
                    count += 1
        self._apply(changes, now)
        return count

    def _prune(self, changes: dict[str, Change], key: str, view: TokenCache, now: int) -> None:
        # Expired access tokens seen in a partition leave it with the next write to it.
        stale = expired_fields(view, now)
        if stale:
            changes.setdefault(key, Change()).deletes.extend(stale)

    # -- reads ------------------------------------------------------------------------------

    def search(
        self,
        credential_type: str,
        target: Iterable[str] | None = None,
        query: Mapping[str, Any] | None = None,
        *,
        now: float | None = None,
    ) -> Iterator[Entry]:
        """MSAL's search, in the one partition the query names (else in all of them)."""
        query = query or {}
        key = self._codec.key_of_query(credential_type, query)
        kind = "meta" if credential_type == CredentialType.APP_METADATA else "*"
        for view in self._views(key, kind):
            # Expired access tokens are dropped by the view; they expire in Redis by TTL.
            yield from view.search(credential_type, target, query, now=now)

    def find_access_token(
        self,
        *,
        client_id: str,
        environments: Iterable[str] | str,
        realm: str,
        scopes: Iterable[str],
        home_account_id: str | None,
        key_id: str | None = None,
        user_assertion_hash: str | None = None,
        ext_cache_key: str | None = None,
    ) -> Entry | None:
        """The AccessToken entry, read from its one partition (see :class:`TokenCache`)."""
        if user_assertion_hash:
            key = self._codec.obo_key(user_assertion_hash)
        elif home_account_id:
            key = self._codec.user_key(home_account_id)
        else:
            key = self._codec.app_key(client_id, realm)
        return self._view(key).find_access_token(
            client_id=client_id, environments=environments, realm=realm, scopes=scopes,
            home_account_id=home_account_id, key_id=key_id,
            user_assertion_hash=user_assertion_hash, ext_cache_key=ext_cache_key,
        )

    def find_refresh_tokens(
        self,
        *,
        home_account_id: str | None,
        environments: Iterable[str] | str,
        client_id: str | None = None,
        family_id: str | None = None,
        user_assertion_hash: str | None = None,
    ) -> list[Entry]:
        """The account's (or assertion's) RefreshToken entries from its partition."""
        if user_assertion_hash:
            key = self._codec.obo_key(user_assertion_hash)
        elif home_account_id:
            key = self._codec.user_key(home_account_id)
        else:
            return []
        return self._view(key).find_refresh_tokens(
            home_account_id=home_account_id, environments=environments, client_id=client_id,
            family_id=family_id, user_assertion_hash=user_assertion_hash,
        )

    def get_app_metadata(
        self, *, client_id: str, environments: Iterable[str] | str
    ) -> Entry | None:
        """The client's AppMetadata entry, from the client's metadata partition."""
        return self._view(self._codec.metadata_key(client_id)).get_app_metadata(
            client_id=client_id, environments=environments
        )

    def find_accounts(
        self,
        *,
        environments: Iterable[str] | str | None = None,
        username: str | None = None,
        home_account_id: str | None = None,
    ) -> list[Entry]:
        """Account entries: one partition with ``home_account_id``, else every user's (indexed)."""
        key = self._codec.user_key(home_account_id) if home_account_id else None
        found: list[Entry] = []
        for view in self._views(key, "user"):
            found += view.find_accounts(
                environments=environments, username=username, home_account_id=home_account_id
            )
        return found

    def find_id_token(
        self,
        *,
        home_account_id: str,
        environments: Iterable[str] | str,
        client_id: str,
        realm: str,
    ) -> Entry | None:
        """The account's IdToken entry, from its partition."""
        return self._view(self._codec.user_key(home_account_id)).find_id_token(
            home_account_id=home_account_id, environments=environments,
            client_id=client_id, realm=realm,
        )
