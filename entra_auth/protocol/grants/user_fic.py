"""The ``user_fic`` grant: a federated identity credential exchanged for a user's token.

An agent (a confidential client) presents an instance token it obtained for itself
(``user_federated_identity_credential``) and names the user by ``username`` or ``user_id``
(object id); Entra returns that user's tokens, cached like any user sign-in. As msal 1.39's
``acquire_token_by_user_federated_identity_credential``.
"""

from __future__ import annotations

from typing import Any

from ..claims import merge_claims
from ..context import ClientContext
from ..discovery import AuthorityMetadata
from ..extras import NO_EXTRAS, Extras
from ..messages import Flow
from .common import obtain

__all__ = ["acquire", "check_arguments"]


def check_arguments(assertion: object, username: object, user_object_id: object) -> None:
    """msal's argument checks, done before any request (discovery included).

    Raises:
        ValueError: No assertion, or not exactly one of ``username``/``user_object_id``.
    """
    if not assertion or not isinstance(assertion, str):
        raise ValueError("assertion is required and must be non-empty")
    if not username and not user_object_id:
        raise ValueError("Either username or user_object_id must be provided")
    if username and user_object_id:
        raise ValueError("username and user_object_id are mutually exclusive")


def acquire(
    ctx: ClientContext,
    metadata: AuthorityMetadata,
    assertion: str,
    scopes: list[str],
    *,
    username: str | None = None,
    user_object_id: str | None = None,
    claims_challenge: str | None = None,
    extras: Extras = NO_EXTRAS,
) -> Flow[dict[str, Any]]:
    """POST ``grant_type=user_fic`` and cache the user's tokens.

    ``extras`` (``data``, forwarded claims) are sent and key the cached access token.

    Raises:
        ValueError: No assertion, or not exactly one of ``username``/``user_object_id``
            (msal's checks and messages).
    """
    check_arguments(assertion, username, user_object_id)
    fields: dict[str, str | None] = {**extras.form,
                                     "user_federated_identity_credential": assertion}
    if user_object_id:
        fields["user_id"] = str(user_object_id)
    else:
        fields["username"] = str(username)
    return (
        yield from obtain(
            ctx, metadata, "user_fic", fields, scopes=scopes,
            claims=extras.claims(merge_claims(claims_challenge, ctx.client_capabilities)),
            cache_fields=extras.cache_fields,
        )
    )
