"""``ClientApplication``: MSAL Python's common application API, run on the sans-I/O flows.

Every method builds a flow from :mod:`entra_auth.protocol.app_flows` and drives it with
``run_sync`` over the application's transport (a requests session, or the caller's
``http_client``). The async classes (:mod:`entra_auth.aio`) drive the same flows with
``run_async``; both build their configuration with :class:`~entra_auth._app_core.AppCore`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, TypeVar

from ._app_core import AppCore, reject_unknown_kwargs
from .concurrency import SingleFlight
from .protocol import app_flows
from .protocol.authority import AuthorityBuilder
from .protocol.extras import build_extras
from .protocol.messages import AppFlow
from .transport.driver import SyncTransport, run_sync

__all__ = ["ClientApplication"]

logger = logging.getLogger("entra_auth.application")
T = TypeVar("T")


class ClientApplication(AppCore):
    """The base of :class:`PublicClientApplication` and :class:`ConfidentialClientApplication`.

    Accepts MSAL Python's constructor parameters; see ``docs/client.md`` for the few that are
    accepted but have no effect here (broker flags, ``enable_pii_log``).
    """

    def _connect(
        self, http_client: Any, verify: Any, proxies: Mapping[str, str] | None, timeout: Any
    ) -> None:
        if http_client is not None:
            from .transport.requests_transport import HttpClientTransport

            self._transport: SyncTransport = HttpClientTransport(http_client)
        else:
            from .transport.requests_transport import RequestsTransport

            self._transport = RequestsTransport(verify=verify, proxies=proxies, timeout=timeout)
        self.http_client = http_client
        self._single_flight = SingleFlight()

    def _run(self, flow: AppFlow[T]) -> T | dict[str, Any]:
        return run_sync(app_flows.guard(flow), self._transport, flights=self._single_flight)

    # -- accounts --------------------------------------------------------------------------

    def get_accounts(self, username: str | None = None) -> list[dict[str, Any]]:
        """Accounts that signed in before (found in the cache).

        Args:
            username: Keep only accounts with this username (case-insensitive).

        Returns:
            A list of account dicts (``username``, ``home_account_id``, ``environment``...).
        """
        return self._account_list(
            self._run(app_flows.accounts(self._ctx, self.authority, username)))

    def remove_account(self, account: Mapping[str, Any]) -> None:
        """Sign the account out of this app: forget its tokens and account entries.

        Raises:
            ValueError: ``account`` is not an account dict.
        """
        self._run(app_flows.remove_account(self._ctx, self.authority, account))

    # -- authorization code ----------------------------------------------------------------

    def initiate_auth_code_flow(
        self,
        scopes: list[str],
        redirect_uri: str | None = None,
        state: str | None = None,
        prompt: str | None = None,
        login_hint: str | None = None,
        domain_hint: str | None = None,
        claims_challenge: str | None = None,
        max_age: int | None = None,
        response_mode: str | None = None,
    ) -> dict[str, Any]:
        """Start an auth code flow with PKCE, state and nonce.

        Returns:
            A dict with ``auth_uri`` (send the user there) and ``state``; keep the whole
            dict (e.g. in a session) for :meth:`acquire_token_by_auth_code_flow`. An error
            dict when discovery fails.

        Raises:
            ValueError: reserved or malformed scopes, or an unknown authority.
        """
        return self._result(self._run(app_flows.initiate_auth_code_flow(
            self._ctx, self.authority, scopes, redirect_uri=redirect_uri, state=state,
            prompt=prompt, login_hint=login_hint, domain_hint=domain_hint,
            claims_challenge=claims_challenge, max_age=max_age, response_mode=response_mode,
        )))

    def get_authorization_request_url(
        self,
        scopes: list[str],
        login_hint: str | None = None,
        state: str | None = None,
        redirect_uri: str | None = None,
        response_type: str = "code",
        prompt: str | None = None,
        nonce: str | None = None,
        domain_hint: str | None = None,
        claims_challenge: str | None = None,
        **kwargs: Any,
    ) -> str:
        """Build an authorization URL for a flow you manage yourself.

        Prefer :meth:`initiate_auth_code_flow`, which adds PKCE and checks state and nonce.

        Raises:
            ValueError: reserved scopes, or the authority's discovery failed.
        """
        return self._url(self._run(app_flows.authorization_request_url(
            self._ctx, self.authority, scopes, response_type=response_type,
            redirect_uri=redirect_uri, state=state, prompt=prompt, nonce=nonce,
            login_hint=login_hint, domain_hint=domain_hint, claims_challenge=claims_challenge,
            extra=kwargs,
        )))

    def acquire_token_by_auth_code_flow(
        self,
        auth_code_flow: Mapping[str, Any],
        auth_response: Mapping[str, Any],
        scopes: list[str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Validate the redirect's query/form parameters and redeem the code.

        Args:
            auth_code_flow: The dict from :meth:`initiate_auth_code_flow`.
            auth_response: The parameters the authorization server redirected back with.
            scopes: Optional subset of the flow's scopes.

        Returns:
            A token result, or an error dict (also when the user declined).

        Raises:
            ValueError: state mismatch (CSRF) or a malformed response.
            RuntimeError: (``IdTokenError``) nonce mismatch or a too-old ``auth_time``.
            TypeError: a keyword other than ``claims_challenge``.
        """
        claims_challenge = kwargs.pop("claims_challenge", None)
        reject_unknown_kwargs("acquire_token_by_auth_code_flow", kwargs)
        return self._result(self._run(app_flows.by_auth_code_flow(
            self._ctx, self.authority, auth_code_flow, auth_response, scopes, claims_challenge,
        )))

    def acquire_token_by_authorization_code(
        self,
        code: str,
        scopes: list[str],
        redirect_uri: str | None = None,
        nonce: str | None = None,
        claims_challenge: str | None = None,
        forwarded_client_claims: str | None = None,
        *,
        data: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Redeem an authorization code from :meth:`get_authorization_request_url`.

        ``forwarded_client_claims`` (a JSON object string) is merged into the request's
        ``claims`` and keys the cached access token; ``data`` adds form fields.

        Raises:
            ValueError: a malformed ``forwarded_client_claims`` or ``data``.
            TypeError: any other keyword argument.
        """
        reject_unknown_kwargs("acquire_token_by_authorization_code", kwargs)
        extras = build_extras(data, forwarded_client_claims=forwarded_client_claims)
        return self._result(self._run(app_flows.by_authorization_code(
            self._ctx, self.authority, code, scopes, redirect_uri=redirect_uri, nonce=nonce,
            claims_challenge=claims_challenge, extras=extras,
        )))

    # -- silent ----------------------------------------------------------------------------

    def acquire_token_silent(
        self,
        scopes: list[str],
        account: Mapping[str, Any] | None,
        authority: str | AuthorityBuilder | None = None,
        force_refresh: bool = False,
        claims_challenge: str | None = None,
        forwarded_client_claims: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """A token from the cache, refreshed if needed; None on any failure.

        Returns:
            A result with ``access_token`` (``token_source`` says ``cache`` or
            ``identity_provider``), or None.

        Raises:
            ValueError: a malformed ``forwarded_client_claims`` or ``data``.
            TypeError: an unknown keyword argument.
        """
        result = self.acquire_token_silent_with_error(
            scopes, account, authority=authority, force_refresh=force_refresh,
            claims_challenge=claims_challenge, forwarded_client_claims=forwarded_client_claims,
            **kwargs,
        )
        return self._without_error(result)

    def acquire_token_silent_with_error(
        self,
        scopes: list[str],
        account: Mapping[str, Any] | None,
        authority: str | AuthorityBuilder | None = None,
        force_refresh: bool = False,
        claims_challenge: str | None = None,
        forwarded_client_claims: str | None = None,
        *,
        data: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """Like :meth:`acquire_token_silent`, but a failed refresh returns its error dict.

        Concurrent calls needing the same token share one refresh request. A proactive
        refresh (``refresh_on``) that fails returns the still-valid cached token.

        Args:
            forwarded_client_claims: Claims (a JSON object string) the client forwards: only
                a token got with the same value is returned from the cache, and a refresh
                sends them merged into ``claims``.
            data: Extra form fields for a refresh; they key the cache too.

        Returns:
            A token result, None when the cache holds nothing usable, or an error dict.

        Raises:
            ValueError: a malformed ``forwarded_client_claims`` or ``data``.
            TypeError: an unknown keyword argument.
        """
        self._refuse_auth_scheme(kwargs)
        kwargs.pop("auth_scheme", None)
        reject_unknown_kwargs("acquire_token_silent_with_error", kwargs)
        extras = build_extras(data, forwarded_client_claims=forwarded_client_claims)
        chosen = self._authority_for(authority)
        hit = app_flows.silent_cached(
            self._ctx, chosen, scopes, account,
            force_refresh=force_refresh, claims_challenge=claims_challenge, extras=extras,
        )
        if hit is not None:
            return hit
        return self._run(app_flows.silent(
            self._ctx, chosen, scopes, account,
            force_refresh=force_refresh, claims_challenge=claims_challenge, extras=extras,
        ))

    # -- other grants ----------------------------------------------------------------------

    def acquire_token_by_refresh_token(
        self, refresh_token: str, scopes: list[str], **kwargs: Any
    ) -> dict[str, Any]:
        """Migrate a refresh token obtained elsewhere (e.g. ADAL) into this app's cache.

        Raises:
            TypeError: a keyword other than ``claims_challenge``.
        """
        claims_challenge = kwargs.pop("claims_challenge", None)
        reject_unknown_kwargs("acquire_token_by_refresh_token", kwargs)
        return self._result(self._run(app_flows.by_refresh_token(
            self._ctx, self.authority, refresh_token, scopes, claims_challenge)))

    def acquire_token_by_username_password(
        self,
        username: str,
        password: str,
        scopes: list[str],
        claims_challenge: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Resource owner password grant (managed accounts; not recommended).

        Returns:
            A token result, or an error dict (federated accounts are not supported).

        Raises:
            TypeError: a keyword other than ``data`` (extra form fields).
        """
        self._refuse_auth_scheme(kwargs)
        kwargs.pop("auth_scheme", None)
        data = kwargs.pop("data", None)
        reject_unknown_kwargs("acquire_token_by_username_password", kwargs)
        return self._result(self._run(app_flows.by_username_password(
            self._ctx, self.authority, username, password, scopes,
            claims_challenge=claims_challenge, data=data,
        )))
