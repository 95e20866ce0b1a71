"""The emulator's ``user_fic`` grant: an agent's instance token exchanged for a user's tokens.

Entra's agent identity flow, leg 3: a confidential client posts
``grant_type=user_fic`` with ``user_federated_identity_credential`` (a token the platform
issued to that same client for audience ``api://AzureADTokenExchange``) and ``username`` or
``user_id``; the answer is the user's tokens, as for any user grant (consent, MFA rules).
:func:`mint_instance_token` is the test control standing in for legs 1-2.
"""

from __future__ import annotations

from typing import Any

from .aadsts import EntraError, missing_parameter
from .core import Core, Request, RunningEmulator
from .model import User
from .state import SignIn
from .tokens import TokenInvalid

__all__ = ["TOKEN_EXCHANGE_AUDIENCE", "check_request", "mint_instance_token", "signed_in_user"]

TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"


def _invalid_grant(code: int, message: str) -> EntraError:
    return EntraError(400, "invalid_grant", code, message)


def mint_instance_token(emulator: RunningEmulator, client_id: str, *, lifetime: int = 3600) -> str:
    """A token the platform issued to ``client_id`` for ``api://AzureADTokenExchange`` (what
    an agent instance holds after legs 1 and 2 of the agent identity flow)."""
    core = emulator._core
    now = int(core.now())
    tenant_id = core.directory.default_tenant().tenant_id
    return core.signer.sign({
        "aud": TOKEN_EXCHANGE_AUDIENCE, "iss": core.issuer(tenant_id), "iat": now,
        "nbf": now, "exp": now + lifetime, "sub": client_id, "azp": client_id,
        "idtyp": "app", "tid": tenant_id, "ver": "2.0"})


def check_request(req: Request) -> None:
    """``grant_type=user_fic``'s own fields, checked before the scopes."""
    if not req.form.get("user_federated_identity_credential", ""):
        raise missing_parameter("user_federated_identity_credential")
    username, user_id = req.form.get("username", ""), req.form.get("user_id", "")
    if bool(username) == bool(user_id):
        raise EntraError(400, "invalid_request", 900144,
                         "The request body must contain exactly one of 'username' and "
                         "'user_id'.")


def signed_in_user(core: Core, req: Request, ctx: Any) -> tuple[User, SignIn]:
    """The user a valid federated identity credential of the (authenticated) client names.

    The token endpoint then issues that user's tokens (after :func:`check_request` and the
    scope check).
    """
    assertion = req.form.get("user_federated_identity_credential", "")
    username, user_id = req.form.get("username", ""), req.form.get("user_id", "")
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
    return user, SignIn(user.object_id, tenant_id, int(core.now()), mfa=False)
