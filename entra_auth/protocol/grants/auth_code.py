"""Authorization code grant with PKCE and OIDC nonce/max_age checks.

RFC 6749 section 4.1, RFC 7636 (PKCE, S256), OpenID Connect Core 1.0 sections 3.1.2 and 3.1.3.7.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from ..claims import merge_claims
from ..context import ClientContext
from ..discovery import AuthorityMetadata
from ..extras import NO_EXTRAS, Extras
from ..id_token import IdTokenError, check_id_token
from ..messages import Flow
from ..pkce import make_nonce, make_pkce, make_state, nonce_hash
from .common import obtain

__all__ = ["authorization_url", "initiate", "redeem_code", "redeem_flow"]


def authorization_url(metadata: AuthorityMetadata, params: Mapping[str, Any]) -> str:
    """The authorize endpoint with ``params`` (None/empty values dropped) in its query."""
    query = {k: str(v) for k, v in params.items() if v is not None and v != ""}
    endpoint = metadata.authorization_endpoint
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"


def initiate(
    ctx: ClientContext,
    metadata: AuthorityMetadata,
    scopes: list[str],
    *,
    redirect_uri: str | None = None,
    state: str | None = None,
    prompt: str | None = None,
    login_hint: str | None = None,
    domain_hint: str | None = None,
    claims_challenge: str | None = None,
    max_age: int | None = None,
    response_mode: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build MSAL's auth code flow dict (``auth_uri``, ``state``, PKCE verifier, nonce...)."""
    pkce = make_pkce(ctx.random_bytes)
    state = state or make_state(ctx.random_bytes)
    nonce = make_nonce(ctx.random_bytes)
    claims = merge_claims(claims_challenge, ctx.client_capabilities)
    params: dict[str, Any] = {
        "client_id": ctx.client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
        "code_challenge": pkce.challenge,
        "code_challenge_method": pkce.method,
        "nonce": nonce_hash(nonce),
        "client_info": "1",
        "prompt": prompt,
        "login_hint": login_hint,
        "domain_hint": domain_hint,
        "claims": claims,
        "max_age": max_age,
        "response_mode": response_mode,
    }
    params.update(extra or {})
    flow: dict[str, Any] = {
        "state": state,
        "redirect_uri": redirect_uri,
        "scope": list(scopes),
        "auth_uri": authorization_url(metadata, params),
        "code_verifier": pkce.verifier,
        "code_challenge": pkce.challenge,
        "code_challenge_method": pkce.method,
        "nonce": nonce,
        "claims_challenge": claims_challenge,
    }
    if max_age is not None:
        flow["max_age"] = max_age
    if response_mode:
        flow["response_mode"] = response_mode
    return flow


def redeem_flow(
    ctx: ClientContext,
    metadata: AuthorityMetadata,
    auth_code_flow: Mapping[str, Any],
    auth_response: Mapping[str, Any],
    scopes: list[str] | None = None,
    claims_challenge: str | None = None,
) -> Flow[dict[str, Any]]:
    """Validate the redirect's ``auth_response`` against the flow and redeem its code.

    Raises:
        ValueError: state missing or mismatched (CSRF), scopes not a subset, no code/error.
        IdTokenError: the id_token's nonce or auth_time fails the checks.
    """
    if not isinstance(auth_code_flow, Mapping) or not isinstance(auth_response, Mapping):
        raise ValueError("auth_code_flow and auth_response must both be dicts")
    if not auth_code_flow.get("state"):
        raise ValueError("state missing from auth_code_flow")
    if auth_code_flow.get("state") != auth_response.get("state"):
        raise ValueError("state mismatch between auth_code_flow and auth_response (CSRF?)")
    flow_scopes = list(auth_code_flow.get("scope") or [])
    if scopes and set(scopes) - set(flow_scopes):
        raise ValueError(f"scopes must be None or a subset of {flow_scopes}")
    code = auth_response.get("code")
    if isinstance(code, str) and code:
        verifier = auth_code_flow.get("code_verifier")
        if not isinstance(verifier, str):
            raise ValueError("code_verifier missing from auth_code_flow")
        nonce = auth_code_flow.get("nonce")
        max_age = auth_code_flow.get("max_age")
        now = ctx.clock()

        def check(result: dict[str, Any]) -> None:
            claims = result.get("id_token_claims")
            if isinstance(claims, dict):
                check_id_token(
                    claims,
                    nonce=nonce if isinstance(nonce, str) else None,
                    max_age=max_age if isinstance(max_age, int) else None,
                    now=now,
                )

        result = yield from obtain(
            ctx,
            metadata,
            "authorization_code",
            {
                "code": code,
                "redirect_uri": auth_code_flow.get("redirect_uri"),
                "code_verifier": verifier,
            },
            scopes=list(scopes or flow_scopes),
            claims=merge_claims(
                claims_challenge or auth_code_flow.get("claims_challenge"),
                ctx.client_capabilities,
            ),
            check=check,
        )
        return result
    error = auth_response.get("error")
    if isinstance(error, str) and error:
        # Copy only known fields: an attacker-crafted response must not smuggle in a token.
        out: dict[str, Any] = {"error": error}
        for field in ("error_description", "error_uri", "suberror", "correlation_id"):
            if isinstance(auth_response.get(field), str):
                out[field] = auth_response[field]
        out.setdefault("error_description", f"The authorization server answered {error!r}")
        return out
    raise ValueError('auth_response must contain either "code" or "error"')


def redeem_code(
    ctx: ClientContext,
    metadata: AuthorityMetadata,
    code: str,
    scopes: list[str],
    *,
    redirect_uri: str | None = None,
    nonce: str | None = None,
    claims_challenge: str | None = None,
    extra: Mapping[str, str] | None = None,
    extras: Extras = NO_EXTRAS,
) -> Flow[dict[str, Any]]:
    """Redeem a code obtained from :func:`authorization_url` (no PKCE, optional raw nonce).

    ``extras`` (``data``, forwarded claims) are sent and key the cached access token.

    Raises:
        IdTokenError: ``nonce`` was given and the id_token carries a different one.
    """
    if not isinstance(code, str) or not code:
        raise ValueError("code must be a non-empty string")

    def check(result: dict[str, Any]) -> None:
        claims = result.get("id_token_claims")
        if nonce and isinstance(claims, dict) and claims.get("nonce") != nonce:
            raise IdTokenError("The nonce in the id_token does not match the given nonce")

    fields: dict[str, str | None] = {**extras.form, "code": code, "redirect_uri": redirect_uri}
    fields.update(extra or {})
    return (
        yield from obtain(
            ctx,
            metadata,
            "authorization_code",
            fields,
            scopes=scopes,
            claims=extras.claims(merge_claims(claims_challenge, ctx.client_capabilities)),
            check=check,
            cache_fields=extras.cache_fields,
        )
    )
