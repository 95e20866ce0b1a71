"""Resource owner password credentials grant, with Entra's user realm discovery.

RFC 6749 section 4.3. Entra's ``/common/userrealm/{user}`` tells managed from federated accounts;
federated ones need WS-Trust, which is not supported (an error dict says so).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..claims import merge_claims
from ..context import ClientContext, FlowError
from ..discovery import AuthorityMetadata
from ..messages import Flow
from ..token_request import error_result, get_json
from .common import obtain

__all__ = ["acquire"]


def acquire(
    ctx: ClientContext,
    metadata: AuthorityMetadata,
    username: str,
    password: str,
    scopes: list[str],
    *,
    claims_challenge: str | None = None,
    extra: dict[str, str] | None = None,
) -> Flow[dict[str, Any]]:
    """Ask the user realm, then POST ``grant_type=password`` for a managed account."""
    if not isinstance(username, str) or not username or not isinstance(password, str):
        raise ValueError("username and password must be non-empty strings")
    authority = metadata.authority
    if authority.kind == "aad":
        try:
            _, body = yield from get_json(
                ctx,
                f"{authority.origin}/common/userrealm/{quote(username, safe='@')}",
                {"api-version": "1.0"},
                what="user realm endpoint",
            )
        except FlowError:
            body = None  # realm discovery is advisory; the token request will tell
        if isinstance(body, dict) and body.get("account_type") == "Federated":
            return error_result(
                "federated_account_unsupported",
                "This account is federated to another identity provider; username/password "
                "sign-in for federated accounts (WS-Trust) is not supported. Use an "
                "interactive or device code flow.",
            )
    fields: dict[str, str | None] = {"username": username, "password": password}
    fields.update(extra or {})
    return (
        yield from obtain(
            ctx,
            metadata,
            "password",
            fields,
            scopes=scopes,
            claims=merge_claims(claims_challenge, ctx.client_capabilities),
        )
    )
