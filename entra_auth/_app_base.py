"""``ClientApplication``: MSAL Python's common application API, run on the sans-I/O flows.

Every method builds a flow from :mod:`entra_auth.protocol.app_flows` and drives it with
``run_sync`` over the application's transport (a requests session, or the caller's
``http_client``). The async classes will drive the same flows with ``run_async``.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
import time
from collections.abc import Mapping, MutableMapping
from typing import Any, TypeVar

from .concurrency import SingleFlight
from .protocol import app_flows
from .protocol.authority import Authority, AuthorityBuilder, parse_authority, parse_oidc_authority
from .protocol.context import CacheLike, ClientAuth, ClientContext
from .protocol.messages import Flow
from .transport.driver import SyncTransport, run_sync

__all__ = ["ClientApplication"]

logger = logging.getLogger("entra_auth")
T = TypeVar("T")
DEFAULT_AUTHORITY = "https://login.microsoftonline.com/common"
SKU = "entra_auth.Python"


def _version() -> str:
    from . import __version__

    return __version__


class ClientApplication:
    """The base of :class:`PublicClientApplication` and :class:`ConfidentialClientApplication`.

    Accepts MSAL Python's constructor parameters; see ``docs/client.md`` for the few that are
    accepted but have no effect here (broker flags, ``enable_pii_log``).
    """

    ATTEMPT_REGION_DISCOVERY = True
    DISABLE_MSAL_FORCE_REGION = False
    _TOKEN_SOURCE = "token_source"
    _TOKEN_SOURCE_IDP = "identity_provider"
    _TOKEN_SOURCE_CACHE = "cache"

    def __init__(
        self,
        client_id: str,
        client_credential: Any = None,
        authority: str | AuthorityBuilder | None = None,
        validate_authority: bool = True,
        token_cache: Any = None,
        http_client: Any = None,
        verify: Any = True,
        proxies: Mapping[str, str] | None = None,
        timeout: Any = None,
        client_claims: Mapping[str, Any] | None = None,
        app_name: str | None = None,
        app_version: str | None = None,
        client_capabilities: list[str] | None = None,
        azure_region: str | bool | None = None,
        exclude_scopes: list[str] | None = None,
        http_cache: MutableMapping[str, Any] | None = None,
        instance_discovery: bool | None = None,
        allow_broker: bool | None = None,
        enable_pii_log: bool | None = None,
        oidc_authority: str | None = None,
    ) -> None:
        """Create an application (no network I/O happens until the first token request).

        Args:
            client_id: The application (client) id registered in Entra ID.
            client_credential: None for a public client; for a confidential client a secret
                string, a certificate dict (``private_key`` + ``thumbprint`` or
                ``public_certificate``, optional ``passphrase``; or ``private_key_pfx_path``),
                or ``{"client_assertion": str_or_callable}``.
            authority: ``https://{host}/{tenant}`` (default ``.../common``) or an
                :class:`AuthorityBuilder`; http is accepted only for loopback hosts.
            validate_authority: False skips instance discovery for unknown hosts.
            token_cache: A ``TokenCache``; a new in-memory one by default.
            http_client: An object with MSAL's ``post``/``get`` interface.
            verify: ``verify`` for requests (ignored with ``http_client``).
            proxies: ``proxies`` for requests (ignored with ``http_client``).
            timeout: ``timeout`` for requests (ignored with ``http_client``).
            client_claims: Extra claims signed into a certificate's client assertion.
            app_name: Sent as ``x-app-name``.
            app_version: Sent as ``x-app-ver``.
            client_capabilities: e.g. ``["CP1"]``, sent in every request's ``claims``.
            azure_region: A region name, ``ATTEMPT_REGION_DISCOVERY`` or None (off).
            exclude_scopes: Reserved scopes not to add (``openid`` can't be excluded).
            http_cache: A dict-like store for throttling state and discovery documents.
            instance_discovery: False to never ask the instance discovery endpoint.
            allow_broker: Accepted for compatibility; brokers are not supported.
            enable_pii_log: Accepted for compatibility; nothing personal is ever logged.
            oidc_authority: A generic OpenID Connect issuer URL, instead of ``authority``.

        Raises:
            ValueError: a malformed or non-https authority, both ``authority`` and
                ``oidc_authority``, bad ``exclude_scopes``, or an unusable credential.
        """
        if not isinstance(client_id, str) or not client_id:
            raise ValueError("client_id must be a non-empty string")
        if oidc_authority and authority:
            raise ValueError("Pass either authority or oidc_authority, not both")
        self.client_id = client_id
        self.client_credential = client_credential
        self.authority: Authority = (
            parse_oidc_authority(oidc_authority) if oidc_authority
            else parse_authority(authority or DEFAULT_AUTHORITY)
        )
        if exclude_scopes is not None and not isinstance(exclude_scopes, list):
            raise ValueError(f"Invalid exclude_scopes={exclude_scopes!r}: it must be a list")
        if "openid" in (exclude_scopes or []):
            raise ValueError('Invalid exclude_scopes: you can not opt out of the "openid" scope')
        if client_capabilities is not None and not isinstance(client_capabilities, list):
            raise ValueError("client_capabilities must be a list of strings, e.g. ['CP1']")
        if token_cache is None:
            from .cache import TokenCache

            token_cache = TokenCache()
        self.token_cache = token_cache
        self.app_name = app_name
        self.app_version = app_version
        self._broker_requested = bool(allow_broker)
        del enable_pii_log
        if http_client is not None:
            from .transport.requests_transport import HttpClientTransport

            self._transport: SyncTransport = HttpClientTransport(http_client)
        else:
            from .transport.requests_transport import RequestsTransport

            self._transport = RequestsTransport(verify=verify, proxies=proxies, timeout=timeout)
        self.http_client = http_client
        headers = {
            "x-client-sku": SKU,
            "x-client-ver": _version(),
            "x-client-os": sys.platform,
        }
        if app_name:
            headers["x-app-name"] = app_name
        if app_version:
            headers["x-app-ver"] = app_version
        self._ctx = ClientContext(
            client_id=client_id,
            cache=self._as_cache(token_cache),
            clock=time.time,
            random_bytes=secrets.token_bytes,
            client_auth=self._build_client_auth(client_credential, client_claims),
            telemetry_headers=headers,
            client_capabilities=tuple(client_capabilities or ()),
            exclude_scopes=frozenset(exclude_scopes or ()),
            http_cache=http_cache if http_cache is not None else {},
            instance_discovery=instance_discovery is not False,
            validate_authority=bool(validate_authority),
            azure_region=azure_region,
            environ=os.environ,
        )
        self._single_flight = SingleFlight()

    @staticmethod
    def _as_cache(token_cache: Any) -> CacheLike:
        needed = ("add", "find_access_token", "find_refresh_tokens", "find_accounts")
        missing = [name for name in needed if not callable(getattr(token_cache, name, None))]
        if missing:
            raise ValueError(
                "token_cache must be an entra_auth TokenCache (or SerializableTokenCache); "
                f"it lacks {', '.join(missing)}"
            )
        cache: CacheLike = token_cache
        return cache

    def _build_client_auth(
        self, client_credential: Any, client_claims: Mapping[str, Any] | None
    ) -> ClientAuth | None:
        if client_credential is None:
            return None
        from .credentials import build_client_auth

        auth: ClientAuth = build_client_auth(
            client_credential,
            client_id=self.client_id,
            client_claims=client_claims,
            is_adfs=self.authority.kind == "adfs",
        )
        return auth

    # -- plumbing --------------------------------------------------------------------------

    def _run(self, flow: Flow[T]) -> T | dict[str, Any]:
        return run_sync(app_flows.guard(flow), self._transport)

    def _authority_for(self, authority: str | AuthorityBuilder | None) -> Authority:
        return parse_authority(authority) if authority else self.authority

    @staticmethod
    def _result(value: object) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise TypeError("internal error: a flow returned a non-dict result")
        return value

    def is_pop_supported(self) -> bool:
        """Proof-of-possession needs a broker, which is not supported: always False."""
        return False

    # -- accounts --------------------------------------------------------------------------

    def get_accounts(self, username: str | None = None) -> list[dict[str, Any]]:
        """Accounts that signed in before (found in the cache).

        Args:
            username: Keep only accounts with this username (case-insensitive).

        Returns:
            A list of account dicts (``username``, ``home_account_id``, ``environment``...).
        """
        found = self._run(app_flows.accounts(self._ctx, self.authority, username))
        return found if isinstance(found, list) else []

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
        params: dict[str, Any] = {
            "response_type": response_type, "redirect_uri": redirect_uri, "state": state,
            "prompt": prompt, "nonce": nonce, "login_hint": login_hint,
            "domain_hint": domain_hint,
        }
        params.update({k: v for k, v in kwargs.items() if isinstance(v, (str, int))})
        url = self._run(app_flows.authorization_request_url(
            self._ctx, self.authority, scopes, params, claims_challenge))
        if not isinstance(url, str):
            raise ValueError(
                f"Could not build the authorization URL: {url.get('error_description')}")
        return url

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
        """
        return self._result(self._run(app_flows.by_auth_code_flow(
            self._ctx, self.authority, auth_code_flow, auth_response, scopes,
            kwargs.get("claims_challenge"),
        )))

    def acquire_token_by_authorization_code(
        self,
        code: str,
        scopes: list[str],
        redirect_uri: str | None = None,
        nonce: str | None = None,
        claims_challenge: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Redeem an authorization code from :meth:`get_authorization_request_url`."""
        return self._result(self._run(app_flows.by_authorization_code(
            self._ctx, self.authority, code, scopes, redirect_uri=redirect_uri, nonce=nonce,
            claims_challenge=claims_challenge,
        )))

    # -- silent ----------------------------------------------------------------------------

    def acquire_token_silent(
        self,
        scopes: list[str],
        account: Mapping[str, Any] | None,
        authority: str | AuthorityBuilder | None = None,
        force_refresh: bool = False,
        claims_challenge: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """A token from the cache, refreshed if needed; None on any failure.

        Returns:
            A result with ``access_token`` (``token_source`` says ``cache`` or
            ``identity_provider``), or None.
        """
        result = self.acquire_token_silent_with_error(
            scopes, account, authority=authority, force_refresh=force_refresh,
            claims_challenge=claims_challenge, **kwargs,
        )
        return result if result and "error" not in result else None

    def acquire_token_silent_with_error(
        self,
        scopes: list[str],
        account: Mapping[str, Any] | None,
        authority: str | AuthorityBuilder | None = None,
        force_refresh: bool = False,
        claims_challenge: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """Like :meth:`acquire_token_silent`, but a failed refresh returns its error dict.

        Concurrent calls needing the same token share one refresh request. A proactive
        refresh (``refresh_on``) that fails returns the still-valid cached token.

        Returns:
            A token result, None when the cache holds nothing usable, or an error dict.
        """
        state = self._run(app_flows.silent_prepare(
            self._ctx, self._authority_for(authority), scopes, account,
            force_refresh=force_refresh, claims_challenge=claims_challenge,
        ))
        if not isinstance(state, app_flows.SilentState):
            return state
        plan = state.plan
        if plan.result is not None and (
            not plan.refresh_due or self._single_flight.busy(plan.key)
        ):
            return plan.result
        outcome = self._single_flight.do(
            plan.key, lambda: self._run(app_flows.silent_complete(self._ctx, state))
        )
        return outcome

    # -- other grants ----------------------------------------------------------------------

    def acquire_token_by_refresh_token(
        self, refresh_token: str, scopes: list[str], **kwargs: Any
    ) -> dict[str, Any]:
        """Migrate a refresh token obtained elsewhere (e.g. ADAL) into this app's cache."""
        return self._result(self._run(app_flows.by_refresh_token(
            self._ctx, self.authority, refresh_token, scopes, kwargs.get("claims_challenge"))))

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
        """
        data = kwargs.get("data")
        extra = {k: str(v) for k, v in data.items()} if isinstance(data, dict) else None
        return self._result(self._run(app_flows.by_username_password(
            self._ctx, self.authority, username, password, scopes,
            claims_challenge=claims_challenge, extra=extra,
        )))
