"""Silent token acquisition: cached access token, proactive refresh, FOCI and own RTs.

MSAL's silent algorithm (see entra-wire-facts.md, "Silent acquisition"): a token with under
5 minutes left is expired; ``refresh_on`` triggers a refresh that falls back to the still-valid
token on any failure; family refresh tokens (FOCI, family "1") are tried before the app's own.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .context import ClientContext, FlowError
from .discovery import AuthorityMetadata
from .extras import NO_EXTRAS, Extras
from .messages import Flow

__all__ = [
    "EXPIRY_MARGIN", "SilentPlan", "access_token_result", "cached_token", "flight_key", "lookup",
    "refresh", "usable",
]

logger = logging.getLogger("entra_auth.application")

EXPIRY_MARGIN = 300  # seconds: a token this close to expiry is not handed out
FAMILY_ID = "1"


def _int(value: object) -> int | None:
    try:
        return int(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else None
    except ValueError:
        return None


def usable(entry: dict[str, Any], now: float) -> bool:
    """True when a cached access token has more than :data:`EXPIRY_MARGIN` seconds left."""
    expires_on = _int(entry.get("expires_on"))
    return expires_on is not None and expires_on - now > EXPIRY_MARGIN and bool(
        entry.get("secret"))


def access_token_result(entry: dict[str, Any], now: float) -> dict[str, Any]:
    """MSAL's result for a cache hit."""
    result: dict[str, Any] = {
        "access_token": entry["secret"],
        "token_type": entry.get("token_type") or "Bearer",
        "expires_in": int((_int(entry.get("expires_on")) or 0) - now),
        "token_source": "cache",
    }
    refresh_on = _int(entry.get("refresh_on"))
    if refresh_on is not None:
        result["refresh_on"] = refresh_on
    return result


@dataclass(frozen=True)
class SilentPlan:
    """Outcome of the cache lookup: a hit (maybe due for refresh) or the need to refresh.

    ``key`` identifies the token (account, scopes, claims) for single-flight; it is built
    on first use, since a plain hit never needs it.
    """

    result: dict[str, Any] | None
    refresh_due: bool
    key_of: tuple[ClientContext, AuthorityMetadata, Sequence[str], object, str | None] = field(
        repr=False, compare=False
    )

    @property
    def key(self) -> tuple[str, ...]:
        return flight_key(*self.key_of)


def flight_key(
    ctx: ClientContext,
    metadata: AuthorityMetadata,
    scopes: Sequence[str],
    home_account_id: object,
    claims: str | None,
) -> tuple[str, ...]:
    """The single-flight key of a silent request: client, account, authority, scopes, claims."""
    return (
        ctx.client_id,
        str(home_account_id),
        metadata.environment,
        metadata.realm,
        " ".join(sorted(s.lower() for s in scopes)),
        claims or "",
    )


def cached_token(
    ctx: ClientContext,
    environments: Sequence[str],
    realm: str,
    scopes: Sequence[str],
    home_account_id: str | None,
    ext_cache_key: str | None = None,
) -> tuple[dict[str, Any], bool] | None:
    """A usable cached access token as MSAL's result, and whether its refresh is due; else None.

    No I/O: the silent and client-credentials flows call it, and so do the applications before
    building a flow at all.
    """
    now = ctx.clock()
    entry = find_access_token(
        ctx, environments, realm, scopes, home_account_id, ext_cache_key=ext_cache_key)
    if entry is None or not usable(entry, now):
        return None
    result = access_token_result(entry, now)
    refresh_on = result.get("refresh_on")
    return result, isinstance(refresh_on, int) and refresh_on < now


def lookup(
    ctx: ClientContext,
    metadata: AuthorityMetadata,
    environments: Sequence[str],
    scopes: Sequence[str],
    account: Mapping[str, Any] | None,
    *,
    force_refresh: bool = False,
    claims: str | None = None,
    ext_cache_key: str | None = None,
) -> SilentPlan:
    """Look in the cache (no I/O). The plan says whether a refresh is needed.

    ``ext_cache_key``: the caller's extras (forwarded claims) file tokens apart; they also
    set tokens apart for single-flight (folded into the key's claims part).
    """
    home = account.get("home_account_id") if account else None
    flight_claims = f"{claims or ''} ext={ext_cache_key}" if ext_cache_key else claims
    key_of = (ctx, metadata, scopes, home, flight_claims)
    if force_refresh or claims:
        return SilentPlan(None, True, key_of)
    hit = cached_token(
        ctx, environments, metadata.realm, scopes, home if isinstance(home, str) else None,
        ext_cache_key=ext_cache_key,
    )
    if hit is None:
        return SilentPlan(None, True, key_of)
    return SilentPlan(hit[0], hit[1], key_of)


GRAPH_PREFIX = "https://graph.microsoft.com/"
_GRAPH_PREFIX_LEN = len(GRAPH_PREFIX)


def _short_graph_spelling(scopes: tuple[str, ...]) -> tuple[str, ...] | None:
    # Entra answers Graph scopes in short form ("User.Read" for
    # "https://graph.microsoft.com/User.Read"), and the cache keeps the answer's spelling.
    if not any(s[:_GRAPH_PREFIX_LEN].lower() == GRAPH_PREFIX for s in scopes):
        return None
    return tuple(s[_GRAPH_PREFIX_LEN:] if s.lower().startswith(GRAPH_PREFIX) else s for s in scopes)


def find_access_token(
    ctx: ClientContext,
    environments: Sequence[str],
    realm: str,
    scopes: Sequence[str],
    home_account_id: str | None,
    user_assertion_hash: str | None = None,
    *,
    ext_cache_key: str | None = None,
) -> dict[str, Any] | None:
    """The cache's access token for these scopes, under either spelling of Graph scopes.

    The entry may be the cache's own (entra_auth's caches skip the copy here): read it only.
    With ``ext_cache_key`` only a token filed under that key matches; without, only one filed
    under none (a token got with ``fmi_path`` or forwarded claims is never handed out plain).
    """
    cache = ctx.cache
    find = getattr(cache, "_stored_access_token", None) or cache.find_access_token
    # Tuples: the cache remembers the lowercased set of a tuple it has seen.
    envs = tuple(environments)
    wanted = tuple(scopes)
    ext: dict[str, str] = {"ext_cache_key": ext_cache_key} if ext_cache_key else {}
    entry: dict[str, Any] | None = find(
        client_id=ctx.client_id, environments=envs, realm=realm, scopes=wanted,
        home_account_id=home_account_id, user_assertion_hash=user_assertion_hash, **ext,
    )
    if entry is None:
        short = _short_graph_spelling(wanted)  # the other spelling, only when the first missed
        if short is not None:
            entry = find(
                client_id=ctx.client_id, environments=envs, realm=realm, scopes=short,
                home_account_id=home_account_id, user_assertion_hash=user_assertion_hash, **ext,
            )
    return entry


def _stop_trying(result: dict[str, Any]) -> bool:
    # A server or network failure is not about this RT: trying older RTs won't help.
    if result.get("error") in ("transport_error", "server_error", "temporarily_unavailable",
                               "too_many_requests", "invalid_response"):
        return True
    info = result.get("error_additional_info")
    return result.get("suberror") == "client_mismatch" or (
        isinstance(info, list) and "client_mismatch" in info
    )


def _try_rts(
    ctx: ClientContext,
    metadata: AuthorityMetadata,
    rts: list[dict[str, Any]],
    scopes: list[str],
    claims: str | None,
    extras: Extras,
) -> Flow[dict[str, Any] | None]:
    from .grants.refresh import redeem_cached  # grants import this module's helpers

    last: dict[str, Any] | None = None
    for rt in rts:
        try:
            last = yield from redeem_cached(ctx, metadata, rt, scopes, claims=claims,
                                            extras=extras)
        except FlowError as exc:  # network failure: the caller may still have a valid AT
            last = exc.result
        if "error" not in last:
            return last
        if _stop_trying(last):
            break
    return last


def refresh(
    ctx: ClientContext,
    metadata: AuthorityMetadata,
    environments: Sequence[str],
    decorated_scopes: list[str],
    account: dict[str, Any] | None,
    plan: SilentPlan,
    *,
    claims: str | None = None,
    extras: Extras = NO_EXTRAS,
) -> Flow[dict[str, Any] | None]:
    """Refresh with family then own RTs; fall back to the plan's still-valid token.

    Returns the new token, the fallback token, an error dict, or None (no RT at all).
    """
    home = (account or {}).get("home_account_id")
    if not isinstance(home, str) or not home:
        return plan.result
    envs = list(environments)
    metadata_entry = ctx.cache.get_app_metadata(client_id=ctx.client_id, environments=envs)
    family_result: dict[str, Any] | None = None
    if not metadata_entry or metadata_entry.get("family_id"):
        family_rts = ctx.cache.find_refresh_tokens(
            home_account_id=home, environments=envs, family_id=FAMILY_ID
        )
        family_result = yield from _try_rts(
            ctx, metadata, family_rts, decorated_scopes, claims, extras)
        if family_result is not None and "error" not in family_result:
            return family_result
    own_rts = [
        rt for rt in ctx.cache.find_refresh_tokens(
            home_account_id=home, environments=envs, client_id=ctx.client_id)
        if not (family_result is not None and rt.get("family_id"))
    ]
    result = yield from _try_rts(ctx, metadata, own_rts, decorated_scopes, claims, extras)
    if result is None and metadata_entry and metadata_entry.get("family_id"):
        result = family_result
    if result is not None and "error" not in result:
        return result
    if plan.result is not None:
        logger.info("Proactive refresh failed (%s); using the still-valid cached token",
                    (result or {}).get("error"))
        return plan.result
    if result is not None and result.get("suberror"):
        result["classification"] = {
            "bad_token": "", "token_expired": "", "protection_policy_required": "",
            "client_mismatch": "", "device_authentication_failed": "",
        }.get(result["suberror"], result["suberror"])
    return result
