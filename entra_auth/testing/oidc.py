"""OIDC endpoints the discovery document advertises: UserInfo and end-session (logout).

UserInfo (OpenID Connect Core 1.0 §5.3) as Entra serves it at ``/oidc/userinfo``: a Microsoft
Graph access token that holds ``openid`` gets ``sub`` (the id token's pairwise subject),
``name``, ``given_name``, ``family_name``, ``email`` and ``picture``. Logout (OpenID Connect
RP-Initiated Logout 1.0) at ``/{tenant}/oauth2/v2.0/logout`` ends the browser session and
returns to ``post_logout_redirect_uri`` when it is a registered redirect URI.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from .core import Core, Reply, Request, with_query
from .graph import Denied, authenticate, graph_error
from .minting import pairwise_sub
from .model import GRAPH_APP_ID, GRAPH_RESOURCE
from .tokens import TokenInvalid, decode_unverified

__all__ = ["end_session", "userinfo"]

SESSION_COOKIE = "ESTSAUTH"


def userinfo(core: Core, req: Request) -> Reply:
    """``GET|POST /oidc/userinfo`` with a Graph access token that holds ``openid``."""
    if req.method not in ("GET", "POST"):
        return graph_error(core, req, 405, "Request_BadRequest",
                           "The requested method is not allowed on this resource.")
    try:
        claims = authenticate(core, req, {GRAPH_APP_ID, GRAPH_RESOURCE})
    except Denied as denied:
        return denied.reply
    scopes = {s.lower() for s in str(claims.get("scp", "")).split()}
    if "openid" not in scopes:
        return graph_error(core, req, 403, "Authorization_RequestDenied",
                           "The access token was not issued for the openid scope.")
    user = core.directory.user_by_oid(str(claims.get("oid", "")))
    if user is None:
        return graph_error(core, req, 404, "Request_ResourceNotFound",
                           "Resource does not exist.")
    given, _, family = user.display_name.partition(" ")
    return Reply.json({
        "sub": pairwise_sub(user.object_id, str(claims.get("azp", ""))),
        "name": user.display_name, "family_name": family or None, "given_name": given or None,
        "picture": f"{core.base_url(req)}/v1.0/me/photo/$value", "email": user.username,
    })


def _registered(core: Core, uri: str, client_id: str | None) -> bool:
    from .authorize import redirect_uri_matches

    apps = core.config.apps
    if client_id:
        apps = [a for a in apps if a.client_id.lower() == client_id.lower()]
    return any(redirect_uri_matches(a.redirect_uris, uri) for a in apps)


def _client_of_hint(id_token_hint: str) -> str | None:
    if not id_token_hint:
        return None
    try:
        _, claims = decode_unverified(id_token_hint)
    except TokenInvalid:
        return None
    aud = claims.get("aud")
    return aud if isinstance(aud, str) else None


def end_session(core: Core, req: Request, segment: str) -> Reply:
    """``GET|POST /{tenant}/oauth2/v2.0/logout``: end the browser's session, then go back.

    ``post_logout_redirect_uri`` is followed only when it is a registered redirect URI (of
    ``client_id``, or of the ``id_token_hint``'s audience, else of any app); ``state`` is
    passed along. Otherwise a "signed out" page is shown.
    """
    core.directory.resolve_tenant(segment)  # 90002 for an unknown tenant
    with core.state.lock:
        sid = req.cookies.get(SESSION_COOKIE, "")
        core.state.sessions.pop(sid, None)
    cookie = f"{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
    target = req.param("post_logout_redirect_uri")
    client_id = req.param("client_id") or _client_of_hint(req.param("id_token_hint"))
    if target and urlsplit(target).scheme in ("http", "https") and _registered(
            core, target, client_id):
        state = req.param("state")
        location = with_query(target, {"state": state}) if state else target
        return Reply.redirect(location, {"Set-Cookie": cookie})
    page = ('<!doctype html><title>Signed out</title><p id="signed_out">You signed out of '
            "your account. It's a good idea to close all browser windows.</p>")
    if target:
        page += (f'<p id="error">The post_logout_redirect_uri {escape(target[:200])} is not a '
                 "registered redirect URI, so you stay here.</p>")
    return Reply.html(page, 200, {"Set-Cookie": cookie})
