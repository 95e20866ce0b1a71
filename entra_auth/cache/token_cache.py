"""TokenCache: MSAL's in-memory token cache (unified schema), indexed for O(1) lookups.

Public methods and behaviour follow msal 1.39's ``msal.token_cache.TokenCache``; the keyword-only
``find_*`` / ``get_app_metadata`` / removal methods (``lookups.py``) are entra_auth's indexed API.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .base import as_int, is_subdict
from .lookups import IndexedLookups
from .schema import AuthorityType, CredentialType, Entry, build_entries

__all__ = ["TokenCache"]

logger = logging.getLogger("entra_auth.cache")

# Request fields whose values are logged; every other value (secrets, codes, assertions,
# claims, which may carry user data) shows as ******** so the log says which were present.
_LOGGED_FIELDS = frozenset({"client_id", "grant_type", "scope", "client_info", "redirect_uri",
                            "requested_token_use", "token_type"})


def _masked_fields(data: object) -> str:
    if not isinstance(data, Mapping):
        return "{}"
    shown = {str(name): (str(value) if name in _LOGGED_FIELDS else "********")
             for name, value in data.items()}
    return "{" + ", ".join(f"{name}={shown[name]}" for name in sorted(shown)) + "}"


class TokenCache(IndexedLookups):
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

    ``TokenCache()`` takes no arguments, as in MSAL; the keyword-only ``clock`` (a callable
    returning epoch seconds) replaces the system clock where no ``now`` is passed.
    """

    CredentialType = CredentialType
    AuthorityType = AuthorityType

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
                "Caching %s for client_id=%s grant_type=%s environment=%s scopes=%s "
                "request fields=%s",
                "+".join(section for section, _ in entries),
                event.get("client_id"), event.get("grant_type"),
                entries[-1][1].get("environment"), event.get("scope"),
                _masked_fields(event.get("data")),
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
            if preferred is not None and is_subdict(matchable, preferred):
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
                expires_on = as_int(entry.get("expires_on"))
                if expires_on is not None and expires_on < now:
                    expired.append(entry)
                    continue
            if preferred is not None and entry == preferred:
                continue
            if not is_subdict(matchable, entry):
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

