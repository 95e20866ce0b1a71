"""A protected web API: authenticate incoming bearer tokens, then call downstream APIs on-behalf-of.

:class:`WebApi` ties a :class:`TokenValidator` to a confidential client application; each
authenticated request gets a :class:`Caller` whose ``auth`` is an ``EntraAuth`` in on-behalf-of
mode, cached per user assertion (so repeated calls with one token reuse its downstream token).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .errors import AuthResponse, MissingTokenError, response_for
from .validation import TokenValidator, ValidatedToken

if TYPE_CHECKING:
    from ..adapters import EntraAuth
    from ..protocol.client_app import AsyncConfidentialApp, SyncConfidentialApp

__all__ = ["Caller", "WebApi", "bearer_token"]


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header value.

    Raises:
        MissingTokenError: No header, or another scheme (answer 401 without an error code).
    """
    if not authorization:
        raise MissingTokenError()
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise MissingTokenError("the Authorization header is not a bearer token")
    return token


class Caller:
    """The authenticated caller of one request: its validated token and downstream access."""

    def __init__(self, api: WebApi, token: ValidatedToken) -> None:
        self._api = api
        self.token = token

    def __repr__(self) -> str:
        return f"Caller(oid={self.token.object_id!r}, tid={self.token.tenant_id!r})"

    @property
    def claims(self) -> Mapping[str, Any]:
        """The incoming token's claims."""
        return self.token.claims

    @property
    def auth(self) -> EntraAuth:
        """An ``EntraAuth`` (requests/httpx) calling the default downstream API as this caller.

        Raises:
            ValueError: The :class:`WebApi` has no application or no downstream scopes.
        """
        return self.downstream()

    def downstream(
        self, scopes: Sequence[str] | None = None, *, allowed_hosts: Sequence[str] | None = None
    ) -> EntraAuth:
        """An ``EntraAuth`` in on-behalf-of mode for ``scopes`` (default: the API's).

        Raises:
            ValueError: No application, or no scopes given or configured.
        """
        return self._api.downstream_auth(self.token, scopes, allowed_hosts=allowed_hosts)


class WebApi:
    """A web API protected by Entra ID, optionally calling downstream APIs on-behalf-of.

    Example::

        api = WebApi(TokenValidator(API_ID, authority=AUTHORITY),
                     app=ConfidentialClientApplication(API_ID, API_SECRET, authority=AUTHORITY),
                     downstream_scopes=["https://graph.microsoft.com/User.Read"])
        caller = api.authenticate(request.headers.get("Authorization"), scopes=["access_as_user"])
        requests.get(GRAPH_ME, auth=caller.auth)
    """

    def __init__(
        self,
        validator: TokenValidator,
        app: SyncConfidentialApp | AsyncConfidentialApp | None = None,
        *,
        downstream_scopes: Sequence[str] | None = None,
        allowed_hosts: Sequence[str] | None = None,
        max_cached_callers: int = 1000,
    ) -> None:
        """Create the API.

        Args:
            validator: Validates incoming tokens.
            app: A ``ConfidentialClientApplication`` (sync, ``entra_auth.aio`` or msal) for
                on-behalf-of calls; None if the API calls nothing downstream.
            downstream_scopes: Default scopes of :attr:`Caller.auth`.
            allowed_hosts: Hosts downstream tokens may go to (default: the scopes' host).
            max_cached_callers: How many per-assertion ``EntraAuth`` objects to keep (LRU).
        """
        if app is not None and not hasattr(app, "acquire_token_on_behalf_of"):
            raise ValueError("app must be a ConfidentialClientApplication (on-behalf-of)")
        if isinstance(downstream_scopes, str):
            raise TypeError("downstream_scopes must be a list of strings")
        self.validator = validator
        self.app = app
        self.downstream_scopes = list(downstream_scopes or [])
        self.allowed_hosts = list(allowed_hosts) if allowed_hosts is not None else None
        self.max_cached_callers = max_cached_callers
        self._lock = threading.Lock()
        self._auths: OrderedDict[tuple[str, tuple[str, ...], tuple[str, ...] | None],
                                 EntraAuth] = OrderedDict()

    @property
    def challenge_params(self) -> dict[str, str]:
        """Parameters every challenge from this API carries, so clients know where to go."""
        return {
            "authorization_uri": f"{self.validator.authority}/oauth2/v2.0/authorize",
            "client_id": self.validator.client_id,
        }

    def authenticate(
        self,
        authorization: str | None,
        *,
        scopes: Iterable[str] | None = None,
        roles: Iterable[str] | None = None,
    ) -> Caller:
        """Validate the ``Authorization`` header of a request.

        Args:
            authorization: The header's value (None if absent).
            scopes: Accept tokens with any of these delegated scopes.
            roles: Accept tokens with any of these app roles.

        Raises:
            WebAuthError: Missing or invalid token (401) or missing permission (403); answer
                with :meth:`error_response`.
        """
        token = self.validator.validate(bearer_token(authorization), scopes=scopes, roles=roles)
        return Caller(self, token)

    async def authenticate_async(
        self,
        authorization: str | None,
        *,
        scopes: Iterable[str] | None = None,
        roles: Iterable[str] | None = None,
    ) -> Caller:
        """:meth:`authenticate` without blocking the event loop."""
        token = await self.validator.validate_async(
            bearer_token(authorization), scopes=scopes, roles=roles)
        return Caller(self, token)

    def error_response(self, exc: BaseException) -> AuthResponse | None:
        """The 401/403 response for ``exc``, or None when it is not an authentication failure.

        Handles validation failures and a downstream claims challenge that on-behalf-of could
        not meet (an ``InteractionRequiredError`` with claims): the caller gets a 401 claims
        challenge to pass on to its client application.
        """
        return response_for(exc, self.challenge_params)

    def downstream_auth(
        self,
        token: ValidatedToken,
        scopes: Sequence[str] | None = None,
        *,
        allowed_hosts: Sequence[str] | None = None,
    ) -> EntraAuth:
        """The on-behalf-of ``EntraAuth`` for a validated token, cached per assertion.

        Raises:
            ValueError: No application, or no scopes.
        """
        if self.app is None:
            raise ValueError("this WebApi has no application for on-behalf-of calls")
        scope_list = tuple(scopes if scopes is not None else self.downstream_scopes)
        if not scope_list:
            raise ValueError("no downstream scopes given or configured")
        hosts = allowed_hosts if allowed_hosts is not None else self.allowed_hosts
        assertion_hash = hashlib.sha256(token.token.encode()).hexdigest()
        key = (assertion_hash, scope_list, tuple(hosts) if hosts is not None else None)
        with self._lock:
            auth = self._auths.get(key)
            if auth is not None:
                self._auths.move_to_end(key)
                return auth
        from ..adapters import EntraAuth

        auth = EntraAuth.on_behalf_of(
            self.app, token.token, list(scope_list), allowed_hosts=hosts,
            clock=self.validator.clock,
        )
        with self._lock:
            auth = self._auths.setdefault(key, auth)
            while len(self._auths) > self.max_cached_callers:
                self._auths.popitem(last=False)
        return auth
