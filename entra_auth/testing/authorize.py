"""``/{tenant}/oauth2/v2.0/authorize`` and the shared sign-in steps (password, MFA, consent).

OAuth 2.0 authorization code request (RFC 6749 §4.1.1) with PKCE (RFC 7636), OIDC ``prompt``,
``login_hint``, ``max_age``, and response modes query, fragment and form_post.
"""

from __future__ import annotations

import hmac
import json
import secrets
import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit

from . import pages
from .aadsts import EntraError, missing_parameter
from .core import Core, Reply, Request, with_query
from .directory import ScopeRequest
from .minting import client_info, parse_claims
from .model import App, User
from .state import AuthCode, Session, SignIn

__all__ = ["approve", "authorize", "continue_signin", "decline", "redirect_uri_matches",
           "start_signin"]

SESSION_COOKIE = "ESTSAUTH"
_PROMPTS = {"none", "login", "consent", "select_account", "create"}


def redirect_uri_matches(registered: list[str], given: str) -> bool:
    """Exact match, or a loopback ``http://localhost``/``127.0.0.1`` match on any port."""
    if given in registered:
        return True
    g = urlsplit(given)
    if g.scheme != "http" or g.hostname not in ("localhost", "127.0.0.1"):
        return False
    for uri in registered:
        r = urlsplit(uri)
        if (r.scheme, r.hostname) == (g.scheme, g.hostname) and \
                (r.path or "/").rstrip("/") == (g.path or "/").rstrip("/"):
            return True
    return False


class _RedirectError(Exception):
    def __init__(self, err: EntraError) -> None:
        super().__init__(err.error)
        self.err = err


def authorize(core: Core, req: Request, segment: str) -> Reply:
    """Start a sign-in (GET/POST with OAuth parameters) or continue one (POST with ``ctx``)."""
    if req.method == "POST" and req.form.get("ctx"):
        return continue_signin(core, req)
    if req.method not in ("GET", "POST"):
        return Reply.html(pages.error_page(900561, "The endpoint only accepts GET and POST."),
                          405)
    params = req.query if req.method == "GET" else req.form
    try:
        txn = _validate(core, params, segment)
    except EntraError as err:  # not safe to redirect: show the error in the browser
        return Reply.html(pages.error_page(err.code, err.message), err.status)
    txn["action"] = req.path
    try:
        return start_signin(core, req, txn)
    except _RedirectError as exc:
        return _error_redirect(core, req, txn, exc.err)


def _validate(core: Core, params: dict[str, str], tenant_segment: str) -> dict[str, str]:
    """Check what must be right before anything may be sent to the redirect URI."""
    tenant, canonical = core.directory.resolve_tenant(tenant_segment)
    client_id = params.get("client_id", "").strip()
    if not client_id:
        raise missing_parameter("client_id")
    app = core.directory.require_app(client_id, tenant.domain if tenant else canonical)
    redirect_uri = params.get("redirect_uri", "").strip()
    if not redirect_uri:
        if not app.redirect_uris:
            raise EntraError(400, "invalid_request", 500113,
                             "No reply address is registered for the application.")
        redirect_uri = app.redirect_uris[0]
    elif not redirect_uri_matches(app.redirect_uris + app.spa_redirect_uris, redirect_uri):
        raise EntraError(400, "invalid_request", 50011,
                         f"The redirect URI '{redirect_uri[:200]}' specified in the request does "
                         "not match the redirect URIs configured for the application "
                         f"'{app.client_id}'.")
    txn = {k: v for k, v in params.items() if isinstance(v, str)}
    txn.update(kind="authorize", client_id=app.client_id, redirect_uri=redirect_uri,
               tenant=tenant_segment)
    txn.pop("ctx", None)
    return txn


def _check_request(core: Core, txn: dict[str, str]) -> ScopeRequest:
    """Checks whose failures go back to the app as an error redirect."""
    def bad(code: int, message: str, error: str = "invalid_request") -> _RedirectError:
        return _RedirectError(EntraError(400, error, code, message))

    response_type = txn.get("response_type", "")
    if not response_type:
        raise _RedirectError(missing_parameter("response_type"))
    if response_type != "code":
        raise bad(700054, f"response_type '{response_type[:40]}' is not enabled for the "
                          "application.", "unsupported_response_type")
    if txn.get("response_mode", "query") not in ("query", "fragment", "form_post"):
        raise bad(9002313, "Invalid request. The 'response_mode' value is not supported.")
    prompt = txn.get("prompt", "")
    if prompt and prompt not in _PROMPTS:
        raise bad(90023, f"Unsupported 'prompt' value '{prompt[:40]}'.")
    method = txn.get("code_challenge_method", "")
    challenge = txn.get("code_challenge", "")
    if method and method not in ("S256", "plain"):
        raise bad(9002313, "Invalid request. The 'code_challenge_method' value is not supported.")
    if challenge and not 43 <= len(challenge) <= 128:
        raise bad(501491, "Invalid size of Code_Challenge parameter.")
    max_age = txn.get("max_age", "")
    if max_age and not max_age.isdigit():
        raise bad(9002313, "Invalid request. The 'max_age' value must be a non-negative integer.")
    try:
        parse_claims(txn.get("claims", ""))
        scope = txn.get("scope", "").strip()
        if not scope:
            raise missing_parameter("scope")
        return core.directory.parse_scopes(scope, tenant_label=txn["tenant"])
    except EntraError as err:
        raise _RedirectError(err) from None


def _session(core: Core, req: Request, txn: dict[str, str]) -> tuple[User, Session] | None:
    """The browser's session if it may be reused for this request."""
    session = core.state.sessions.get(req.cookies.get(SESSION_COOKIE, ""))
    if session is None or txn.get("prompt") in ("login", "create", "select_account"):
        return None
    user = core.directory.user_by_oid(session.user_oid)
    if user is None:
        return None
    hint = txn.get("login_hint", "").strip().lower()
    if hint and hint != user.username.lower():
        return None
    max_age = txn.get("max_age", "")
    if max_age.isdigit() and core.now() - session.auth_time > int(max_age):
        return None
    if user.mfa_required and not session.mfa:
        return None
    return user, session


def start_signin(core: Core, req: Request, txn: dict[str, str]) -> Reply:
    """Run a validated request: reuse a session, auto-approve, or show the sign-in page."""
    with core.state.lock:
        if txn["kind"] == "authorize":
            _check_request(core, txn)
        found = _session(core, req, txn)
        app = core.directory.app(txn["client_id"])
        assert app is not None
        if core.settings.auto_approve and found is None:
            user = _auto_user(core, txn)
            sid = _new_session(core, user, mfa=True)
            found = user, core.state.sessions[sid]
            txn["set_cookie"] = sid
        if found is not None:
            user, session = found
            txn["user_oid"] = user.object_id
            txn["auth_time"] = str(session.auth_time)
            txn["mfa"] = "1" if session.mfa else ""
            return _after_authentication(core, req, txn, app, user)
        if txn.get("prompt") == "none":
            raise _RedirectError(EntraError(
                400, "login_required", 50058,
                "A silent sign-in request was sent but no user is signed in."))
        ctx = _save(core, txn)
        return Reply.html(pages.login_page(txn["action"], ctx, app.display_name or app.client_id,
                                           login_hint=txn.get("login_hint", "")))


def _auto_user(core: Core, txn: dict[str, str]) -> User:
    hint = txn.get("login_hint", "")
    user = core.directory.user(hint) if hint else None
    if user is None and core.config.users:
        user = core.config.users[0]
    if user is None:
        raise _RedirectError(EntraError(400, "invalid_request", 50034,
                                        "The user account does not exist in the directory."))
    return user


def _save(core: Core, txn: dict[str, str]) -> str:
    ctx = secrets.token_urlsafe(24)
    core.state.transactions[ctx] = txn
    return ctx


def _new_session(core: Core, user: User, *, mfa: bool) -> str:
    sid = secrets.token_urlsafe(32)
    core.state.sessions[sid] = Session(user.object_id, int(core.now()), mfa)
    return sid


def continue_signin(core: Core, req: Request) -> Reply:
    """Handle a POST from the login, MFA or consent page (identified by ``ctx``)."""
    with core.state.lock:
        txn = core.state.transactions.get(req.form.get("ctx", ""))
        if txn is None:
            return Reply.html(pages.error_page(
                900561, "This sign-in session has expired or is unknown. Start again."), 400)
        app = core.directory.app(txn["client_id"])
        assert app is not None
        step = req.form.get("step", "")
        ctx = req.form["ctx"]
        try:
            if step == "login":
                return _login_step(core, req, txn, app, ctx)
            if step == "mfa" and txn.get("pending_oid"):
                return _mfa_step(core, req, txn, app, ctx)
            if step == "consent" and txn.get("user_oid"):
                return _consent_step(core, req, txn, app, ctx)
        except _RedirectError as exc:
            return _finish_error(core, req, txn, exc.err)
        return Reply.html(pages.error_page(9002313, "Invalid request. Unexpected form step."),
                          400)


def _login_step(core: Core, req: Request, txn: dict[str, str], app: App, ctx: str) -> Reply:
    username = req.form.get("username", "").strip()
    password = req.form.get("password", "")
    user = core.directory.user(username) if username else None
    tenant, alias = core.directory.resolve_tenant(txn["tenant"])
    if user is None or not core.directory.user_in(user, tenant, alias):
        return Reply.html(pages.login_page(
            txn["action"], ctx, app.display_name, login_hint=username,
            error="AADSTS50034: We couldn't find an account with that username."))
    if not hmac.compare_digest(password.encode(), user.password.encode()):
        return Reply.html(pages.login_page(
            txn["action"], ctx, app.display_name, login_hint=username,
            error="AADSTS50126: Your account or password is incorrect."))
    if user.mfa_required:
        txn["pending_oid"] = user.object_id
        return Reply.html(pages.mfa_page(txn["action"], ctx))
    return _signed_in(core, req, txn, app, user, mfa=False)


def _mfa_step(core: Core, req: Request, txn: dict[str, str], app: App, ctx: str) -> Reply:
    user = core.directory.user_by_oid(txn["pending_oid"])
    assert user is not None
    if not hmac.compare_digest(req.form.get("otp", "").strip().encode(), user.mfa_code.encode()):
        return Reply.html(pages.mfa_page(
            txn["action"], ctx, error="AADSTS500121: The code you entered is not valid."))
    return _signed_in(core, req, txn, app, user, mfa=True)


def _signed_in(core: Core, req: Request, txn: dict[str, str], app: App, user: User,
               *, mfa: bool) -> Reply:
    sid = _new_session(core, user, mfa=mfa)
    txn.update(user_oid=user.object_id, auth_time=str(int(core.now())), mfa="1" if mfa else "",
               set_cookie=sid)
    txn.pop("pending_oid", None)
    return _after_authentication(core, req, txn, app, user)


def _needed_consent(core: Core, txn: dict[str, str], app: App, user: User) -> list[str]:
    scopes = core.directory.parse_scopes(txn.get("scope", ""), tenant_label=txn["tenant"])
    granted = core.directory.consented(
        app, core.state.consents_of(user.object_id, app.client_id), scopes)
    missing = [scopes.full(n) for n in scopes.names if n not in granted]
    if not missing and txn.get("prompt") == "consent":
        missing = [scopes.full(n) for n in scopes.names]
    return missing


def _after_authentication(core: Core, req: Request, txn: dict[str, str], app: App,
                          user: User) -> Reply:
    missing = _needed_consent(core, txn, app, user)
    if missing and not core.settings.auto_approve and not txn.get("consented"):
        if txn.get("prompt") == "none":
            raise _RedirectError(EntraError(
                400, "consent_required", 65001,
                "The user or administrator has not consented to use the application with ID "
                f"'{app.client_id}'. Send an interactive authorization request for this user "
                "and resource."))
        ctx = _save(core, txn)
        return _with_cookie(txn, Reply.html(pages.consent_page(
            txn["action"], ctx, app.display_name or app.client_id, missing)))
    if missing:
        core.state.add_consent(user.object_id, app.client_id, missing)
    return _complete(core, req, txn, app, user)


def _consent_step(core: Core, req: Request, txn: dict[str, str], app: App, ctx: str) -> Reply:
    user = core.directory.user_by_oid(txn["user_oid"])
    assert user is not None
    if req.form.get("consent") != "accept":
        raise _RedirectError(EntraError(400, "access_denied", 65004,
                                        "User declined to consent to access the app."))
    core.state.add_consent(user.object_id, app.client_id, _needed_consent(core, txn, app, user))
    txn["consented"] = "1"
    return _complete(core, req, txn, app, user)


def _signin_of(txn: dict[str, str], user: User, core: Core) -> SignIn:
    return SignIn(user.object_id, core.directory.home_tenant(user).tenant_id,
                  int(txn.get("auth_time") or core.now()), mfa=bool(txn.get("mfa")))


def _complete(core: Core, req: Request, txn: dict[str, str], app: App, user: User) -> Reply:
    if txn["kind"] == "device":
        return _with_cookie(txn, approve(core, txn, _signin_of(txn, user, core), app))
    code = "1.A" + secrets.token_urlsafe(64)
    claims = parse_claims(txn.get("claims", "")).raw
    core.state.codes[code] = AuthCode(
        client_id=app.client_id, redirect_uri=txn["redirect_uri"], scope=txn.get("scope", ""),
        signin=_signin_of(txn, user, core), code_challenge=txn.get("code_challenge") or None,
        code_challenge_method=txn.get("code_challenge_method") or None,
        nonce=txn.get("nonce") or None, claims=claims,
        expires_at=core.now() + core.settings.auth_code_lifetime,
        max_age_requested=bool(txn.get("max_age")),
        spa=redirect_uri_matches(app.spa_redirect_uris, txn["redirect_uri"]),
    )
    fields = {"code": code}
    if txn.get("client_info") == "1":
        fields["client_info"] = client_info(user.object_id,
                                            core.directory.home_tenant(user).tenant_id)
    return _with_cookie(txn, _respond(core, txn, fields))


def _with_cookie(txn: dict[str, str], reply: Reply) -> Reply:
    sid = txn.pop("set_cookie", "")
    if sid:
        reply.headers.append(("Set-Cookie", f"{SESSION_COOKIE}={sid}; Path=/; HttpOnly; "
                                            "SameSite=Lax"))
    return reply


def _respond(core: Core, txn: dict[str, str], fields: dict[str, str]) -> Reply:
    if txn.get("state"):
        fields["state"] = txn["state"]
    fields.setdefault("session_state", str(uuid.uuid4()))
    mode = txn.get("response_mode") or "query"
    if mode == "form_post":
        return Reply.html(pages.form_post_page(txn["redirect_uri"], fields))
    if mode == "fragment":
        return Reply.redirect(f"{txn['redirect_uri'].split('#')[0]}#{urlencode(fields)}")
    return Reply.redirect(with_query(txn["redirect_uri"], fields))


def _error_fields(core: Core, req: Request, err: EntraError) -> dict[str, str]:
    body: dict[str, Any] = json.loads(core.error_reply(req, err).body)
    keys = ("error", "error_description", "error_uri", "trace_id", "correlation_id")
    fields: dict[str, str] = {k: str(body[k]) for k in keys if k in body}
    fields["error_codes"] = str(err.code)
    if err.suberror:
        fields["suberror"] = err.suberror
    return fields


def _error_redirect(core: Core, req: Request, txn: dict[str, str], err: EntraError) -> Reply:
    return _respond(core, txn, _error_fields(core, req, err))


def _finish_error(core: Core, req: Request, txn: dict[str, str], err: EntraError) -> Reply:
    if txn["kind"] == "device":
        return decline(core, txn)
    return _with_cookie(txn, _error_redirect(core, req, txn, err))


# -- the end of a device-login sign-in (the device code grant's page, :mod:`.device`) ------

def approve(core: Core, txn: dict[str, str], signin: SignIn, app: App) -> Reply:
    """Finish a device-login sign-in: mark its device code approved (caller holds the lock)."""
    record = core.state.device_codes.get(txn["device_code"])
    if record is None or record.status != "pending":
        return Reply.html(pages.error_page(70019, "The code has expired or was already used."),
                          400)
    record.status = "approved"
    record.signin = signin
    return Reply.html(pages.done_page(app.display_name or app.client_id))


def decline(core: Core, txn: dict[str, str]) -> Reply:
    """Finish a device-login sign-in the user cancelled: mark its device code declined."""
    record = core.state.device_codes.get(txn["device_code"])
    if record is not None and record.status == "pending":
        record.status = "denied"
    return Reply.html(pages.declined_page())
