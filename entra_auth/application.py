"""MSAL-compatible client applications (``msal.application`` equivalents) and ``Prompt``.

What is where, top to bottom:

* :class:`ClientApplication`: MSAL Python's common API (accounts, auth code, silent, refresh
  token, username/password). Every method builds a flow from
  :mod:`entra_auth.protocol.app_flows` and drives it with ``run_sync`` over the application's
  transport (a requests session, or the caller's ``http_client``).
* :class:`PublicClientApplication`: desktop, mobile and CLI apps (interactive, device code).
  Broker flags are accepted and ignored (no broker support).
* :class:`ConfidentialClientApplication`: web apps, web APIs and daemons with a credential
  (client credentials, on-behalf-of, user federated identity credential).
* :func:`extract_certs` and :class:`Prompt`, as in ``msal.application``.

The async classes (:mod:`entra_auth.aio`) drive the same flows with ``run_async``; both kinds
build their configuration with :class:`~entra_auth._app_core.AppCore`. Both call a cache that
does storage I/O through the same protocol, at the same points (:mod:`entra_auth.cache.backend`,
:meth:`ClientApplication._cached`): load what a method reads before it runs, flush after.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any, TypeVar

from ._app_core import (
    AppCore,
    ConfidentialRules,
    PublicRules,
    home_account_id_of,
    reject_unknown_kwargs,
)
from .cache.backend import WRITES_ONLY, CacheIO, CallReads, sync_cache_io
from .cache.schema import assertion_hash
from .protocol import app_flows
from .protocol.authority import Authority, AuthorityBuilder
from .protocol.discovery import AuthorityMetadata, discover, known_metadata
from .protocol.extras import Extras, build_extras
from .protocol.messages import AppFlow
from .transport.driver import SyncTransport, run_sync
from .transport.singleflight import SingleFlight

__all__ = ["ClientApplication", "ConfidentialClientApplication", "Prompt",
           "PublicClientApplication", "extract_certs"]

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
        if inspect.iscoroutinefunction(self._sleep):
            raise TypeError("sleep must be a blocking function here (an async one is never "
                            "awaited): pass async sleeps to the entra_auth.aio applications")
        if http_client is not None:
            from .transport.requests_transport import HttpClientTransport

            self._transport: SyncTransport = HttpClientTransport(http_client)
        else:
            from .transport.requests_transport import RequestsTransport

            self._transport = RequestsTransport(verify=verify, proxies=proxies, timeout=timeout,
                                                sleep=self._sleep)
        self.http_client = http_client
        self._single_flight = SingleFlight()
        # The cache backend protocol (entra_auth.cache.backend): None for an in-memory cache;
        # ValueError for a cache that can only load by awaiting.
        self._cache_io: CacheIO | None = sync_cache_io(self.token_cache)

    def _run(self, flow: AppFlow[T]) -> T | dict[str, Any]:
        return run_sync(app_flows.guard(flow), self._transport, self._sleep or time.sleep,
                        flights=self._single_flight)

    def _cached(self, call: Callable[[], T], reads: CallReads = WRITES_ONLY) -> T:
        """Run ``call`` between the cache's load of ``reads`` and its flush (the
        :class:`~entra_auth.cache.backend.CacheIO` protocol); a plain cache: just run it."""
        cache_io = self._cache_io
        if cache_io is None:
            return call()
        with cache_io.around_call(reads):
            return call()

    def _realm(self, authority: Authority) -> str | dict[str, Any]:
        """The cache realm of ``authority`` (its token endpoint's tenant; discovered once), or
        the error dict its discovery failed with, which the call returns as it is (the flow
        would send the failing request again)."""
        metadata = known_metadata(self._ctx, authority)
        if metadata is None:
            found = self._run(discover(self._ctx, authority))
            if not isinstance(found, AuthorityMetadata):
                return found
            metadata = found
        return metadata.realm

    # -- accounts --------------------------------------------------------------------------

    def get_accounts(self, username: str | None = None) -> list[dict[str, Any]]:
        """Accounts that signed in before (found in the cache).

        Args:
            username: Keep only accounts with this username (case-insensitive).

        Returns:
            A list of account dicts (``username``, ``home_account_id``, ``environment``...).
        """
        return self._account_list(self._cached(
            lambda: self._run(app_flows.accounts(self._ctx, self.authority, username)),
            CallReads(all_accounts=True)))

    def remove_account(self, account: Mapping[str, Any]) -> None:
        """Sign the account out of this app: forget its tokens and account entries.

        Raises:
            ValueError: ``account`` is not an account dict.
        """
        self._cached(
            lambda: self._run(app_flows.remove_account(self._ctx, self.authority, account)),
            CallReads(home_account_id=home_account_id_of(account), client_id=self.client_id,
                      app_metadata=True))

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
        return self._result(self._cached(lambda: self._run(app_flows.by_auth_code_flow(
            self._ctx, self.authority, auth_code_flow, auth_response, scopes, claims_challenge,
        ))))

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
        return self._result(self._cached(lambda: self._run(app_flows.by_authorization_code(
            self._ctx, self.authority, code, scopes, redirect_uri=redirect_uri, nonce=nonce,
            claims_challenge=claims_challenge, extras=extras,
        ))))

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
        if self._cache_io is None:  # in memory: the hit costs one plain lookup
            hit = app_flows.silent_cached(
                self._ctx, chosen, scopes, account,
                force_refresh=force_refresh, claims_challenge=claims_challenge, extras=extras,
            )
            if hit is not None:
                return hit
            return self._silent(
                chosen, scopes, account, force_refresh, claims_challenge, extras)
        home = home_account_id_of(account)
        # Discovered first (once), so that the cached-token check runs before any refresh;
        # account=None looks for the app's own token (the app partition of the realm).
        realm = self._realm(chosen)
        if isinstance(realm, dict):
            return realm
        tenant = None if home or account is not None else realm
        return self._cached(
            lambda: self._silent(
                chosen, scopes, account, force_refresh, claims_challenge, extras),
            CallReads(home_account_id=home, client_id=self.client_id, tenant=tenant))

    def _silent(
        self,
        chosen: Authority,
        scopes: list[str],
        account: Mapping[str, Any] | None,
        force_refresh: bool,
        claims_challenge: str | None,
        extras: Extras,
    ) -> dict[str, Any] | None:
        hit = app_flows.silent_cached(
            self._ctx, chosen, scopes, account,
            force_refresh=force_refresh, claims_challenge=claims_challenge, extras=extras,
        )
        if hit is not None:
            return hit
        # A refresh also reads the app's metadata (its FOCI family).
        return self._cached(lambda: self._run(app_flows.silent(
            self._ctx, chosen, scopes, account,
            force_refresh=force_refresh, claims_challenge=claims_challenge, extras=extras,
        )), CallReads(client_id=self.client_id, app_metadata=True))

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
        return self._result(self._cached(lambda: self._run(app_flows.by_refresh_token(
            self._ctx, self.authority, refresh_token, scopes, claims_challenge))))

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
        return self._result(self._cached(lambda: self._run(app_flows.by_username_password(
            self._ctx, self.authority, username, password, scopes,
            claims_challenge=claims_challenge, data=data,
        ))))


class PublicClientApplication(PublicRules, ClientApplication):
    """An application that can't keep a secret: it signs users in."""

    def acquire_token_interactive(
        self,
        scopes: list[str],
        prompt: str | None = None,
        login_hint: str | None = None,
        domain_hint: str | None = None,
        claims_challenge: str | None = None,
        timeout: float | None = None,
        port: int | None = None,
        extra_scopes_to_consent: list[str] | None = None,
        max_age: int | None = None,
        parent_window_handle: int | None = None,
        on_before_launching_ui: Any = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Sign a user in through the system browser (see ``docs/interactive.md``).

        Parameters are msal's, in msal's positional order; broker-only ones
        (``parent_window_handle``) are accepted and ignored.

        Raises:
            TypeError: a keyword other than these and ``response_mode`` (checked before the
                browser opens).
        """
        from .interactive import acquire_token_interactive

        self._refuse_auth_scheme(kwargs)
        kwargs.pop("auth_scheme", None)
        reject_unknown_kwargs("acquire_token_interactive",
                              {k: v for k, v in kwargs.items() if k != "response_mode"})
        result: dict[str, Any] = acquire_token_interactive(
            self, scopes, prompt=prompt, login_hint=login_hint, domain_hint=domain_hint,
            claims_challenge=claims_challenge, timeout=timeout, port=port,
            extra_scopes_to_consent=extra_scopes_to_consent, max_age=max_age,
            parent_window_handle=parent_window_handle,
            on_before_launching_ui=on_before_launching_ui, **kwargs)
        return result

    def initiate_device_flow(
        self,
        scopes: list[str] | None = None,
        *,
        claims_challenge: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Ask for a device code.

        Returns:
            The flow dict: show ``flow["message"]`` to the user (it is always present on
            success), then pass the dict to :meth:`acquire_token_by_device_flow`. Without
            ``user_code`` it is an error dict.

        Raises:
            TypeError: an unknown keyword argument.
        """
        reject_unknown_kwargs("initiate_device_flow", kwargs)
        return self._result(self._run(app_flows.initiate_device_flow(
            self._ctx, self.authority, scopes or [], claims_challenge)))

    def acquire_token_by_device_flow(
        self,
        flow: MutableMapping[str, Any],
        claims_challenge: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Poll until the user signs in, the code expires, or ``flow["expires_at"] = 0``.

        Raises:
            ValueError: ``flow`` is not a device flow dict.
            TypeError: an unknown keyword argument.
        """
        reject_unknown_kwargs("acquire_token_by_device_flow", kwargs)
        return self._result(self._cached(lambda: self._run(app_flows.by_device_flow(
            self._ctx, self.authority, flow, claims_challenge))))


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
        if self._cache_io is None:  # in memory: the hit costs one plain lookup
            hit = app_flows.for_client_cached(
                self._ctx, self.authority, scopes, claims_challenge, extras=extras,
                force_refresh=force_refresh)
            if hit is not None:
                return hit
            return self._for_client(scopes, claims_challenge, extras, force_refresh)
        tenant = self._realm(self.authority)
        if isinstance(tenant, dict):
            return tenant
        return self._cached(
            lambda: self._for_client(scopes, claims_challenge, extras, force_refresh),
            CallReads(client_id=self.client_id, tenant=tenant))

    def _for_client(
        self, scopes: list[str], claims_challenge: str | None, extras: Extras,
        force_refresh: bool = False,
    ) -> dict[str, Any]:
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
        self._cached(self._remove_app_tokens, CallReads(all_app_tokens_of=self.client_id))

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
        reads = WRITES_ONLY if self._cache_io is None else CallReads(
            user_assertion_hash=assertion_hash(user_assertion))
        return self._result(self._cached(lambda: self._run(app_flows.obo(
            self._ctx, self.authority, user_assertion, scopes, claims_challenge,
            extras=extras, force_refresh=force_refresh)), reads))

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
        return self._result(self._cached(lambda: self._run(app_flows.by_user_fic(
            self._ctx, self.authority, scopes, assertion, username=username,
            user_object_id=user_object_id, claims_challenge=claims_challenge, extras=extras))))


def extract_certs(public_cert_content: str) -> list[str]:
    """msal's ``msal.application.extract_certs``: the certificates of a PEM text, for ``x5c``.

    Each ``BEGIN/END CERTIFICATE`` block gives its base64 body; text without such blocks is
    taken as one certificate body.

    Raises:
        ValueError: the text holds a private key instead of a certificate.
    """
    from .credentials.certificate import pem_certificates

    return pem_certificates(public_cert_content)


class Prompt:
    """OIDC ``prompt`` values (OpenID Connect Core 1.0 section 3.1.2.1)."""

    NONE = "none"
    LOGIN = "login"
    CONSENT = "consent"
    SELECT_ACCOUNT = "select_account"
    CREATE = "create"
