"""Refresh token grant: migrating an RT in from elsewhere, and redeeming a cached RT.

RFC 6749 section 6. A migrated RT is stored in the cache (with its account); a cached RT that
is redeemed is updated in place, as MSAL does.
"""

from __future__ import annotations

from typing import Any

from ..claims import merge_claims
from ..context import ClientContext
from ..discovery import AuthorityMetadata
from ..extras import NO_EXTRAS, Extras
from ..messages import Flow
from .common import obtain

__all__ = ["migrate", "redeem_cached"]


def migrate(
    ctx: ClientContext,
    metadata: AuthorityMetadata,
    refresh_token: str,
    scopes: list[str],
    *,
    claims_challenge: str | None = None,
) -> Flow[dict[str, Any]]:
    """Redeem an RT obtained elsewhere (e.g. ADAL) and cache what comes back."""
    if not isinstance(refresh_token, str) or not refresh_token:
        raise ValueError("refresh_token must be a non-empty string")
    return (
        yield from obtain(
            ctx,
            metadata,
            "refresh_token",
            {"refresh_token": refresh_token},
            scopes=scopes,
            claims=merge_claims(claims_challenge, ctx.client_capabilities),
        )
    )


def redeem_cached(
    ctx: ClientContext,
    metadata: AuthorityMetadata,
    rt_item: dict[str, Any],
    scopes: list[str],
    *,
    claims: str | None,
    user_assertion_hash: str | None = None,
    extras: Extras = NO_EXTRAS,
) -> Flow[dict[str, Any]]:
    """Redeem a cached RT entry; on success cache the tokens and rotate the RT in place.

    ``claims`` is the flow's; ``extras`` adds the caller's form fields and forwarded claims.
    """
    extra: dict[str, Any] = {"skip_account_creation": True}
    if user_assertion_hash:
        extra["user_assertion_hash"] = user_assertion_hash
    result = yield from obtain(
        ctx,
        metadata,
        "refresh_token",
        {**extras.form, "refresh_token": str(rt_item.get("secret", ""))},
        scopes=scopes,
        claims=extras.claims(claims),
        keep_refresh_token=False,
        cache_fields=extras.cache_fields,
        **extra,
    )
    new_rt = result.get("refresh_token")
    if "error" not in result and isinstance(new_rt, str) and new_rt != rt_item.get("secret"):
        ctx.cache.update_rt(rt_item, new_rt)
    return result
