"""Graph-shaped ``GET /v1.0/users`` (with ``@odata.nextLink`` paging) and a throttled endpoint.

``/v1.0/users`` lists the directory's users for an app-only token with ``User.Read.All`` (or a
delegated one with ``User.ReadBasic.All``, ``User.Read.All`` or ``Directory.Read.All``), in
pages of ``$top`` (default 100, at most 999, as Graph) linked by ``@odata.nextLink`` with a
``$skiptoken``. ``/v1.0/throttled`` answers 429 ``TooManyRequests`` with ``Retry-After`` to the
first ``fail`` requests (default 1) of each ``key``, then 200: for testing retry logic.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

from .core import Core, Reply, Request
from .graph import Denied, authenticate, graph_error
from .model import GRAPH_APP_ID, GRAPH_RESOURCE

__all__ = ["throttled", "users"]

_LIST_SCOPES = {"user.readbasic.all", "user.read.all", "directory.read.all",
                "user.readwrite.all", "directory.readwrite.all"}
_LIST_ROLES = {"user.read.all", "user.readwrite.all", "directory.read.all",
               "directory.readwrite.all"}
_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#users"


def _allowed(claims: dict[str, Any]) -> bool:
    scopes = {s.lower() for s in str(claims.get("scp", "")).split()}
    roles = {str(r).lower() for r in claims.get("roles") or []}
    return bool(scopes & _LIST_SCOPES or roles & _LIST_ROLES)


def _int(text: str, default: int) -> int | None:
    if not text:
        return default
    return int(text) if text.isdigit() else None


def users(core: Core, req: Request) -> Reply:
    """``GET /v1.0/users[?$top=N][&$skiptoken=...]``."""
    if req.method != "GET" or req.path.rstrip("/") != "/v1.0/users":
        return graph_error(core, req, 400 if req.method == "GET" else 405,
                           "Request_BadRequest", "The emulator serves only GET /v1.0/users.")
    try:
        claims = authenticate(core, req, {GRAPH_APP_ID, GRAPH_RESOURCE})
    except Denied as denied:
        return denied.reply
    if not _allowed(claims):
        return graph_error(core, req, 403, "Authorization_RequestDenied",
                           "Insufficient privileges to complete the operation.")
    top = _int(req.query.get("$top", ""), 100)
    if top is None or not 1 <= top <= 999:
        return graph_error(core, req, 400, "Request_BadRequest",
                           "Invalid page size specified: '$top' must be between 1 and 999.")
    start = _skip(req.query.get("$skiptoken", ""))
    if start is None:
        return graph_error(core, req, 400, "Request_BadRequest", "The $skiptoken is invalid.")
    everyone = sorted(core.config.users, key=lambda u: u.username.lower())
    page = everyone[start:start + top]
    body: dict[str, Any] = {"@odata.context": _CONTEXT, "value": [_user(u) for u in page]}
    if start + top < len(everyone):
        token = base64.urlsafe_b64encode(f"skip:{start + top}".encode()).decode().rstrip("=")
        query = urlencode({"$top": str(top), "$skiptoken": token})
        body["@odata.nextLink"] = f"{core.base_url(req)}/v1.0/users?{query}"
    return Reply.json(body)


def _skip(token: str) -> int | None:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    kind, _, number = text.partition(":")
    return int(number) if kind == "skip" and number.isdigit() else None


def _user(user: Any) -> dict[str, Any]:
    given, _, surname = user.display_name.partition(" ")
    return {"businessPhones": [], "displayName": user.display_name, "givenName": given or None,
            "jobTitle": None, "mail": user.username, "mobilePhone": None,
            "officeLocation": None, "preferredLanguage": None, "surname": surname or None,
            "userPrincipalName": user.username, "id": user.object_id}


def throttled(core: Core, req: Request) -> Reply:
    """``ANY /v1.0/throttled?key=K&fail=N&retry_after=S``: N 429s per key, then a 200."""
    try:
        authenticate(core, req, None)
    except Denied as denied:
        return denied.reply
    fail = _int(req.query.get("fail", ""), 1)
    retry_after = _int(req.query.get("retry_after", ""), 1)
    if fail is None or retry_after is None:
        return graph_error(core, req, 400, "Request_BadRequest",
                           "fail and retry_after must be non-negative integers.")
    key = req.query.get("key", "default")[:100]
    with core.state.lock:
        seen = core.state.throttle_counts.get(key, 0)
        core.state.throttle_counts[key] = seen + 1
    if seen < fail:
        reply = graph_error(core, req, 429, "TooManyRequests",
                            "Too many requests; retry after the time in Retry-After.")
        reply.headers.append(("Retry-After", str(retry_after)))
        return reply
    return Reply.json({"key": key, "attempt": seen + 1, "throttled_before": fail})
