"""Shared steps of every grant: POST to the token endpoint, check, write the cache, clean up.

RFC 6749 section 5 (token responses); the cache event has MSAL's shape (see TokenCache.add).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from ..context import ClientContext
from ..discovery import AuthorityMetadata
from ..messages import Flow
from ..token_request import post_token

__all__ = ["clean_result", "obtain", "write_cache"]

logger = logging.getLogger("entra_auth.application")


def clean_result(result: dict[str, Any], now: float) -> dict[str, Any]:
    """MSAL's result shape: drop internal keys, turn ``refresh_in`` into ``refresh_on``."""
    clean = {k: v for k, v in result.items() if k != "refresh_in" and not k.startswith("_")}
    refresh_in = result.get("refresh_in")
    if isinstance(refresh_in, int):
        clean["refresh_on"] = int(now + refresh_in)
    return clean


def write_cache(
    ctx: ClientContext,
    metadata: AuthorityMetadata,
    *,
    grant_type: str,
    requested_scopes: list[str] | None,
    result: Mapping[str, Any],
    form: Mapping[str, str],
    keep_refresh_token: bool = True,
    cache_fields: Mapping[str, str] | None = None,
    **event_extra: Any,
) -> None:
    """Record a successful token response in the cache (MSAL's ``add`` event).

    ``cache_fields`` join the request form in the event's ``data`` without having been sent
    (``client_claims``): they count towards the access token's extended cache key.
    """
    response = {
        k: v for k, v in result.items() if k not in ("token_source", "id_token_claims")
    }
    if not keep_refresh_token:
        response.pop("refresh_token", None)
    scope = response.get("scope")
    event: dict[str, Any] = {
        "client_id": ctx.client_id,
        "scope": scope.split() if isinstance(scope, str) else list(requested_scopes or []),
        "token_endpoint": metadata.token_endpoint,
        "environment": metadata.environment,
        "grant_type": grant_type,
        "response": response,
        "params": {},
        "data": {**form, **(cache_fields or {})},
    }
    event.update(event_extra)
    ctx.cache.add(event, now=int(ctx.clock()))


def obtain(
    ctx: ClientContext,
    metadata: AuthorityMetadata,
    grant_type: str,
    fields: Mapping[str, str | None],
    *,
    scopes: list[str] | None,
    claims: str | None = None,
    correlation_id: str | None = None,
    token_endpoint: str | None = None,
    check: Callable[[dict[str, Any]], None] | None = None,
    keep_refresh_token: bool = True,
    event_scopes: list[str] | None = None,
    cache_fields: Mapping[str, str] | None = None,
    **event_extra: Any,
) -> Flow[dict[str, Any]]:
    """POST one grant; on success run ``check`` (may raise), cache, and return the result."""
    result, form = yield from post_token(
        ctx,
        token_endpoint or metadata.token_endpoint,
        grant_type,
        fields,
        scopes=scopes,
        claims=claims,
        correlation_id=correlation_id,
        audience=metadata.token_endpoint,
    )
    if "error" in result:
        logger.info(
            "Token request (%s) failed: %s (correlation_id=%s)",
            grant_type, result.get("error"), result.get("correlation_id"),
        )
        return result
    if check is not None:
        check(result)
    write_cache(
        ctx,
        metadata,
        grant_type=grant_type,
        requested_scopes=scopes or event_scopes,
        result=result,
        form=form,
        keep_refresh_token=keep_refresh_token,
        cache_fields=cache_fields,
        **event_extra,
    )
    logger.debug("Token request (%s) succeeded", grant_type)
    return clean_result(result, ctx.clock())
