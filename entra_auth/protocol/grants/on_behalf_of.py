"""On-behalf-of grant, with the cache partitioned by a hash of the user assertion.

RFC 7523 JWT bearer grant with Entra's ``requested_token_use=on_behalf_of``. Like MSAL .NET,
a repeated assertion is answered from the cache (MSAL Python always calls the network).
"""

from __future__ import annotations

from typing import Any

from ...cache.schema import assertion_hash
from ..claims import merge_claims
from ..context import ClientContext, FlowError
from ..discovery import AuthorityMetadata
from ..extras import NO_EXTRAS, Extras
from ..messages import Flow
from ..silent import access_token_result, find_access_token, usable
from .common import obtain
from .refresh import redeem_cached

__all__ = ["JWT_BEARER_GRANT", "acquire", "assertion_hash", "cached"]

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def cached(
    ctx: ClientContext, metadata: AuthorityMetadata, digest: str, scopes: list[str],
    extras: Extras = NO_EXTRAS,
) -> tuple[dict[str, Any], bool] | None:
    """The cached token for an assertion hash and whether it is due for a proactive refresh.

    None when no usable token is cached. No I/O: the single-flight check runs it first.
    ``extras``: only a token got with the same extras (their extended cache key) matches.
    """
    now = ctx.clock()
    entry = find_access_token(ctx, [metadata.environment], metadata.realm, scopes, None, digest,
                              ext_cache_key=extras.ext_cache_key)
    if entry is None or not usable(entry, now):
        return None
    result = access_token_result(entry, now)
    refresh_on = result.get("refresh_on")
    return result, isinstance(refresh_on, int) and refresh_on < now


def acquire(
    ctx: ClientContext,
    metadata: AuthorityMetadata,
    user_assertion: str,
    scopes: list[str],
    decorated_scopes: list[str],
    *,
    claims_challenge: str | None = None,
    extras: Extras = NO_EXTRAS,
    force_refresh: bool = False,
) -> Flow[dict[str, Any]]:
    """Cached token for this assertion, else its cached RT, else the OBO exchange.

    ``extras`` (``data``, forwarded claims) are sent and key the cached access token.
    ``force_refresh`` (a resource rejected the cached token) skips the cached access token
    but still redeems the cached refresh token.
    """
    if not isinstance(user_assertion, str) or not user_assertion:
        raise ValueError("user_assertion must be a non-empty string")
    digest = assertion_hash(user_assertion)
    claims = merge_claims(claims_challenge, ctx.client_capabilities)
    fallback: dict[str, Any] | None = None
    if not claims_challenge:
        hit = None if force_refresh else cached(ctx, metadata, digest, scopes, extras)
        if hit is not None:
            fallback, refresh_due = hit
            if not refresh_due:
                return fallback
        for rt in ctx.cache.find_refresh_tokens(
            home_account_id=None,
            environments=[metadata.environment],
            client_id=ctx.client_id,
            user_assertion_hash=digest,
        )[:1]:
            try:
                result = yield from redeem_cached(
                    ctx, metadata, rt, decorated_scopes, claims=claims,
                    user_assertion_hash=digest, extras=extras,
                )
            except FlowError:  # the request failed: keep the still-valid token, if any
                if fallback is None:
                    raise
                return fallback
            if "error" not in result:
                return result
            if fallback is not None and result.get("error") != "invalid_grant":
                # The service is failing (5xx, throttled, garbage): don't send the assertion
                # straight after; keep the still-valid token.
                return fallback
    try:
        result = yield from obtain(
            ctx,
            metadata,
            JWT_BEARER_GRANT,
            {**extras.form, "assertion": user_assertion,
             "requested_token_use": "on_behalf_of"},
            scopes=decorated_scopes,
            claims=extras.claims(claims),
            user_assertion_hash=digest,
            cache_fields=extras.cache_fields,
        )
    except FlowError:
        if fallback is None:
            raise
        return fallback  # a failed proactive refresh keeps the still-valid token
    if "error" in result and fallback is not None:
        return fallback
    return result
