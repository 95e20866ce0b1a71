"""TokenCache: MSAL's in-memory token cache (unified schema), indexed for O(1) lookups.

Public methods and behaviour follow msal 1.39's ``msal.token_cache.TokenCache``; the keyword-only
``find_*`` / ``get_app_metadata`` / removal methods are entra_auth's indexed lookup API.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from types import TracebackType
from typing import Any

from .schema import (
    AuthorityType,
    CredentialType,
    Entry,
    build_entries,
    lowered,
    make_key_makers,
)
from .store import EntryStore, norm

__all__ = ["TokenCache"]

logger = logging.getLogger("entra_auth.cache")

_MISSING = object()


def _wall_clock() -> float:
    return datetime.now(timezone.utc).timestamp()


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _is_subdict(small: Mapping[str, Any], big: Mapping[str, Any]) -> bool:
    for name, value in small.items():
        present = big.get(name, _MISSING)
        if present is not value and present != value:
            return False
    return True


def _env_set(environments: Iterable[str] | str) -> frozenset[str]:
    if isinstance(environments, str):
        return frozenset((environments.lower(),))
    return lowered(environments)


class _Operation:
    """Runs the persistence hooks around the outermost cache operation of a thread."""

    __slots__ = ("_cache", "_outer", "_write")

    def __init__(self, cache: TokenCache, write: bool) -> None:
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


class TokenCache:
    """MSAL-compatible token cache in memory (MSAL's unified schema), indexed by account.

    Drop-in for ``msal.TokenCache``: the same constants, ``add``, ``search``, ``find``,
    ``modify`` and ``remove_*``/``update_rt`` methods, producing the same entries. On top, the
    keyword-only lookups (:meth:`find_access_token`, :meth:`find_refresh_tokens`,
    :meth:`get_app_metadata`, :meth:`find_accounts`, :meth:`find_id_token`) and removals
    (:meth:`forget_account`, :meth:`remove_app_tokens`) use in-memory indexes, so their cost
    does not grow with the number of cached users. :meth:`search` uses the same indexes when
    its query names ``home_account_id`` (or ``user_assertion_hash``).

    Thread safety: each operation holds an internal lock briefly; the lock is never held while
    calling hooks or an overridden :meth:`modify`. Returned entries are copies.

    Persistence hooks, for subclasses that keep the cache in a file or a database: every public
    operation, MSAL-style or indexed, calls ``_before_read()`` before it reads, or
    ``_before_write()`` before and ``_after_write()`` after it changes the cache
    (``_after_write`` runs even when the change failed, so a lock taken in ``_before_write``
    is released). Only the outermost operation of a thread calls them (``add`` is one write,
    not five), and never under the internal lock, so they may do I/O and call
    ``deserialize``/``serialize`` (which do not call hooks). The defaults do nothing.
    """

    CredentialType = CredentialType
    AuthorityType = AuthorityType

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
        return type(self).modify is not TokenCache.modify

    def _now(self, now: float | None) -> int:
        return int(self._clock() if now is None else now)

    # -- MSAL API ---------------------------------------------------------------------------

    def add(self, event: Mapping[str, Any], now: float | None = None) -> None:
        """Store the tokens of a token response event, as MSAL does.

        Args:
            event: MSAL's token event (``client_id``, ``scope``, ``token_endpoint``,
                ``environment``, ``response``, ``data``, ``grant_type``, ...). A top-level
                ``user_assertion_hash`` (base64url SHA-256 of an on-behalf-of assertion)
                partitions the access and refresh token by that assertion.
            now: the current time in epoch seconds (default: the cache's clock).

        Raises:
            ValueError: the event is malformed; the cache is left unchanged.
        """
        if not isinstance(event, Mapping):
            raise TypeError(f"event must be a mapping, not {type(event).__name__}")
        entries = build_entries(event, self._now(now))
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "Caching %s for client_id=%s grant_type=%s environment=%s scopes=%s",
                "+".join(section for section, _ in entries),
                event.get("client_id"), event.get("grant_type"),
                entries[-1][1].get("environment"), event.get("scope"),
            )
        with self._operation(write=True):
            if self._modify_is_overridden():
                for section, entry in entries:  # let the subclass see every change
                    self.modify(section, entry, entry)
            else:
                with self._lock:
                    for section, entry in entries:
                        self._store.put(section, self._key(section, entry), entry)
            self._mark_changed()

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

    def _check_type(self, item: Mapping[str, Any], expected: str) -> None:
        if not isinstance(item, Mapping) or item.get("credential_type") != expected:
            raise ValueError(f"expected a cache entry with credential_type {expected!r}")

    def remove_rt(self, rt_item: Mapping[str, Any]) -> None:
        """Remove a refresh token entry."""
        self._check_type(rt_item, CredentialType.REFRESH_TOKEN)
        self.modify(CredentialType.REFRESH_TOKEN, rt_item)

    def update_rt(self, rt_item: Mapping[str, Any], new_rt: str) -> None:
        """Replace a refresh token entry's secret and stamp its modification time."""
        self._check_type(rt_item, CredentialType.REFRESH_TOKEN)
        self.modify(
            CredentialType.REFRESH_TOKEN,
            rt_item,
            {"secret": new_rt, "last_modification_time": str(self._now(None))},
        )

    def remove_at(self, at_item: Mapping[str, Any]) -> None:
        """Remove an access token entry."""
        self._check_type(at_item, CredentialType.ACCESS_TOKEN)
        self.modify(CredentialType.ACCESS_TOKEN, at_item)

    def remove_idt(self, idt_item: Mapping[str, Any]) -> None:
        """Remove an ID token entry."""
        self._check_type(idt_item, CredentialType.ID_TOKEN)
        self.modify(CredentialType.ID_TOKEN, idt_item)

    def remove_account(self, account_item: Mapping[str, Any]) -> None:
        """Remove an Account entry (not its tokens; see :meth:`forget_account`)."""
        if not isinstance(account_item, Mapping) or "authority_type" not in account_item:
            raise ValueError("expected an Account cache entry (with authority_type)")
        self.modify(CredentialType.ACCOUNT, account_item)

    def search(
        self,
        credential_type: str,
        target: Iterable[str] | None = None,
        query: Mapping[str, Any] | None = None,
        *,
        now: float | None = None,
    ) -> Iterator[Entry]:
        """Yield entries of a section that contain ``query`` and whose target covers ``target``.

        As in MSAL: ``query`` values must equal the entry's (``environment`` compared
        lowercased), access tokens expired at ``now`` are not yielded and are removed once
        the generator is exhausted, and an access token with an extended cache key only
        matches a query that names one. Indexed when ``query`` names ``home_account_id`` or
        ``user_assertion_hash``; otherwise the section is scanned.
        """
        targets = sorted(target or [])
        with self._operation(write=False), self._lock:
            results, expired = self._search_locked(
                credential_type, targets, query, self._now(now)
            )
        for entry in results:
            yield dict(entry)
        for entry in expired:  # MSAL removes them only when the caller read to the end
            self.remove_at(entry)

    def _search_locked(
        self,
        credential_type: str,
        targets: list[str],
        query: Mapping[str, Any] | None,
        now: int,
    ) -> tuple[list[Entry], list[Entry]]:
        query = query or {}
        matchable = {
            name: value.lower() if name == "environment" and isinstance(value, str) else value
            for name, value in query.items()
        }
        entries = self._store.section(credential_type)
        is_at = credential_type == CredentialType.ACCESS_TOKEN
        results: list[Entry] = []
        preferred: Entry | None = None
        if is_at and targets and all(
            name in query for name in ("home_account_id", "environment", "client_id", "realm")
        ):  # an exact key names at most one entry: it comes first, as in MSAL
            preferred = entries.get(self._key(credential_type, {
                "home_account_id": query["home_account_id"],
                "environment": query["environment"],
                "client_id": query["client_id"],
                "realm": query["realm"],
                "target": " ".join(targets),
                "ext_cache_key": query.get("ext_cache_key"),
            }))
            if preferred is not None and _is_subdict(matchable, preferred):
                results.append(preferred)
        keys = self._store.candidates(credential_type, query) if query else None
        candidates: Iterable[Entry] = (
            entries.values() if keys is None
            else [entries[key] for key in keys if key in entries]
        )
        wanted = set(targets)
        expired: list[Entry] = []
        for entry in candidates:
            if is_at:
                expires_on = _as_int(entry.get("expires_on"))
                if expires_on is not None and expires_on < now:
                    expired.append(entry)
                    continue
            if preferred is not None and entry == preferred:
                continue
            if not _is_subdict(matchable, entry):
                continue
            if wanted:
                target = entry.get("target")
                if not wanted <= set(target.split() if isinstance(target, str) else ()):
                    continue
            if is_at and "ext_cache_key" in entry and "ext_cache_key" not in query:
                continue
            results.append(entry)
        return results, expired

    def find(
        self,
        credential_type: str,
        target: Iterable[str] | None = None,
        query: Mapping[str, Any] | None = None,
        *,
        now: float | None = None,
    ) -> list[Entry]:
        """Deprecated, as in MSAL: ``list(search(...))``."""
        warnings.warn(
            "Use list(search(...)) instead to explicitly get a list.",
            DeprecationWarning,
            stacklevel=2,
        )
        return list(self.search(credential_type, target=target, query=query, now=now))

    def _get_app_metadata(
        self, environment: str, client_id: str, default: Entry | None = None
    ) -> Entry | None:
        # msal's application classes call this private method; having it lets a real
        # msal.ClientApplication run on this cache (tested against the emulator).
        found = self.get_app_metadata(client_id=client_id, environments=[environment])
        return default if found is None else found

    # -- indexed lookups --------------------------------------------------------------------

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
        """Return the cached AccessToken entry for an account and scopes, or None. O(1).

        Expiry is not judged here: check ``expires_on`` / ``refresh_on`` with your clock.

        Args:
            client_id: the application.
            environments: the authority host and its aliases; any of them matches.
            realm: the tenant (the authority's, not the token's ``tid``).
            scopes: the requested scopes; the entry's target must contain all of them
                (compared case-insensitively).
            home_account_id: the account, or ``""``/None for app-only tokens. With
                ``user_assertion_hash`` it may be None to look up by assertion alone.
            key_id: the key an SSH certificate or PoP token is bound to; entries bound to
                a key only match that key, and unbound entries only ``key_id=None``.
            user_assertion_hash: an on-behalf-of partition; when given only entries of that
                assertion match, when None the entry's partition is not checked.
            ext_cache_key: the extended cache key (see ``compute_ext_cache_key``); matched
                exactly, None matching only entries without one.

        Returns:
            A copy of the entry with the latest ``expires_on`` among the matches, or None.
        """
        envs = _env_set(environments)
        wanted = lowered(scopes.split() if isinstance(scopes, str) else scopes)
        client = client_id.lower()
        tenant = realm.lower()
        account = norm(home_account_id)
        by_assertion = bool(user_assertion_hash) and home_account_id is None
        best: Entry | None = None
        best_expiry = 0
        with self._operation(write=False), self._lock:
            store = self._store
            if by_assertion:
                found = store.lookup(
                    CredentialType.ACCESS_TOKEN, ("user_assertion_hash",), (user_assertion_hash,)
                )
            else:
                found = store.lookup(
                    CredentialType.ACCESS_TOKEN,
                    ("home_account_id", "client_id", "realm"),
                    (home_account_id, client_id, realm),
                )
            for key, entry in found:
                if (
                    norm(entry.get("environment")) not in envs
                    or norm(entry.get("client_id")) != client
                    or norm(entry.get("realm")) != tenant
                    or (not by_assertion and norm(entry.get("home_account_id")) != account)
                    or entry.get("key_id") != key_id
                    or (entry.get("ext_cache_key") or None) != (ext_cache_key or None)
                    or (
                        user_assertion_hash
                        and entry.get("user_assertion_hash") != user_assertion_hash
                    )
                    or not wanted <= store.at_scopes.get(key, frozenset())
                ):
                    continue
                expiry = _as_int(entry.get("expires_on"))
                if expiry is not None and (best is None or expiry > best_expiry):
                    best, best_expiry = entry, expiry
            return dict(best) if best is not None else None

    def find_refresh_tokens(
        self,
        *,
        home_account_id: str | None,
        environments: Iterable[str] | str,
        client_id: str | None = None,
        family_id: str | None = None,
        user_assertion_hash: str | None = None,
    ) -> list[Entry]:
        """Return an account's RefreshToken entries, newest first. O(1) in cached users.

        Args:
            home_account_id: the account (may be None when ``user_assertion_hash`` is given).
            environments: the authority host and its aliases.
            client_id: keep tokens of this client ...
            family_id: ... or of this family (FOCI, e.g. ``"1"``). Both None: every client.
            user_assertion_hash: only tokens of this on-behalf-of assertion (None: any).

        Returns:
            Copies, by ``last_modification_time`` descending, newer insertions first on ties.
        """
        envs = _env_set(environments)
        by_assertion = bool(user_assertion_hash) and home_account_id is None
        account = norm(home_account_id)
        client = client_id.lower() if client_id else None
        matches: list[tuple[int, int, Entry]] = []
        with self._operation(write=False), self._lock:
            if by_assertion:
                found = self._store.lookup(
                    CredentialType.REFRESH_TOKEN, ("user_assertion_hash",), (user_assertion_hash,)
                )
            else:
                found = self._store.lookup(
                    CredentialType.REFRESH_TOKEN, ("home_account_id",), (home_account_id,)
                )
            for position, (_, entry) in enumerate(found):
                if norm(entry.get("environment")) not in envs:
                    continue
                if not by_assertion and norm(entry.get("home_account_id")) != account:
                    continue
                if user_assertion_hash and entry.get("user_assertion_hash") != user_assertion_hash:
                    continue
                if (client is not None or family_id is not None) and not (
                    (client is not None and norm(entry.get("client_id")) == client)
                    or (family_id is not None and entry.get("family_id") == family_id)
                ):
                    continue
                modified = _as_int(entry.get("last_modification_time")) or 0
                matches.append((modified, position, dict(entry)))
        matches.sort(key=lambda match: (match[0], match[1]), reverse=True)
        return [entry for _, _, entry in matches]

    def get_app_metadata(
        self, *, client_id: str, environments: Iterable[str] | str
    ) -> Entry | None:
        """Return the AppMetadata entry of a client (``family_id`` tells FOCI membership).

        Args:
            client_id: the application.
            environments: hosts to try, in order of preference.
        """
        order = [environments] if isinstance(environments, str) else list(environments)
        with self._operation(write=False), self._lock:
            found = [
                entry for _, entry in self._store.lookup(
                    CredentialType.APP_METADATA, ("client_id",), (client_id,)
                )
            ]
            for environment in order:
                wanted = norm(environment)
                for entry in found:
                    if norm(entry.get("environment")) == wanted:
                        return dict(entry)
        return None

    def find_accounts(
        self,
        *,
        environments: Iterable[str] | str | None = None,
        username: str | None = None,
        home_account_id: str | None = None,
    ) -> list[Entry]:
        """Return Account entries, in insertion order.

        Indexed by ``username`` (compared case-insensitively) and ``home_account_id``;
        with neither, the Account section is listed.

        Args:
            environments: keep accounts of these hosts (None: any).
            username: keep accounts with this username.
            home_account_id: keep this account's entries (one per tenant it signed in to).
        """
        envs = None if environments is None else _env_set(environments)
        with self._operation(write=False), self._lock:
            if home_account_id is not None:
                found: Iterable[Entry] = [e for _, e in self._store.lookup(
                    CredentialType.ACCOUNT, ("home_account_id",), (home_account_id,))]
            elif username is not None:
                found = [e for _, e in self._store.lookup(
                    CredentialType.ACCOUNT, ("username",), (username,))]
            else:
                found = self._store.section(CredentialType.ACCOUNT).values()
            return [
                dict(entry) for entry in found
                if (envs is None or norm(entry.get("environment")) in envs)
                and (username is None or norm(entry.get("username")) == username.lower())
                and (
                    home_account_id is None
                    or norm(entry.get("home_account_id")) == norm(home_account_id)
                )
            ]

    def find_id_token(
        self,
        *,
        home_account_id: str,
        environments: Iterable[str] | str,
        client_id: str,
        realm: str,
    ) -> Entry | None:
        """Return the IdToken entry of an account for a client and tenant, or None. O(1)."""
        envs = _env_set(environments)
        with self._operation(write=False), self._lock:
            for _, entry in self._store.lookup(
                CredentialType.ID_TOKEN, ("home_account_id",), (home_account_id,)
            ):
                if (
                    norm(entry.get("environment")) in envs
                    and norm(entry.get("client_id")) == client_id.lower()
                    and norm(entry.get("realm")) == realm.lower()
                ):
                    return dict(entry)
        return None

    # -- indexed removals -------------------------------------------------------------------

    def forget_account(
        self, *, home_account_id: str, environments: Iterable[str] | str, client_id: str
    ) -> int:
        """Sign an account out of a client and forget it, as MSAL's ``remove_account`` does.

        Removes, in the given environments, the account's refresh tokens issued to
        ``client_id`` or to its token family (per the client's AppMetadata), and all of the
        account's access tokens, ID tokens and Account entries (any client, any tenant).

        Returns:
            The number of entries removed.
        """
        envs = _env_set(environments)
        client = client_id.lower()
        account = norm(home_account_id)
        doomed: list[tuple[str, str, Entry]] = []
        with self._operation(write=True):
            with self._lock:
                metadata = self.get_app_metadata(client_id=client_id, environments=sorted(envs))
                family = (metadata or {}).get("family_id")
                for section in (
                    CredentialType.REFRESH_TOKEN, CredentialType.ACCESS_TOKEN,
                    CredentialType.ID_TOKEN, CredentialType.ACCOUNT,
                ):
                    for key, entry in self._store.lookup(
                        section, ("home_account_id",), (home_account_id,)
                    ):
                        if (
                            norm(entry.get("environment")) not in envs
                            or norm(entry.get("home_account_id")) != account
                        ):
                            continue
                        if section == CredentialType.REFRESH_TOKEN and not (
                            norm(entry.get("client_id")) == client
                            or (family and entry.get("family_id") == family)
                        ):
                            continue
                        doomed.append((section, key, entry))
            self._remove(doomed)
        logger.debug("Removed %d cache entries of one account", len(doomed))
        return len(doomed)

    def remove_app_tokens(
        self, *, client_id: str, environments: Iterable[str] | str | None = None
    ) -> int:
        """Remove a client's app-only access tokens (those with no ``home_account_id``).

        MSAL's ``remove_tokens_for_client()``; client-credential grants cache no other entry.

        Args:
            client_id: the application.
            environments: only in these hosts (None: any).

        Returns:
            The number of entries removed.
        """
        envs = None if environments is None else _env_set(environments)
        client = client_id.lower()
        doomed: list[tuple[str, str, Entry]] = []
        with self._operation(write=True):
            with self._lock:
                for key, entry in self._store.lookup(
                    CredentialType.ACCESS_TOKEN, ("home_account_id",), (None,)
                ):
                    if norm(entry.get("client_id")) == client and (
                        envs is None or norm(entry.get("environment")) in envs
                    ):
                        doomed.append((CredentialType.ACCESS_TOKEN, key, entry))
            self._remove(doomed)
        return len(doomed)

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
