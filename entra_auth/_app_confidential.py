"""``ConfidentialClientApplication``: web apps, web APIs and daemons with a credential.

MSAL Python's confidential-client API: client credentials, on-behalf-of, removal of app tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._app_base import ClientApplication
from ._app_core import ConfidentialRules, reject_unknown_kwargs
from .protocol import app_flows
from .protocol.extras import build_extras

__all__ = ["ConfidentialClientApplication"]


class ConfidentialClientApplication(ConfidentialRules, ClientApplication):
    """An application with a credential (secret, certificate or assertion)."""

    def acquire_token_for_client(
        self,
        scopes: list[str],
        claims_challenge: str | None = None,
        fmi_path: str | None = None,
        forwarded_client_claims: str | None = None,
        *,
        data: Mapping[str, str] | None = None,
        force_refresh: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """A token for the app itself (client credentials), from the cache when fresh.

        Args:
            scopes: Usually ``["{resource}/.default"]``.
            claims_challenge: Bypasses the cache and asks for these claims.
            fmi_path: A federated managed identity credential path, sent as the ``fmi_path``
                form field; the token is cached under it (an extended cache key).
            forwarded_client_claims: Claims (a JSON object string) the client forwards:
                merged into the request's ``claims``; unlike ``claims_challenge`` the token
                is cached, keyed on this value.
            data: Extra form fields to send (msal's ``data=``); they key the cache too.
            force_refresh: Bypasses the cached access token (a resource rejected it).
                An entra_auth extension: msal refuses this argument.

        Returns:
            A token result (``token_source`` ``cache`` or ``identity_provider``) or an
            error dict.

        Raises:
            ValueError: ``fmi_path`` is not a string, ``forwarded_client_claims`` is not a
                JSON object string, or ``data`` is not a dict of strings.
            TypeError: any other keyword argument.
        """
        reject_unknown_kwargs("acquire_token_for_client", kwargs)
        extras = build_extras(data, fmi_path=fmi_path,
                              forwarded_client_claims=forwarded_client_claims)
        hit = app_flows.for_client_cached(
            self._ctx, self.authority, scopes, claims_challenge, extras=extras,
            force_refresh=force_refresh)
        if hit is not None:
            return hit
        self._warn_if_multi_tenant()
        return self._result(self._run(app_flows.for_client(
            self._ctx, self.authority, scopes, claims_challenge, extras=extras,
            force_refresh=force_refresh)))

    def remove_tokens_for_client(self) -> None:
        """Remove the app-only tokens :meth:`acquire_token_for_client` cached."""
        self._remove_app_tokens()

    def acquire_token_on_behalf_of(
        self,
        user_assertion: str,
        scopes: list[str],
        claims_challenge: str | None = None,
        forwarded_client_claims: str | None = None,
        *,
        data: Mapping[str, str] | None = None,
        force_refresh: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Exchange an incoming user token for one to call a downstream API.

        Tokens are cached per assertion (by its SHA-256), so the same assertion asking for
        the same scopes is answered from the cache.

        Args:
            user_assertion: The incoming access token.
            scopes: The downstream API's scopes.
            claims_challenge: Bypasses the cache and asks for these claims.
            forwarded_client_claims: Claims (a JSON object string) merged into the request's
                ``claims``; the token is cached, keyed on this value.
            data: Extra form fields to send (msal's ``data=``); they key the cache too.
            force_refresh: Bypasses the cached access token, as when a resource rejected it
                (an entra_auth extension).

        Raises:
            ValueError: a malformed ``forwarded_client_claims`` or ``data``.
            TypeError: any other keyword argument.
        """
        reject_unknown_kwargs("acquire_token_on_behalf_of", kwargs)
        extras = build_extras(data, forwarded_client_claims=forwarded_client_claims)
        return self._result(self._run(app_flows.obo(
            self._ctx, self.authority, user_assertion, scopes, claims_challenge,
            extras=extras, force_refresh=force_refresh)))

    def acquire_token_by_user_federated_identity_credential(
        self,
        scopes: list[str],
        assertion: str,
        username: str | None = None,
        user_object_id: str | None = None,
        claims_challenge: str | None = None,
        forwarded_client_claims: str | None = None,
        *,
        data: Mapping[str, str] | None = None,
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
            ValueError: also a malformed ``forwarded_client_claims`` or ``data`` (merged into
                ``claims`` / sent, and keying the cached token, as for the other grants).
            TypeError: Another keyword argument.
        """
        reject_unknown_kwargs("acquire_token_by_user_federated_identity_credential", kwargs)
        extras = build_extras(data, forwarded_client_claims=forwarded_client_claims)
        return self._result(self._run(app_flows.by_user_fic(
            self._ctx, self.authority, scopes, assertion, username=username,
            user_object_id=user_object_id, claims_challenge=claims_challenge, extras=extras)))
