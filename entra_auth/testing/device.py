"""Device authorization grant (RFC 8628): the devicecode endpoint and the device-login page.

The token endpoint's polling half lives in :mod:`.token_endpoint`; the user signs in here
through the same password/MFA/consent steps as the authorize endpoint.
"""

from __future__ import annotations

import secrets

from . import pages
from .aadsts import EntraError, missing_parameter
from .authorize import approve, continue_signin, decline, start_signin
from .core import Core, Reply, Request
from .minting import parse_claims
from .state import DeviceCode, SignIn

__all__ = ["approve", "decline", "devicecode", "devicelogin"]

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: people retype these


def devicecode(core: Core, req: Request, segment: str) -> Reply:
    """``POST /{tenant}/oauth2/v2.0/devicecode``."""
    if req.method != "POST":
        raise EntraError(400, "invalid_request", 900561,
                         "The endpoint only accepts POST, OPTIONS requests. Received a "
                         f"{req.method[:10]} request.")
    resolved, canonical = core.directory.resolve_tenant(segment)
    client_id = req.form.get("client_id", "").strip()
    if not client_id:
        raise missing_parameter("client_id")
    label = resolved.domain if resolved else canonical
    scope = req.form.get("scope", "").strip()
    if not scope:
        raise missing_parameter("scope")
    with core.state.lock:
        core.directory.require_app(client_id, label)
        core.directory.parse_scopes(scope, tenant_label=label)
        claims = parse_claims(req.form.get("claims", "")).raw
        user_code = "".join(secrets.choice(_ALPHABET) for _ in range(9))
        device_code = "DAQABIQEAAAB" + secrets.token_urlsafe(48)
        lifetime = core.settings.device_code_lifetime
        core.state.device_codes[device_code] = DeviceCode(
            client_id=client_id, authority_segment=segment, scope=scope, claims=claims,
            user_code=user_code, expires_at=core.now() + lifetime,
            interval=core.settings.device_poll_interval,
        )
        if core.settings.auto_approve:
            _auto_approve(core, core.state.device_codes[device_code], scope, label)
    uri = f"{core.base_url(req)}/devicelogin"
    return core.json_reply(req, {
        "user_code": user_code,
        "device_code": device_code,
        "verification_uri": uri,
        "expires_in": lifetime,
        "interval": core.settings.device_poll_interval,
        "message": f"To sign in, use a web browser to open the page {uri} and enter the code "
                   f"{user_code} to authenticate.",
    })


def _auto_approve(core: Core, record: DeviceCode, scope: str, label: str) -> None:
    """``settings.auto_approve``: the first user signs in (with MFA) and consents at once."""
    if not core.config.users:
        return
    user = core.config.users[0]
    scopes = core.directory.parse_scopes(scope, tenant_label=label)
    core.state.add_consent(user.object_id, record.client_id,
                           [scopes.full(n) for n in (scopes.resource.scopes if scopes.default
                                                     else scopes.names)])
    tenant_id = core.directory.home_tenant(user).tenant_id
    record.status = "approved"
    record.signin = SignIn(user.object_id, tenant_id, int(core.now()), mfa=True)


def _normalize(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def devicelogin(core: Core, req: Request) -> Reply:
    """``GET|POST /devicelogin``: enter the user code, then sign in and consent."""
    if req.method == "POST" and req.form.get("ctx"):
        return continue_signin(core, req)
    if req.method != "POST":
        return Reply.html(pages.code_entry_page("/devicelogin"))
    entered = _normalize(req.form.get("otc", ""))
    with core.state.lock:
        found = None
        for device_code, record in core.state.device_codes.items():
            if record.user_code == entered and record.status == "pending":
                found = device_code, record
                break
        if found is None or core.now() >= found[1].expires_at:
            return Reply.html(pages.code_entry_page(
                "/devicelogin",
                error="AADSTS70018: That code didn't work. Check the code and try again."))
        device_code, record = found
        txn = {
            "kind": "device", "client_id": record.client_id, "scope": record.scope,
            "tenant": record.authority_segment, "device_code": device_code,
            "action": "/devicelogin",
        }
        try:
            return start_signin(core, req, txn)
        except Exception as exc:  # a redirect error has nowhere to go on this page
            err = getattr(exc, "err", None)
            if isinstance(err, EntraError):
                return Reply.html(pages.error_page(err.code, err.message), 400)
            raise
