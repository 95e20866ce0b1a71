"""``ConfidentialClientApplication``: web apps, web APIs and daemons with a credential.

MSAL Python's confidential-client API: client credentials, on-behalf-of, removal of app tokens.
"""

from __future__ import annotations

from typing import Any

from ._app_base import ClientApplication
from ._app_core import ConfidentialRules
from .protocol import app_flows

__all__ = ["ConfidentialClientApplication"]


class ConfidentialClientApplication(ConfidentialRules, ClientApplication):
    """An application with a credential (secret, certificate or assertion)."""

    def acquire_token_for_client(
        self, scopes: list[str], claims_challenge: str | None = None, *,
        force_refresh: bool = False, **kwargs: Any
    ) -> dict[str, Any]:
        """A token for the app itself (client credentials), from the cache when fresh.

        Args:
            scopes: Usually ``["{resource}/.default"]``.
            claims_challenge: Bypasses the cache and asks for these claims.
            force_refresh: Bypasses the cached access token (a resource rejected it).
                An entra_auth extension: msal refuses this argument.

        Returns:
            A token result (``token_source`` ``cache`` or ``identity_provider``) or an
            error dict.
        """
        hit = app_flows.for_client_cached(
            self._ctx, self.authority, scopes, claims_challenge, force_refresh)
        if hit is not None:
            return hit
        return self._result(self._run(app_flows.for_client(
            self._ctx, self.authority, scopes, claims_challenge, force_refresh)))

    def remove_tokens_for_client(self) -> None:
        """Remove the app-only tokens :meth:`acquire_token_for_client` cached."""
        self._remove_app_tokens()

    def acquire_token_on_behalf_of(
        self,
        user_assertion: str,
        scopes: list[str],
        claims_challenge: str | None = None,
        *,
        force_refresh: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Exchange an incoming user token for one to call a downstream API.

        Tokens are cached per assertion (by its SHA-256), so the same assertion asking for
        the same scopes is answered from the cache; ``force_refresh`` (an entra_auth
        extension) bypasses the cached access token, as when a resource rejected it.
        """
        return self._result(self._run(app_flows.obo(
            self._ctx, self.authority, user_assertion, scopes, claims_challenge,
            force_refresh)))

    def acquire_token_by_user_federated_identity_credential(
        self,
        scopes: list[str],
        assertion: str,
        username: str | None = None,
        user_object_id: str | None = None,
        claims_challenge: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """A user's token for an agent, in exchange for its federated identity credential
        (the ``user_fic`` grant, msal 1.39's method of the same name).

        Args:
            scopes: Scopes of the downstream API.
            assertion: The federated identity credential (e.g. the agent's instance token).
            username: The user's UPN (or ``user_object_id``, not both).
            user_object_id: The user's object id.
            claims_challenge: Claims a resource asked for.

        Returns:
            A token result (the user's tokens are cached, so ``acquire_token_silent`` finds
            them afterwards) or an error dict.

        Raises:
            ValueError: No assertion, or not exactly one of ``username``/``user_object_id``.
            TypeError: Another keyword argument (msal's ``forwarded_client_claims`` and
                ``data`` are not supported here: refused rather than dropped).
        """
        if kwargs:
            raise TypeError("acquire_token_by_user_federated_identity_credential() got "
                            f"unsupported keyword arguments: {', '.join(sorted(kwargs))}")
        return self._result(self._run(app_flows.by_user_fic(
            self._ctx, self.authority, scopes, assertion, username=username,
            user_object_id=user_object_id, claims_challenge=claims_challenge)))
