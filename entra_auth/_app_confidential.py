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
