"""``POST /{tenant}/oauth2/v2.0/token``: every grant Entra's v2.0 endpoint serves.

authorization_code with PKCE (RFC 6749 §4.1, RFC 7636), refresh_token with rotation and FOCI,
client_credentials, password (ROPC), device_code (RFC 8628) and on-behalf-of (jwt-bearer).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from . import user_fic
from .aadsts import EntraError, missing_parameter
from .client_auth import authenticate_client, basic_credentials
from .core import Core, Reply, Request
from .cors import preflight, with_cors
from .directory import ScopeRequest
from .minting import ClaimsRequest, mint_app_token, mint_user_tokens, parse_claims, require_mfa
from .model import App, Tenant, User
from .state import SignIn
from .tokens import TokenInvalid

__all__ = ["token"]

GRANT_DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
POLL_TOLERANCE = 0.25  # seconds of jitter allowed before a device-code poll is "too fast"


def _required(req: Request, name: str) -> str:
    value = req.form.get(name, "").strip()
    if not value:
        raise missing_parameter(name)
    return value


def _invalid_grant(code: int, message: str, *, suberror: str | None = None) -> EntraError:
    return EntraError(400, "invalid_grant", code, message, suberror=suberror)


def _malformed_grant() -> EntraError:
    return _invalid_grant(9002313, "Invalid request. Request is malformed or invalid.")


def token(core: Core, req: Request, segment: str) -> Reply:
    """Dispatch a token request by ``grant_type``; cross-origin (SPA) requests get CORS."""
    if req.method == "OPTIONS":
        return preflight(req)
    if not req.headers.get("origin"):
        return _token(core, req, segment)
    try:
        return with_cors(req, _token(core, req, segment))
    except EntraError as err:  # the browser app must be able to read the error too
        return with_cors(req, core.error_reply(req, err))


def _token(core: Core, req: Request, segment: str) -> Reply:
    if req.method != "POST":
        raise EntraError(400, "invalid_request", 900561,
                         "The endpoint only accepts POST, OPTIONS requests. Received a "
                         f"{req.method[:10]} request.")
    tenant, canonical = core.directory.resolve_tenant(segment)
    grant_type = _required(req, "grant_type")
    client_id = req.form.get("client_id", "").strip()
    basic = basic_credentials(req)
    if not client_id and basic is not None:
        client_id = basic[0]
    if not client_id:
        raise missing_parameter("client_id")
    handler = _GRANTS.get(grant_type)
    if handler is None:
        raise EntraError(400, "unsupported_grant_type", 70003,
                         "The app requested an unsupported grant type "
                         f"'{grant_type[:80]}'.")
    with core.state.lock:
        app = core.directory.require_app(client_id, tenant.domain if tenant else canonical)
        azpacr = authenticate_client(core, req, app, segment)
        body = handler(core, req, _Ctx(app, azpacr, tenant, canonical))
    return core.json_reply(req, body)


class _Ctx:
    def __init__(self, app: App, azpacr: str, tenant: Tenant | None, alias: str) -> None:
        self.app = app
        self.azpacr = azpacr
        self.tenant = tenant
        self.alias = alias

    @property
    def label(self) -> str:
        return self.tenant.domain if self.tenant else self.alias


def _scopes(core: Core, req: Request, ctx: _Ctx, default: str | None = None) -> ScopeRequest:
    scope = req.form.get("scope", "").strip() or default
    if not scope:
        raise missing_parameter("scope")
    return core.directory.parse_scopes(scope, tenant_label=ctx.label)


def _user_grant(
    core: Core, req: Request, ctx: _Ctx, user: User, signin: SignIn, scopes: ScopeRequest,
    claims: ClaimsRequest, *, nonce: str | None = None, auth_time: bool = False,
) -> dict[str, Any]:
    """Check consent and MFA for a user, then mint."""
    granted = core.directory.consented(
        ctx.app, core.state.consents_of(user.object_id, ctx.app.client_id), scopes)
    missing = [n for n in scopes.names if n not in granted]
    if missing:
        raise _invalid_grant(
            65001,
            "The user or administrator has not consented to use the application with ID "
            f"'{ctx.app.client_id}' named '{ctx.app.display_name}'. Send an interactive "
            "authorization request for this user and resource.",
            suberror="consent_required",
        )
    require_mfa(user, signin, scopes.resource)
    return mint_user_tokens(
        core, app=ctx.app, user=user, signin=signin, scopes=scopes, granted=granted,
        azpacr=ctx.azpacr, claims=claims,
        want_client_info=req.form.get("client_info") == "1", nonce=nonce,
        auth_time_requested=auth_time,
    )


def _user_of(core: Core, signin: SignIn) -> User:
    user = core.directory.user_by_oid(signin.user_oid)
    if user is None:  # the user was deleted after signing in
        raise _invalid_grant(50034, "The user account {EUII Hidden} does not exist in the "
                                    "directory.")
    return user


def _pkce_ok(challenge: str, method: str | None, verifier: str) -> bool:
    if (method or "plain").upper() == "S256":
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:
        computed = verifier
    return hmac.compare_digest(computed.encode(), challenge.encode())


def _authorization_code(core: Core, req: Request, ctx: _Ctx) -> dict[str, Any]:
    code_value = _required(req, "code")
    redirect_uri = _required(req, "redirect_uri")
    code = core.state.codes.get(code_value)
    if code is None:
        raise _malformed_grant()
    if code.redeemed:
        raise _invalid_grant(54005, "OAuth2 Authorization code was already redeemed, please "
                                    "retry with a new valid code or use an existing refresh "
                                    "token.")
    if core.now() >= code.expires_at:
        raise _invalid_grant(70008, "The provided authorization code or refresh token has "
                                    "expired due to inactivity. Send a new interactive "
                                    "authorization request for this user and resource.")
    if code.client_id.lower() != ctx.app.client_id.lower():
        raise _invalid_grant(70000, "Provided grant is invalid or malformed.")
    if redirect_uri != code.redirect_uri:
        raise _invalid_grant(500112, "The reply address does not match the reply address "
                                     "provided when requesting the authorization code.")
    if req.headers.get("origin") and not code.spa:
        raise EntraError(400, "invalid_request", 9002326,
                         "Cross-origin token redemption is permitted only for the "
                         "'Single-Page Application' client-type. Request origin: "
                         f"'{req.headers['origin'][:100]}'.")
    if code.spa and not req.headers.get("origin"):
        raise EntraError(400, "invalid_request", 9002327,
                         "Tokens issued for the 'Single-Page Application' client-type may "
                         "only be redeemed via cross-origin requests.")
    if code.code_challenge:
        verifier = req.form.get("code_verifier", "")
        if not verifier:
            raise _invalid_grant(50148, "The code_verifier does not match the code_challenge "
                                        "supplied in the authorization request for PKCE.")
        if not _pkce_ok(code.code_challenge, code.code_challenge_method, verifier):
            raise _invalid_grant(501481, "The Code_Verifier does not match the code_challenge "
                                         "supplied in the authorization request.")
    code.redeemed = True
    scopes = _scopes(core, req, ctx, default=code.scope)
    claims = parse_claims(req.form.get("claims", ""))
    if not claims.raw and code.claims:
        claims = parse_claims(_json(code.claims))
    return _user_grant(core, req, ctx, _user_of(core, code.signin), code.signin, scopes, claims,
                       nonce=code.nonce, auth_time=code.max_age_requested)


def _json(data: Any) -> str:
    import json

    return json.dumps(data)


def _refresh_token(core: Core, req: Request, ctx: _Ctx) -> dict[str, Any]:
    value = _required(req, "refresh_token")
    record = core.state.refresh_tokens.get(value)
    if record is None:
        raise _malformed_grant()
    if record.revoked:
        raise _invalid_grant(50173, "The provided grant has expired due to it being revoked, "
                                    "a fresh auth token is needed. The user might have changed "
                                    "or reset their password.")
    if core.now() >= record.expires_at:
        raise _invalid_grant(700082, "The refresh token has expired due to inactivity.")
    same_client = record.client_id.lower() == ctx.app.client_id.lower()
    same_family = record.family_id is not None and record.family_id == ctx.app.family_id
    if not (same_client or same_family):
        raise _invalid_grant(70000, "Provided grant is invalid or malformed.")
    if ctx.tenant is not None and ctx.tenant.tenant_id != record.signin.tenant_id:
        raise _invalid_grant(70000, "Provided grant is invalid or malformed.")
    scopes = _scopes(core, req, ctx, default="openid profile offline_access")
    claims = parse_claims(req.form.get("claims", ""))
    body = _user_grant(core, req, ctx, _user_of(core, record.signin), record.signin, scopes,
                       claims)
    if core.settings.revoke_rotated_refresh_tokens and "refresh_token" in body:
        record.revoked = True
    return body


def _password(core: Core, req: Request, ctx: _Ctx) -> dict[str, Any]:
    username = _required(req, "username")
    password = _required(req, "password")
    scopes = _scopes(core, req, ctx)
    user = core.directory.user(username)
    if user is None or not core.directory.user_in(user, ctx.tenant, ctx.alias):
        raise _invalid_grant(50034, f"The user account {{EUII Hidden}} does not exist in the "
                                    f"{ctx.label} directory. To sign into this application, the "
                                    "account must be added to the directory.")
    if not hmac.compare_digest(password.encode(), user.password.encode()):
        raise _invalid_grant(50126, "Error validating credentials due to invalid username or "
                                    "password.")
    tenant_id = core.directory.home_tenant(user).tenant_id
    signin = SignIn(user.object_id, tenant_id, int(core.now()), mfa=False)
    claims = parse_claims(req.form.get("claims", ""))
    return _user_grant(core, req, ctx, user, signin, scopes, claims)


def _client_credentials(core: Core, req: Request, ctx: _Ctx) -> dict[str, Any]:
    scope = _required(req, "scope")
    items = scope.split()
    if len(items) != 1 or not items[0].endswith("/.default"):
        raise EntraError(
            400, "invalid_scope", 1002012,
            f"The provided value for scope {scope[:200]} is not valid. Client credential flows "
            "must have a scope value with /.default suffixed to the resource identifier "
            "(application ID URI).",
        )
    resource = core.directory.resource_for(items[0][: -len("/.default")])
    if resource is None:
        raise EntraError(400, "invalid_resource", 500011,
                         f"The resource principal named {items[0][:-9][:200]} was not found in "
                         f"the tenant named {ctx.label}.")
    tenant = ctx.tenant
    if tenant is None:  # common, organizations, consumers: Entra wants a tenant here
        raise EntraError(400, "invalid_request", 50059,
                         "No tenant-identifying information found in either the request or "
                         "implied by any provided credentials.")
    claims = parse_claims(req.form.get("claims", ""))
    return mint_app_token(core, ctx.app, resource, tenant.tenant_id, ctx.azpacr, claims)


def _device_code(core: Core, req: Request, ctx: _Ctx) -> dict[str, Any]:
    value = _required(req, "device_code")
    record = core.state.device_codes.get(value)
    if record is None or record.client_id.lower() != ctx.app.client_id.lower():
        raise EntraError(400, "bad_verification_code", 70018,
                         "The device code was not recognized.")
    now = core.now()
    too_fast = record.last_poll and now - record.last_poll + POLL_TOLERANCE < record.interval
    record.last_poll = now
    if too_fast and record.status == "pending" and now < record.expires_at:
        record.interval += 5  # RFC 8628 §3.5: the client adds 5 s; expect it from now on
        raise EntraError(400, "slow_down", 70016,
                         "OAuth 2.0 device flow error. Authorization is pending. Polling too "
                         "frequently: wait the interval between requests, increased by 5 "
                         "seconds.")
    if record.status == "redeemed":
        raise _invalid_grant(54005, "The device code was already redeemed.")
    if core.now() >= record.expires_at:
        raise EntraError(400, "expired_token", 70019, "Verification code expired.")
    if record.status == "denied":
        raise EntraError(400, "authorization_declined", 65004,
                         "User declined to consent to access the app.")
    if record.status != "approved" or record.signin is None:
        raise EntraError(400, "authorization_pending", 70016,
                         "OAuth 2.0 device flow error. Authorization is pending. Continue "
                         "polling.")
    record.status = "redeemed"
    scopes = core.directory.parse_scopes(record.scope, tenant_label=ctx.label)
    claims = parse_claims(_json(record.claims)) if record.claims else ClaimsRequest()
    return _user_grant(core, req, ctx, _user_of(core, record.signin), record.signin, scopes,
                       claims)


def _on_behalf_of(core: Core, req: Request, ctx: _Ctx) -> dict[str, Any]:
    use = _required(req, "requested_token_use")
    if use != "on_behalf_of":
        raise EntraError(400, "invalid_request", 9002313,
                         "Invalid request. 'requested_token_use' must be 'on_behalf_of'.")
    assertion = _required(req, "assertion")
    scopes = _scopes(core, req, ctx)
    try:
        incoming = core.signer.verify(assertion, now=core.now())
    except TokenInvalid as exc:
        if exc.reason == "expired":
            raise _invalid_grant(500133, "Assertion is not within its valid time range. Ensure "
                                         "that the access token is not expired before using it "
                                         "for user assertion, or request a new token.") from None
        raise _invalid_grant(50013, "Assertion failed signature validation. [Reason - The key "
                                    "was not found.]") from None
    expected = {ctx.app.client_id.lower()}
    own = core.directory.resource_for(ctx.app.client_id)
    if own is not None:
        expected.add(own.identifier_uri.rstrip("/").lower())
    if str(incoming.get("aud", "")).lower() not in expected:
        raise _invalid_grant(500131, "Assertion audience does not match the Client app "
                                    "presenting the assertion. The audience in the assertion "
                                    f"was '{str(incoming.get('aud'))[:100]}' and the expected "
                                    f"audience is '{ctx.app.client_id}' or one of the "
                                    "Application Id URIs of this application.")
    user = core.directory.user_by_oid(str(incoming.get("oid", "")))
    if user is None or "scp" not in incoming:
        raise _invalid_grant(50013, "Assertion is not a user's delegated access token.")
    # A critical event (revoke_sessions) revokes the assertion; a milder CAE event
    # (revoke_access_tokens) does not: the middle tier may repeat on-behalf-of (with the
    # challenge's claims) and gets a fresh token. See docs/emulator.md, "On-behalf-of and CAE".
    if str(incoming.get("uti", "")) in core.state.sessions_revoked_uti:
        raise _invalid_grant(50173, "The provided grant has expired due to it being revoked, "
                                    "a fresh auth token is needed.")
    amr = incoming.get("amr")
    signin = SignIn(user.object_id, str(incoming.get("tid")), int(core.now()),
                    mfa=isinstance(amr, list) and "mfa" in amr)
    claims = parse_claims(req.form.get("claims", ""))
    return _user_grant(core, req, ctx, user, signin, scopes, claims)


_GRANTS = {
    "authorization_code": _authorization_code,
    "refresh_token": _refresh_token,
    "password": _password,
    "client_credentials": _client_credentials,
    GRANT_DEVICE_CODE: _device_code,
    "device_code": _device_code,
    GRANT_JWT_BEARER: _on_behalf_of,
}


def _user_fic(core: Core, req: Request, ctx: _Ctx) -> dict[str, Any]:
    user_fic.check_request(req)
    scopes = _scopes(core, req, ctx)
    user, signin = user_fic.signed_in_user(core, req, ctx)
    return _user_grant(core, req, ctx, user, signin, scopes,
                       parse_claims(req.form.get("claims", "")))


_GRANTS["user_fic"] = _user_fic
