"""A protected resource shaped like Microsoft Graph: ``GET /v1.0/me`` and a bearer-checked echo.

Validates RS256 bearer tokens (RFC 6750) and answers Continuous Access Evaluation and step-up
(``acrs``) claims challenges in Graph's ``WWW-Authenticate`` shape.
"""

from __future__ import annotations

import base64
import datetime
import json
import uuid
from typing import Any

from .core import Core, Reply, Request
from .model import GRAPH_APP_ID, GRAPH_RESOURCE
from .tokens import TokenInvalid

__all__ = ["Denied", "authenticate", "echo", "graph_error", "me"]

_ME_SCOPES = {"user.read", "user.readwrite", "user.readbasic.all", "user.read.all",
              "directory.read.all"}


class Denied(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__("denied")
        self.reply = reply


def _challenge(core: Core, req: Request, claims: dict[str, Any] | None = None) -> str:
    parts = [
        'Bearer realm=""',
        f'authorization_uri="{core.base_url(req)}/common/oauth2/authorize"',
        f'client_id="{GRAPH_APP_ID}"',
    ]
    if claims is not None:
        encoded = base64.b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode()
        parts += ['error="insufficient_claims"', f'claims="{encoded}"']
    return ", ".join(parts)


def graph_error(core: Core, req: Request, status: int, code: str, message: str,
           www: str | None = None) -> Reply:
    correlation = core.correlation_id(req)
    body = {"error": {"code": code, "message": message, "innerError": {
        "date": datetime.datetime.fromtimestamp(core.now(), datetime.timezone.utc)
        .strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": str(uuid.uuid4()), "client-request-id": correlation,
    }}}
    headers = {"request-id": body["error"]["innerError"]["request-id"],  # type: ignore[index]
               "client-request-id": correlation}
    if www is not None:
        headers["WWW-Authenticate"] = www
    return Reply.json(body, status, headers)


def authenticate(core: Core, req: Request, audiences: set[str] | None) -> dict[str, Any]:
    scheme, _, token = req.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Denied(graph_error(core, req, 401, "InvalidAuthenticationToken",
                             "Access token is empty.", _challenge(core, req)))
    try:
        claims = core.signer.verify(token, now=core.now())
    except TokenInvalid as exc:
        message = {
            "expired": "Lifetime validation failed, the token is expired.",
            "signature": "Access token validation failure. Signature validation failed.",
        }.get(exc.reason, "IDX14100: JWT is not well formed.")
        raise Denied(graph_error(core, req, 401, "InvalidAuthenticationToken", message,
                             _challenge(core, req))) from None
    if audiences is not None and str(claims.get("aud", "")).lower() not in audiences:
        raise Denied(graph_error(core, req, 401, "InvalidAuthenticationToken",
                             "Access token validation failure. Invalid audience.",
                             _challenge(core, req)))
    _continuous_access(core, req, claims)
    return claims


def _continuous_access(core: Core, req: Request, claims: dict[str, Any]) -> None:
    with core.state.lock:
        revoked = str(claims.get("uti", "")) in core.state.revoked_uti
        revoked_at = core.state.revoked_at.get(str(claims.get("oid", "")), 0)
        required_acrs = core.state.required_acrs
    capable = "cp1" in {str(c).lower() for c in claims.get("xms_cc") or []}
    if revoked and (capable or not core.settings.cae_requires_capability):
        challenge = {"access_token": {"nbf": {"essential": True, "value": str(revoked_at)}}}
        raise Denied(graph_error(
            core, req, 401, "InvalidAuthenticationToken",
            "Continuous access evaluation resulted in challenge with result: "
            "InteractionRequired and code: TokenIssuedBeforeRevocationTimestamp",
            _challenge(core, req, challenge)))
    if required_acrs and "scp" in claims and required_acrs not in (claims.get("acrs") or []):
        challenge = {"access_token": {"acrs": {"essential": True, "value": required_acrs}}}
        raise Denied(graph_error(
            core, req, 401, "InvalidAuthenticationToken",
            "Continuous access evaluation resulted in challenge with result: "
            "InteractionRequired and code: AuthenticationContextRequired",
            _challenge(core, req, challenge)))


def me(core: Core, req: Request) -> Reply:
    """``GET /v1.0/me``: the signed-in user, for a delegated Graph token with User.Read."""
    if req.method != "GET":
        return graph_error(core, req, 405, "Request_BadRequest",
                      "The requested method is not allowed on this resource.")
    try:
        claims = authenticate(core, req, {GRAPH_APP_ID, GRAPH_RESOURCE})
    except Denied as denied:
        return denied.reply
    if "scp" not in claims:
        return graph_error(core, req, 400, "BadRequest",
                      "/me request is only valid with delegated authentication flow.")
    if not {s.lower() for s in str(claims["scp"]).split()} & _ME_SCOPES:
        return graph_error(core, req, 403, "Authorization_RequestDenied",
                      "Insufficient privileges to complete the operation.")
    user = core.directory.user_by_oid(str(claims.get("oid", "")))
    if user is None:
        return graph_error(core, req, 404, "Request_ResourceNotFound",
                      "Resource does not exist or one of its queried reference-property "
                      "objects are not present.")
    given, _, surname = user.display_name.partition(" ")
    return Reply.json({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
        "businessPhones": [], "displayName": user.display_name, "givenName": given or None,
        "jobTitle": None, "mail": user.username, "mobilePhone": None, "officeLocation": None,
        "preferredLanguage": None, "surname": surname or None,
        "userPrincipalName": user.username, "id": user.object_id,
    })


def echo(core: Core, req: Request) -> Reply:
    """``ANY /echo[/...]``: checks a bearer token for any known resource and echoes the request.

    Query ``required_scope`` (delegated ``scp`` or app ``roles``) makes it demand a permission.
    """
    audiences = set()
    for resource in core.config.resources:
        audiences |= {resource.app_id.lower(), resource.identifier_uri.rstrip("/").lower()}
    try:
        claims = authenticate(core, req, audiences)
    except Denied as denied:
        return denied.reply
    required = req.query.get("required_scope", "")
    granted = set(str(claims.get("scp", "")).split()) | set(claims.get("roles") or [])
    if required and required not in granted:
        return graph_error(core, req, 403, "Authorization_RequestDenied",
                      "Insufficient privileges to complete the operation.")
    headers = {k: ("<redacted>" if k == "authorization" else v) for k, v in req.headers.items()}
    return Reply.json({
        "method": req.method, "path": req.path, "query": req.query, "headers": headers,
        "body": req.body.decode("utf-8", errors="replace"), "claims": claims,
    })
