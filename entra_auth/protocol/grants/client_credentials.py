"""Client credentials grant, cache first, optionally against a regional endpoint.

RFC 6749 section 4.4; Entra's ESTS-R regional hosts for confidential clients.
"""

from __future__ import annotations

from typing import Any

from ..claims import merge_claims
from ..context import ClientContext, FlowError
from ..discovery import AuthorityMetadata
from ..extras import NO_EXTRAS, Extras
from ..messages import Flow
from ..region import regional_endpoint, resolve_region
from ..silent import cached_token
from .common import obtain

__all__ = ["acquire", "cached"]


def cached(
    ctx: ClientContext, metadata: AuthorityMetadata, scopes: list[str],
    extras: Extras = NO_EXTRAS,
) -> tuple[dict[str, Any], bool] | None:
    """The cached app token's result and whether its refresh is due, or None (no I/O)."""
    return cached_token(ctx, [metadata.environment], metadata.realm, scopes, None,
                        ext_cache_key=extras.ext_cache_key)


def acquire(
    ctx: ClientContext,
    metadata: AuthorityMetadata,
    scopes: list[str],
    *,
    claims_challenge: str | None = None,
    extras: Extras = NO_EXTRAS,
    force_refresh: bool = False,
) -> Flow[dict[str, Any]]:
    """Return a cached app token if one is fresh, else POST ``grant_type=client_credentials``.

    A refresh due (``refresh_on``) that fails falls back to the still-valid cached token.
    ``extras`` (``data``, ``fmi_path``, forwarded claims) are sent and key the cached token.
    ``force_refresh`` (a resource rejected the cached token) skips the cache.
    """
    fallback: dict[str, Any] | None = None
    if not claims_challenge and not force_refresh:
        hit = cached(ctx, metadata, scopes, extras)
        if hit is not None:
            fallback, refresh_due = hit
            if not refresh_due:
                return fallback
    region = yield from resolve_region(ctx)
    endpoint = regional_endpoint(metadata.token_endpoint, region) if region else None
    try:
        result = yield from obtain(
            ctx,
            metadata,
            "client_credentials",
            dict(extras.form),
            scopes=scopes,
            claims=extras.claims(merge_claims(claims_challenge, ctx.client_capabilities)),
            token_endpoint=endpoint,
            cache_fields=extras.cache_fields,
        )
    except FlowError:
        if fallback is None:
            raise
        return fallback  # a failed proactive refresh keeps the still-valid token
    if "error" in result and fallback is not None:
        return fallback
    return result
