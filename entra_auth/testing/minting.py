"""Build token responses: v2.0 access tokens, OIDC id tokens, client_info, opaque refresh tokens.

Claims follow Entra's v2.0 token reference (``iss``, ``aud``, ``tid``, ``oid``, ``sub``, ``scp``
or ``roles``, ``xms_cc``, ``acrs``); the response follows RFC 6749 §5.1 plus Entra's extras.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from .aadsts import EntraError
from .core import Core
from .directory import ScopeRequest
from .model import App, Resource, User
from .state import RefreshToken, SignIn, new_opaque
from .tokens import b64url

__all__ = ["ClaimsRequest", "mint_app_token", "mint_user_tokens", "parse_claims", "require_mfa"]


@dataclass
class ClaimsRequest:
    """What a ``claims`` parameter asks of the access token."""

    raw: dict[str, Any] | None = None
    capabilities: list[str] = field(default_factory=list)  # xms_cc
    acrs: list[str] = field(default_factory=list)


def parse_claims(text: str) -> ClaimsRequest:
    """Parse the ``claims`` parameter (OIDC §5.5 JSON).

    Raises:
        EntraError: AADSTS9002313 when it is not a JSON object.
    """
    if not text:
        return ClaimsRequest()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise EntraError(400, "invalid_request", 9002313,
                         "Invalid request. Request is malformed or invalid. The 'claims' "
                         "parameter is not a valid JSON object.")
    request = ClaimsRequest(raw=data)
    access = data.get("access_token")
    if isinstance(access, dict):
        request.capabilities = _values(access.get("xms_cc"))
        request.acrs = _values(access.get("acrs"))
    return request


def _values(spec: Any) -> list[str]:
    if not isinstance(spec, dict):
        return []
    values = spec.get("values")
    if isinstance(values, list):
        return [str(v) for v in values]
    value = spec.get("value")
    return [str(value)] if isinstance(value, (str, int)) else []


def require_mfa(user: User, signin: SignIn, resource: Resource) -> None:
    """Raise AADSTS50076 (interaction_required) when the user needs MFA this sign-in lacked."""
    if user.mfa_required and not signin.mfa:
        raise EntraError(
            400, "interaction_required", 50076,
            "Due to a configuration change made by your administrator, or because you moved to "
            "a new location, you must use multi-factor authentication to access "
            f"'{resource.app_id}'.",
        )


def pairwise_sub(oid: str, client_id: str) -> str:
    """The ``sub`` claim: stable per user and app, as Entra's pairwise subject."""
    return b64url(hashlib.sha256(f"{oid}|{client_id.lower()}".encode()).digest())[:43]


def client_info(oid: str, tenant_id: str) -> str:
    """The ``client_info`` response field: base64url JSON ``{"uid", "utid"}``."""
    return b64url(json.dumps({"uid": oid, "utid": tenant_id}).encode())


def _lifetimes(core: Core) -> tuple[int, int]:
    now = int(core.now())
    return now, now + core.settings.access_token_lifetime


def _response(core: Core, access_token: str, scope: str) -> dict[str, Any]:
    lifetime = core.settings.access_token_lifetime
    body: dict[str, Any] = {
        "token_type": "Bearer", "scope": scope, "expires_in": lifetime,
        "ext_expires_in": lifetime, "access_token": access_token,
    }
    if core.settings.refresh_in is not None:
        body["refresh_in"] = core.settings.refresh_in
    return body


def mint_app_token(
    core: Core, app: App, resource: Resource, tenant_id: str, azpacr: str,
    claims: ClaimsRequest,
) -> dict[str, Any]:
    """A client-credentials (app-only) token response."""
    now, exp = _lifetimes(core)
    sp_oid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sp:{app.client_id.lower()}"))
    payload: dict[str, Any] = {
        "aud": resource.app_id, "iss": core.issuer(tenant_id), "iat": now, "nbf": now,
        "exp": exp, "azp": app.client_id, "azpacr": azpacr, "idtyp": "app",
        "oid": sp_oid, "sub": sp_oid, "tid": tenant_id, "uti": new_opaque("", 16),
        "ver": "2.0",
    }
    roles = core.directory.app_roles(app, resource)
    if roles:
        payload["roles"] = roles
    if claims.capabilities:
        payload["xms_cc"] = claims.capabilities
    with core.state.lock:
        core.state.tokens_issued += 1
    return _response(core, core.signer.sign(payload), f"{resource.identifier_uri}/.default")


def mint_user_tokens(
    core: Core,
    *,
    app: App,
    user: User,
    signin: SignIn,
    scopes: ScopeRequest,
    granted: list[str],
    azpacr: str,
    claims: ClaimsRequest,
    want_client_info: bool,
    nonce: str | None = None,
    auth_time_requested: bool = False,
) -> dict[str, Any]:
    """A user token response: access token, id token, refresh token, client_info, foci."""
    now, exp = _lifetimes(core)
    tid = signin.tenant_id
    uti = new_opaque("", 16)
    scp = " ".join(granted + sorted(scopes.reserved & {"openid", "profile", "email"}))
    access: dict[str, Any] = {
        "aud": scopes.resource.app_id, "iss": core.issuer(tid), "iat": now, "nbf": now,
        "exp": exp, "azp": app.client_id, "azpacr": azpacr, "name": user.display_name,
        "oid": user.object_id, "preferred_username": user.username, "scp": scp,
        "sub": pairwise_sub(user.object_id, scopes.resource.app_id), "tid": tid,
        "uti": uti, "ver": "2.0", "amr": ["pwd", "mfa"] if signin.mfa else ["pwd"],
    }
    if claims.capabilities:
        access["xms_cc"] = claims.capabilities
    if claims.acrs:
        access["acrs"] = claims.acrs
    body = _response(core, core.signer.sign(access), scopes.response_scopes(granted))
    if "openid" in scopes.reserved:
        id_claims: dict[str, Any] = {
            "aud": app.client_id, "iss": core.issuer(tid), "iat": now, "nbf": now,
            "exp": now + core.settings.id_token_lifetime, "name": user.display_name,
            "oid": user.object_id, "preferred_username": user.username,
            "sub": pairwise_sub(user.object_id, app.client_id), "tid": tid, "ver": "2.0",
        }
        if nonce:
            id_claims["nonce"] = nonce
        if auth_time_requested:
            id_claims["auth_time"] = signin.auth_time
        body["id_token"] = core.signer.sign(id_claims)
    if want_client_info:
        body["client_info"] = client_info(user.object_id, tid)
    with core.state.lock:
        core.state.tokens_issued += 1
        core.state.issued_access_tokens.setdefault(user.object_id, set()).add(uti)
        if "offline_access" in scopes.reserved and core.settings.issue_refresh_tokens:
            rt = new_opaque()
            core.state.refresh_tokens[rt] = RefreshToken(
                app.client_id, app.family_id, signin,
                expires_at=core.now() + core.settings.refresh_token_lifetime,
                issued_at=core.now(),
            )
            body["refresh_token"] = rt
            if app.family_id:
                body["foci"] = app.family_id
    return body
