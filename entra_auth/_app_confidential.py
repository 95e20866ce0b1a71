"""``ConfidentialClientApplication``: web apps, web APIs and daemons with a credential.

MSAL Python's confidential-client API: client credentials, on-behalf-of, removal of app tokens.
"""

from __future__ import annotations

from typing import Any

from ._app_base import ClientApplication
from .protocol import app_flows

__all__ = ["ConfidentialClientApplication"]


class ConfidentialClientApplication(ClientApplication):
    """An application with a credential (secret, certificate or assertion)."""

    def __init__(self, client_id: str, client_credential: Any = None, **kwargs: Any) -> None:
        """Create a confidential client. Takes :class:`ClientApplication`'s arguments.

        Raises:
            ValueError: no or an unusable ``client_credential``.
        """
        if client_credential is None:
            raise ValueError("A confidential client application needs a client_credential")
        super().__init__(client_id, client_credential, **kwargs)

    def acquire_token_for_client(
        self, scopes: list[str], claims_challenge: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """A token for the app itself (client credentials), from the cache when fresh.

        Args:
            scopes: Usually ``["{resource}/.default"]``.
            claims_challenge: Bypasses the cache and asks for these claims.

        Returns:
            A token result (``token_source`` ``cache`` or ``identity_provider``) or an
            error dict.
        """
        flow = app_flows.for_client(self._ctx, self.authority, scopes, claims_challenge)
        if claims_challenge:
            return self._result(self._run(flow))
        key = ("client_credentials", self.client_id, " ".join(sorted(map(str, scopes or []))))
        return self._result(self._single_flight.do(key, lambda: self._run(flow)))

    def remove_tokens_for_client(self) -> None:
        """Remove the app-only tokens :meth:`acquire_token_for_client` cached."""
        self._ctx.cache.remove_app_tokens(
            client_id=self.client_id, environments=[self.authority.instance]
        )

    def acquire_token_on_behalf_of(
        self,
        user_assertion: str,
        scopes: list[str],
        claims_challenge: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Exchange an incoming user token for one to call a downstream API.

        Tokens are cached per assertion (by its SHA-256), so the same assertion asking for
        the same scopes is answered from the cache.
        """
        return self._result(self._run(app_flows.obo(
            self._ctx, self.authority, user_assertion, scopes, claims_challenge)))
