"""The emulator's ``user_fic`` grant: an agent's instance token exchanged for a user's tokens.

Entra's agent identity flow, leg 3: a confidential client posts
``grant_type=user_fic`` with ``user_federated_identity_credential`` (a token the platform
issued to that same client for audience ``api://AzureADTokenExchange``) and ``username`` or
``user_id``; the answer is the user's tokens, as for any user grant (consent, MFA rules).
:func:`mint_instance_token` is the test control standing in for legs 1-2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .aadsts import EntraError, missing_parameter
from .core import Core, Request
from .minting import parse_claims
from .state import SignIn
from .tokens import TokenInvalid

if TYPE_CHECKING:
    from .emulator import Emulator

__all__ = ["TOKEN_EXCHANGE_AUDIENCE", "grant", "mint_instance_token"]

TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"


def _invalid_grant(code: int, message: str) -> EntraError:
    return EntraError(400, "invalid_grant", code, message)


def mint_instance_token(emulator: Emulator, client_id: str, *, lifetime: int = 3600) -> str:
    """A token the platform issued to ``client_id`` for ``api://AzureADTokenExchange`` (what
    an agent instance holds after legs 1 and 2 of the agent identity flow)."""
    core = emulator._core
    now = int(core.now())
    tenant_id = core.directory.default_tenant().tenant_id
    return core.signer.sign({
        "aud": TOKEN_EXCHANGE_AUDIENCE, "iss": core.issuer(tenant_id), "iat": now,
        "nbf": now, "exp": now + lifetime, "sub": client_id, "azp": client_id,
        "idtyp": "app", "tid": tenant_id, "ver": "2.0"})


def grant(core: Core, req: Request, ctx: Any) -> dict[str, Any]:
    """``grant_type=user_fic`` (called by the token endpoint with the client authenticated)."""
    from .token_endpoint import _scopes, _user_grant

    assertion = req.form.get("user_federated_identity_credential", "")
    if not assertion:
        raise missing_parameter("user_federated_identity_credential")
    username, user_id = req.form.get("username", ""), req.form.get("user_id", "")
    if bool(username) == bool(user_id):
        raise EntraError(400, "invalid_request", 900144,
                         "The request body must contain exactly one of 'username' and "
                         "'user_id'.")
    scopes = _scopes(core, req, ctx)
    try:
        incoming = core.signer.verify(assertion, now=core.now())
    except TokenInvalid:
        raise _invalid_grant(700211, "The federated identity credential is not valid or has "
                                     "expired.") from None
    if str(incoming.get("aud")) != TOKEN_EXCHANGE_AUDIENCE or str(
            incoming.get("sub", "")).lower() != ctx.app.client_id.lower():
        raise _invalid_grant(700212, "The federated identity credential was not issued to "
                                     f"the client '{ctx.app.client_id}' for audience "
                                     f"'{TOKEN_EXCHANGE_AUDIENCE}'.")
    user = (core.directory.user(username) if username
            else core.directory.user_by_oid(user_id))
    if user is None or not core.directory.user_in(user, ctx.tenant, ctx.alias):
        raise _invalid_grant(50034, "The user account {EUII Hidden} does not exist in the "
                                    f"{ctx.label} directory.")
    tenant_id = core.directory.home_tenant(user).tenant_id
    signin = SignIn(user.object_id, tenant_id, int(core.now()), mfa=False)
    result: dict[str, Any] = _user_grant(core, req, ctx, user, signin, scopes,
                                         parse_claims(req.form.get("claims", "")))
    return result
