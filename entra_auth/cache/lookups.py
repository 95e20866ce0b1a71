"""Indexed lookups and removals of the token cache: O(1) in the number of cached users.

The keyword-only API entra_auth's application layer calls (find an access token, refresh
tokens, app metadata, accounts, ID tokens; forget an account; drop app-only tokens).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from .base import CacheCore, as_int, env_set, lowered_tuple
from .entry_store import norm
from .schema import CredentialType, Entry, lowered

__all__ = ["IndexedLookups"]

logger = logging.getLogger("entra_auth.cache")



class IndexedLookups(CacheCore):
    """The indexed lookup API; see :class:`~entra_auth.cache.TokenCache`."""

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
        return self._access_token(
            client_id, environments, realm, scopes, home_account_id, key_id,
            user_assertion_hash, ext_cache_key, copy=True,
        )

    def _stored_access_token(
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
        """:meth:`find_access_token` without the copy: the stored entry, not to be changed.

        The applications' cache-hit path only reads a few fields; a copy touches every one
        (about 1 us per hit at 100k cached users). A subclass's find_access_token is obeyed.
        """
        if type(self).find_access_token is not IndexedLookups.find_access_token:
            return self.find_access_token(
                client_id=client_id, environments=environments, realm=realm, scopes=scopes,
                home_account_id=home_account_id, key_id=key_id,
                user_assertion_hash=user_assertion_hash, ext_cache_key=ext_cache_key,
            )
        return self._access_token(
            client_id, environments, realm, scopes, home_account_id, key_id,
            user_assertion_hash, ext_cache_key, copy=False,
        )

    def _access_token(
        self,
        client_id: str,
        environments: Iterable[str] | str,
        realm: str,
        scopes: Iterable[str],
        home_account_id: str | None,
        key_id: str | None,
        user_assertion_hash: str | None,
        ext_cache_key: str | None,
        *,
        copy: bool,
    ) -> Entry | None:
        envs = env_set(environments)
        if type(scopes) is tuple:
            wanted = lowered_tuple(scopes)
        else:
            wanted = lowered(scopes.split() if isinstance(scopes, str) else scopes)
        if user_assertion_hash and home_account_id is None:
            return self._find_access_token_by_assertion(
                client_id, envs, realm, wanted, key_id, user_assertion_hash, ext_cache_key
            )
        # The index key is normalized like store.norm (lowercase; None and "" alike), so
        # every entry in the bucket has this account, client and realm: no per-entry check.
        index_key = (norm(home_account_id), client_id.lower(), realm.lower())
        ext = ext_cache_key or None
        if type(self)._before_read is CacheCore._before_read:  # no hook: skip its bookkeeping
            with self._lock:
                best = self._best_access_token(
                    index_key, envs, wanted, key_id, user_assertion_hash, ext
                )
        else:
            with self._operation(write=False), self._lock:
                best = self._best_access_token(
                    index_key, envs, wanted, key_id, user_assertion_hash, ext
                )
        # Entries are replaced, never changed in place, so the stored one may be handed out.
        return dict(best) if copy and best is not None else best

    def _best_access_token(
        self,
        index_key: tuple[Any, str, str],
        envs: frozenset[str],
        wanted: frozenset[str],
        key_id: str | None,
        user_assertion_hash: str | None,
        ext: str | None,
    ) -> Entry | None:
        # The silent hot path: a few dict reads per candidate (usually one), called locked.
        store = self._store
        entries = store.section(CredentialType.ACCESS_TOKEN)
        scopes_of = store.scopes_of
        best: Entry | None = None
        best_expiry = 0
        for key in store.at_by_account.keys(index_key):
            entry = entries.get(key)
            if entry is None:
                continue
            environment = entry.get("environment")
            if (type(environment) is not str or environment not in envs) and norm(
                environment
            ) not in envs:
                continue
            if (
                entry.get("key_id") != key_id
                or (entry.get("ext_cache_key") or None) != ext
                or (user_assertion_hash and entry.get("user_assertion_hash") != user_assertion_hash)
                or not wanted <= scopes_of(entry.get("target"))
            ):
                continue
            expiry = as_int(entry.get("expires_on"))
            if expiry is not None and (best is None or expiry > best_expiry):
                best, best_expiry = entry, expiry
        return best

    def _find_access_token_by_assertion(
        self,
        client_id: str,
        envs: frozenset[str],
        realm: str,
        wanted: frozenset[str],
        key_id: str | None,
        user_assertion_hash: str,
        ext_cache_key: str | None,
    ) -> Entry | None:
        client = client_id.lower()
        tenant = realm.lower()
        best: Entry | None = None
        best_expiry = 0
        with self._operation(write=False), self._lock:
            store = self._store
            found = store.lookup(
                CredentialType.ACCESS_TOKEN, ("user_assertion_hash",), (user_assertion_hash,)
            )
            for _, entry in found:
                if (
                    norm(entry.get("environment")) not in envs
                    or norm(entry.get("client_id")) != client
                    or norm(entry.get("realm")) != tenant
                    or entry.get("key_id") != key_id
                    or (entry.get("ext_cache_key") or None) != (ext_cache_key or None)
                    or entry.get("user_assertion_hash") != user_assertion_hash
                    or not wanted <= store.scopes_of(entry.get("target"))
                ):
                    continue
                expiry = as_int(entry.get("expires_on"))
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
        envs = env_set(environments)
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
                modified = as_int(entry.get("last_modification_time")) or 0
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
        envs = None if environments is None else env_set(environments)
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
        envs = env_set(environments)
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
        envs = env_set(environments)
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
        envs = None if environments is None else env_set(environments)
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

