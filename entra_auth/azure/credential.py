"""An Azure SDK credential (``get_token``/``get_token_info``) backed by an Entra client application.

Plugs entra_auth applications into azure-core pipelines (``BearerTokenCredentialPolicy``) and
SDKs built on them (Microsoft Graph SDK, Azure SDKs) without depending on azure-core: with
azure-core installed, tokens are its own ``AccessToken``/``AccessTokenInfo`` and errors its
``ClientAuthenticationError``; without it, look-alikes (:mod:`._azure_core`). The async twin is
``entra_auth.aio.EntraTokenCredential``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator, Iterable, Mapping
from types import TracebackType
from typing import Any, Literal

from ..errors import EntraAuthError, InteractionRequiredError, ProtocolError, TokenRequestError
from ..protocol.authority import check_tenant_id
from ..protocol.client_app import ClientApp, SyncApp, SyncConfidentialApp
from ..protocol.messages import AppCall
from ..transport.driver import run_sync
from ._azure_core import (
    AccessToken,
    AccessTokenInfo,
    TokenRequestOptions,
    access_token,
    access_token_info,
    azure_error,
)

__all__ = [
    "ADDITIONALLY_ALLOWED_TENANTS_ENV",
    "AccessToken",
    "AccessTokenInfo",
    "EntraTokenCredential",
    "TenantNotAllowedError",
    "TokenRequestOptions",
]

# azure-identity's variable: tenants (";"-separated, or "*") a credential may get tokens for
ADDITIONALLY_ALLOWED_TENANTS_ENV = "AZURE_ADDITIONALLY_ALLOWED_TENANTS"

_INTERACTION = frozenset({"interaction_required", "invalid_grant", "login_required",
                          "consent_required", "no_account", "insufficient_claims"})


class TenantNotAllowedError(EntraAuthError):
    """``get_token`` named a tenant this credential is not configured to get tokens for.

    azure-identity raises ``ClientAuthenticationError`` in this case; nothing was sent.
    """


def allowed_tenants(configured: Iterable[str] | None) -> frozenset[str]:
    """The lowercased ``additionally_allowed_tenants``, from the argument or the environment.

    Raises:
        ValueError: An entry is neither ``"*"`` nor a valid tenant id or domain.
    """
    if configured is None:
        text = os.environ.get(ADDITIONALLY_ALLOWED_TENANTS_ENV, "")
        configured = text.replace(",", ";").split(";")
    elif isinstance(configured, str):
        raise TypeError("additionally_allowed_tenants must be a list of tenants, not a string")
    entries = {str(t).strip() for t in configured if t and str(t).strip()}
    for entry in entries - {"*"}:
        check_tenant_id(entry, "additionally_allowed_tenants entry")
    return frozenset(e.lower() for e in entries)




TokenFlow = Generator[AppCall, Any, AccessTokenInfo]
Kind = Literal["app", "user", "obo"]


def _raise_for(result: object) -> Mapping[str, Any]:
    if isinstance(result, Mapping) and isinstance(result.get("access_token"), str):
        return result
    if result is None:
        raise InteractionRequiredError("interaction_required", "no token could be had silently")
    if not isinstance(result, Mapping):
        raise ProtocolError("bad_result", "the application returned no token result")
    error = str(result.get("error") or "unknown_error")
    kind = InteractionRequiredError if error in _INTERACTION else TokenRequestError
    raise kind.from_result(result)


def _info(result: Mapping[str, Any], now: float) -> AccessTokenInfo:
    try:
        expires_on = int(now + float(result.get("expires_in", 0)))
    except (TypeError, ValueError):
        raise ProtocolError("bad_result", "the token result has no valid expires_in") from None
    refresh_on: int | None = None
    raw = result.get("refresh_on")
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        refresh_on = int(raw)
    elif isinstance(result.get("refresh_in"), (int, float)):
        refresh_on = int(now + float(result["refresh_in"]))
    else:
        # No hint from the server: refresh five minutes early (MSAL's silent lookup deems a
        # token with less left expired), or half-way for a very short-lived token.
        lifetime = max(expires_on - now, 0.0)
        refresh_on = int(expires_on - min(300.0, lifetime / 2))
    info: AccessTokenInfo = access_token_info(
        str(result["access_token"]), expires_on,
        token_type=str(result.get("token_type") or "Bearer"), refresh_on=refresh_on)
    return info


class _CredentialCore:
    """What the sync and async credentials share: which application call gets the token."""

    def __init__(
        self,
        app: ClientApp,
        *,
        account: Mapping[str, Any] | str | None = None,
        user_assertion: str | None = None,
        clock: Callable[[], float] = time.time,
        additionally_allowed_tenants: Iterable[str] | None = None,
    ) -> None:
        self.allowed_tenants = allowed_tenants(additionally_allowed_tenants)
        confidential = hasattr(app, "acquire_token_for_client")
        if user_assertion is not None:
            if not hasattr(app, "acquire_token_on_behalf_of"):
                raise ValueError("on-behalf-of needs a ConfidentialClientApplication")
            if not isinstance(user_assertion, str) or not user_assertion:
                raise ValueError("user_assertion must be the incoming access token")
            self.kind: Kind = "obo"
        elif confidential and account is None:
            self.kind = "app"
        else:
            self.kind = "user"
        self.app = app
        self.account = account
        self.user_assertion = user_assertion
        self.clock = clock

    def flow(
        self, scopes: tuple[str, ...], claims: str | None, tenant_id: str | None
    ) -> TokenFlow:
        """The application calls that produce a token for ``scopes``."""
        if not scopes:
            raise ValueError("get_token needs at least one scope")
        scope_list = list(scopes)
        authority = self._authority_for(tenant_id)
        if self.kind == "obo":
            result = yield AppCall("acquire_token_on_behalf_of",
                                   (self.user_assertion, scope_list), {"claims_challenge": claims})
        elif self.kind == "app":
            result = yield AppCall("acquire_token_for_client", (scope_list,),
                                   {"claims_challenge": claims})
        else:
            account = yield from self._account()
            kwargs: dict[str, Any] = {"claims_challenge": claims}
            if authority is not None:
                kwargs["authority"] = authority
            result = yield AppCall("acquire_token_silent_with_error", (scope_list, account),
                                   kwargs)
            if result is None or (
                isinstance(result, Mapping) and str(result.get("error")) in _INTERACTION
            ):
                raise InteractionRequiredError(
                    str((result or {}).get("error") or "interaction_required"),
                    "no token could be had silently; sign the user in first",
                    claims=claims, result=result)
        return _info(_raise_for(result), self.clock())

    def _account(self) -> Generator[AppCall, Any, Mapping[str, Any]]:
        if isinstance(self.account, Mapping):
            return self.account
        kwargs = {"username": self.account} if isinstance(self.account, str) else {}
        accounts = yield AppCall("get_accounts", (), kwargs)
        if not accounts:
            raise InteractionRequiredError("no_account", "no signed-in account in the token cache")
        if len(accounts) > 1 and self.account is None:
            raise InteractionRequiredError(
                "account_selection_required",
                "several accounts are cached; pass account= to choose one")
        first: Mapping[str, Any] = accounts[0]
        return first

    def _authority_for(self, tenant_id: str | None) -> str | None:
        if not tenant_id:
            return None
        # The tenant usually comes from a resource's 401 challenge: it must not be able to
        # reshape the token endpoint's URL, nor send the refresh token to a tenant of its choice.
        check_tenant_id(tenant_id, "tenant_id")
        authority = self.app.authority
        url = str(getattr(authority, "url", authority))
        tenant = str(getattr(authority, "tenant", url.rstrip("/").rsplit("/", 1)[-1]))
        if tenant.lower() == tenant_id.lower() or tenant.lower() == "adfs":
            return None  # ADFS has one tenant (azure-identity ignores tenant_id there too)
        if "*" not in self.allowed_tenants and tenant_id.lower() not in self.allowed_tenants:
            raise TenantNotAllowedError(
                "tenant_not_allowed",
                f"this credential is not configured to get tokens for tenant {tenant_id!r}; "
                "add it to additionally_allowed_tenants (or $AZURE_ADDITIONALLY_ALLOWED_TENANTS)"
                ", or \"*\" to allow any tenant")
        if self.kind != "user":
            raise ValueError(
                f"this credential's application is for tenant {tenant!r}; "
                "app-only and on-behalf-of tokens for another tenant need an application "
                "configured with that tenant's authority")
        return f"{url.rstrip('/').rsplit('/', 1)[0]}/{tenant_id}"


class EntraTokenCredential:
    """An Azure SDK ``TokenCredential`` / ``SupportsTokenInfo`` over an Entra application.

    Example::

        app = entra_auth.ConfidentialClientApplication(CLIENT_ID, SECRET, authority=AUTHORITY)
        credential = EntraTokenCredential(app)
        policy = BearerTokenCredentialPolicy(credential, "https://graph.microsoft.com/.default")

    A confidential application without ``account`` gets app-only tokens (client credentials);
    with ``account`` (or a public application) the signed-in user's tokens, silently; with
    :meth:`on_behalf_of`, tokens on behalf of a web API's caller. For Continuous Access
    Evaluation, create the application with ``client_capabilities=["CP1"]``.
    """

    def __init__(
        self,
        app: SyncApp,
        *,
        account: Mapping[str, Any] | str | None = None,
        clock: Callable[[], float] = time.time,
        additionally_allowed_tenants: Iterable[str] | None = None,
        _user_assertion: str | None = None,
    ) -> None:
        """Wrap an application.

        Args:
            app: A ``PublicClientApplication`` or ``ConfidentialClientApplication`` (entra_auth
                or msal).
            account: The user whose tokens to get: an account dict from ``get_accounts()`` or
                a username. Default: app-only for a confidential application, the single
                cached account for a public one.
            clock: Seconds since the epoch (used to turn ``expires_in`` into ``expires_on``).
            additionally_allowed_tenants: Tenants besides the application's own that
                ``get_token(tenant_id=...)`` may ask for (``"*"``: any). Default: the
                ``;``-separated ``AZURE_ADDITIONALLY_ALLOWED_TENANTS`` variable, else none.

        Raises:
            ValueError: An on-behalf-of credential without a confidential application, or an
                allowed tenant that is not a tenant id or domain.
        """
        self._core = _CredentialCore(app, account=account, user_assertion=_user_assertion,
                                     clock=clock,
                                     additionally_allowed_tenants=additionally_allowed_tenants)

    @classmethod
    def on_behalf_of(cls, app: SyncConfidentialApp, user_assertion: str, *,
                     clock: Callable[[], float] = time.time,
                     additionally_allowed_tenants: Iterable[str] | None = None,
                     ) -> EntraTokenCredential:
        """A credential calling downstream APIs as the user whose token a web API received."""
        return cls(app, clock=clock, additionally_allowed_tenants=additionally_allowed_tenants,
                   _user_assertion=user_assertion)

    def __repr__(self) -> str:
        return f"EntraTokenCredential(kind={self._core.kind!r})"

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        """Get an access token (azure-core ``TokenCredential`` protocol).

        Args:
            scopes: E.g. ``"https://graph.microsoft.com/.default"``.
            claims: A claims challenge (decoded JSON) to satisfy; bypasses cached tokens.
            tenant_id: Another tenant for a user's token (silent, same cloud); it must be
                the application's own or one of ``additionally_allowed_tenants``.
            enable_cae: Whether the token may be CAE-capable. Here it depends on the
                wrapped application's ``client_capabilities`` (create it with
                ``["CP1"]``); the credentials entra_auth builds itself
                (:class:`~entra_auth.DefaultAzureCredential`'s sources) ask for ``CP1``
                only when True, and cache those tokens apart.

        Raises:
            InteractionRequiredError: The user must sign in (no account, revoked session).
            TokenRequestError: The identity provider refused the request.
            TenantNotAllowedError: ``tenant_id`` is not an allowed tenant (nothing was sent).
            ValueError: ``tenant_id`` is not a tenant id or domain.
        """
        options = token_request_options(claims, tenant_id, enable_cae)
        info = self.get_token_info(*scopes, options=options)
        token: AccessToken = access_token(info.token, info.expires_on)
        return token

    def get_token_info(
        self, *scopes: str, options: TokenRequestOptions | None = None
    ) -> AccessTokenInfo:
        """Get an access token with its type and refresh time (azure-core
        ``SupportsTokenInfo``); ``options`` may hold ``claims``, ``tenant_id``, ``enable_cae``.

        Raises:
            InteractionRequiredError: The user must sign in (no account, revoked session).
            TokenRequestError: The identity provider refused the request.
        """
        opts = options or {}
        flow = self._core.flow(scopes, opts.get("claims") or None, opts.get("tenant_id"))
        try:
            return run_sync(flow, app=self._core.app)
        except EntraAuthError as exc:
            raise azure_error(exc) from exc.__cause__

    def close(self) -> None:
        """Nothing to release (the application owns its HTTP client)."""

    def __enter__(self) -> EntraTokenCredential:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def token_request_options(claims: str | None, tenant_id: str | None,
                          enable_cae: bool) -> TokenRequestOptions:
    """azure-core's ``get_token_info`` options for ``get_token``'s keyword arguments."""
    options: TokenRequestOptions = {"enable_cae": enable_cae}
    if claims:
        options["claims"] = claims
    if tenant_id:
        options["tenant_id"] = tenant_id
    return options
