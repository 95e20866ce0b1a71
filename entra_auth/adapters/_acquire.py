"""How the adapter gets a token from an application: an I/O-free flow of application calls.

The flow yields :class:`~entra_auth.protocol.messages.AppCall` (a method of the
MSAL-compatible public API), ``ShowMessage`` (device-code instructions) and ``ForgetToken``
(drop a rejected access token from an msal application's cache); ``run_sync`` calls,
``run_async`` awaits (see :mod:`entra_auth.transport.driver`). The same flow therefore serves
sync and ``entra_auth.aio`` applications.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Union

from ..errors import (
    EntraAuthError,
    InteractionRequiredError,
    ProtocolError,
    TokenRequestError,
    TransportFailure,
)
from ..protocol.messages import AppCall, ForgetToken, ShowMessage

__all__ = [
    "AccountSpec",
    "AcquireFlow",
    "Fallback",
    "Force",
    "TokenRecord",
    "TokenSource",
    "acquire_flow",
    "record_from_result",
]

Fallback = Literal["device", "interactive"]
AcquireFlow = Generator[Union[AppCall, ShowMessage, ForgetToken], Any, Mapping[str, Any]]
AccountSpec = Union[Mapping[str, Any], str, Callable[[], Union[Mapping[str, Any], str, None]], None]

# Silent failures that a user sign-in can fix; anything else is raised as is.
INTERACTION_ERRORS = frozenset(
    {
        "interaction_required",
        "invalid_grant",
        "login_required",
        "consent_required",
        "no_account",
        "account_selection_required",
        "insufficient_claims",
    }
)
# An access token this close to expiry is not attached (it could expire in flight).
EXPIRY_SKEW = 30.0
# Refresh this long before expiry: MSAL's silent lookup treats tokens with < 5 min left as
# expired, so a refresh at this point really goes to the network.
REFRESH_LEAD = 300.0


@dataclass(frozen=True, slots=True)
class Force:
    """Get a token past the application's cached access token (the resource refused it).

    ``rejected`` is the refused token, if known; ``by_argument`` says the application's
    ``acquire_token_for_client``/``acquire_token_on_behalf_of`` take ``force_refresh``
    (entra_auth's do; msal's client credentials refuse it, so the token is removed from
    its cache first, and its on-behalf-of has no token cache to bypass).
    """

    rejected: str | None
    by_argument: bool

    def __repr__(self) -> str:
        return f"Force(by_argument={self.by_argument})"


@dataclass(frozen=True, slots=True)
class TokenSource:
    """Where tokens come from: a user (silent + fallback), the app itself, or on-behalf-of."""

    kind: Literal["user", "app", "obo"]
    account: AccountSpec = None
    user_assertion: str | None = None
    fallback: Fallback | None = None
    interactive_kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An access token the adapter may attach, with when to stop using and when to refresh it."""

    token: str
    expires_at: float
    refresh_at: float
    claims: str | None = None
    username: str | None = None
    forced_at: float | None = None  # when a forced re-acquisition got it

    def usable(self, now: float) -> bool:
        return now < self.expires_at - EXPIRY_SKEW

    def __repr__(self) -> str:
        return f"TokenRecord(expires_at={self.expires_at:.0f})"


def record_from_result(
    result: object, now: float, claims: str | None, forced: bool = False
) -> TokenRecord:
    """Turn a successful MSAL-style result into a :class:`TokenRecord`.

    Raises:
        ProtocolError: The result has no usable access token or a non-Bearer token type.
    """
    if not isinstance(result, Mapping):
        raise ProtocolError("bad_result", "the application returned no token result")
    token = result.get("access_token")
    if not isinstance(token, str) or not token:
        raise ProtocolError("bad_result", "the application's result has no access_token")
    token_type = result.get("token_type", "Bearer")
    if isinstance(token_type, str) and token_type.lower() != "bearer":
        raise ProtocolError("bad_result", f"unsupported token_type {token_type!r}")
    try:
        lifetime = float(result.get("expires_in", 0))
    except (TypeError, ValueError):
        lifetime = 0.0
    expires_at = now + max(lifetime, 0.0)
    refresh_at = expires_at - REFRESH_LEAD
    refresh_on = result.get("refresh_on")
    if isinstance(refresh_on, (int, float)) and not isinstance(refresh_on, bool):
        refresh_at = min(refresh_at, float(refresh_on))
    claims_map = result.get("id_token_claims")
    username = None
    if isinstance(claims_map, Mapping):
        name = claims_map.get("preferred_username") or claims_map.get("upn")
        username = name if isinstance(name, str) else None
    return TokenRecord(token, expires_at, refresh_at, claims, username,
                       now if forced else None)


def _raise_for(result: object, claims: str | None) -> None:
    if isinstance(result, Mapping) and "access_token" in result:
        return
    if not isinstance(result, Mapping):
        raise ProtocolError("bad_result", "the application returned no token result")
    error = str(result.get("error") or "unknown_error")
    description = result.get("error_description")
    kind: type[EntraAuthError] = TokenRequestError
    if error in INTERACTION_ERRORS:
        kind = InteractionRequiredError
    elif error == "transport_error":  # the application's own code for a failed request
        kind = TransportFailure
    elif error in ("invalid_response", "invalid_discovery_response"):  # a reply we can't read
        kind = ProtocolError
    result_claims = result.get("claims")
    raise kind(
        error,
        description if isinstance(description, str) else None,
        correlation_id=_str(result.get("correlation_id")),
        claims=result_claims if isinstance(result_claims, str) else claims,
        result=result,
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _resolve_account(
    spec: AccountSpec, remembered: str | None
) -> Generator[AppCall, Any, tuple[Mapping[str, Any] | None, str, str]]:
    """Find the account to use; return it, or None with an error code and description."""
    if callable(spec):
        spec = spec()
    if isinstance(spec, Mapping):
        return spec, "", ""
    username = spec if isinstance(spec, str) else remembered
    if username is not None:
        accounts = yield AppCall("get_accounts", (), {"username": username})
        if accounts:
            return accounts[0], "", ""
        return None, "no_account", "the requested account is not in the token cache"
    accounts = yield AppCall("get_accounts")
    if not accounts:
        return None, "no_account", "no signed-in account in the token cache"
    if len(accounts) > 1:
        return (
            None,
            "account_selection_required",
            "several accounts are cached; pass account= to choose one",
        )
    return accounts[0], "", ""


def acquire_flow(
    app_kind: Literal["public", "confidential"],
    source: TokenSource,
    scopes: Sequence[str],
    claims: str | None,
    remembered_username: str | None = None,
    force: Force | None = None,
) -> AcquireFlow:
    """Get a token result for ``scopes``, answering ``claims`` when given.

    With ``force``, the application's cached access token is bypassed: ``force_refresh``
    for silent acquisition (the refresh token is redeemed), and for client credentials and
    on-behalf-of when the application takes it.

    Returns the application's successful result dict.

    Raises:
        InteractionRequiredError: Silent acquisition failed and no fallback is configured,
            or the fallback itself asked for interaction.
        TokenRequestError: The identity provider refused the request.
    """
    scope_list = list(scopes)
    app_kwargs: dict[str, Any] = {"claims_challenge": claims}
    if force is not None and force.by_argument:
        app_kwargs["force_refresh"] = True
    if (force is not None and not force.by_argument and force.rejected is not None
            and source.kind != "user"):
        # The app can't be told to bypass its cache: take the rejected token out of it.
        yield ForgetToken(force.rejected)
    if source.kind == "obo":
        result = yield AppCall(
            "acquire_token_on_behalf_of", (source.user_assertion, scope_list), app_kwargs
        )
        _raise_for(result, claims)
        return result  # type: ignore[no-any-return]
    if source.kind == "app":
        result = yield AppCall("acquire_token_for_client", (scope_list,), app_kwargs)
        _raise_for(result, claims)
        return result  # type: ignore[no-any-return]

    account, error, description = yield from _resolve_account(source.account, remembered_username)
    if account is not None:
        silent_kwargs: dict[str, Any] = {"claims_challenge": claims}
        if force is not None:
            silent_kwargs["force_refresh"] = True
        result = yield AppCall("acquire_token_silent_with_error", (scope_list, account),
                               silent_kwargs)
        if isinstance(result, Mapping) and "access_token" in result:
            return result
        if result is None:
            error, description = "interaction_required", "no token could be had silently"
        else:
            # Raises for errors no sign-in can fix (throttling, a bad client secret, ...).
            error = str(result.get("error") or "")
            if error not in INTERACTION_ERRORS:
                _raise_for(result, claims)
            description = str(result.get("error_description") or "")
    if claims is not None and not error:
        error = "insufficient_claims"
    if source.fallback is None or app_kind != "public":
        raise InteractionRequiredError(error or "interaction_required", description, claims=claims)
    if source.fallback == "device":
        flow = yield AppCall(
            "initiate_device_flow", (), {"scopes": scope_list, "claims_challenge": claims}
        )
        if not isinstance(flow, Mapping) or "user_code" not in flow:
            _raise_for(flow, claims)
            raise ProtocolError("bad_result", "the device flow could not be started")
        yield ShowMessage(str(flow.get("message") or ""))
        result = yield AppCall(
            "acquire_token_by_device_flow", (flow,), {"claims_challenge": claims}
        )
    else:
        kwargs: dict[str, Any] = {"claims_challenge": claims, **source.interactive_kwargs}
        if isinstance(account, Mapping) and "login_hint" not in kwargs:
            hint = account.get("username")
            if isinstance(hint, str):
                kwargs["login_hint"] = hint
        result = yield AppCall("acquire_token_interactive", (scope_list,), kwargs)
    _raise_for(result, claims)
    return result  # type: ignore[no-any-return]
