"""The MSAL application methods as I/O-free flows, shared by the sync and async classes.

Each function composes discovery -> (silent) -> grant -> cache write with ``yield from``;
:func:`guard` turns a :class:`FlowError` raised anywhere inside into the error dict it carries.
Silent and client-credentials acquisition ask the driver to share one token request among
concurrent callers (:class:`Shared`), so the applications hold no logic of their own; their
cache hits are also plain functions (:func:`silent_cached`, :func:`for_client_cached`) the
applications try first, since a hit needs no I/O and no generator.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, TypeVar

from .authority import Authority
from .claims import merge_claims
from .context import ClientContext, FlowError
from .discovery import (
    AuthorityMetadata,
    authority_aliases,
    discover,
    known_aliases,
    known_metadata,
)
from .extras import NO_EXTRAS, Extras
from .grants import auth_code, client_credentials, device_code, on_behalf_of, password, refresh
from .messages import AppFlow, Flow, InFlight, Shared
from .scopes import RESERVED_SCOPES, check_scopes, decorate_scopes
from .silent import SilentPlan, cached_token, lookup
from .silent import refresh as refresh_silently

__all__ = [
    "SilentState",
    "accounts",
    "for_client_cached",
    "guard",
    "silent",
    "silent_cached",
    "silent_complete",
]

T = TypeVar("T")


def guard(flow: AppFlow[T]) -> AppFlow[T | dict[str, Any]]:
    """Run ``flow``; a FlowError ends it with its error dict instead of an exception."""
    try:
        return (yield from flow)
    except FlowError as exc:
        return exc.result


def accounts(
    ctx: ClientContext, authority: Authority, username: str | None = None
) -> Flow[list[dict[str, Any]]]:
    """Signed-in accounts of this authority's host and its aliases, one per home account."""
    envs = yield from authority_aliases(ctx, authority)
    found = ctx.cache.find_accounts(environments=list(envs), username=username)
    seen: set[str] = set()
    result = []
    for account in found:
        home = account.get("home_account_id")
        if (account.get("authority_type") not in ("MSSTS", "ADFS")
                or not isinstance(home, str) or home in seen):  # a corrupt entry: skip it
            continue
        seen.add(home)
        result.append(account)
    return result


def remove_account(
    ctx: ClientContext, authority: Authority, account: Mapping[str, Any]
) -> Flow[int]:
    """Forget an account's tokens for this client (and its family's RTs)."""
    home = account.get("home_account_id") if isinstance(account, Mapping) else None
    if not isinstance(home, str) or not home:
        raise ValueError("account must be one of the dicts returned by get_accounts()")
    envs = yield from authority_aliases(ctx, authority)
    return ctx.cache.forget_account(
        home_account_id=home, environments=list(envs), client_id=ctx.client_id
    )


def initiate_auth_code_flow(
    ctx: ClientContext, authority: Authority, scopes: object, **options: Any
) -> Flow[dict[str, Any]]:
    """Discover the authority and build the auth code flow dict."""
    decorated = decorate_scopes(scopes, ctx.exclude_scopes)
    metadata = yield from discover(ctx, authority)
    return auth_code.initiate(ctx, metadata, decorated, **options)


def authorization_request_url(
    ctx: ClientContext,
    authority: Authority,
    scopes: object,
    *,
    response_type: str = "code",
    redirect_uri: str | None = None,
    state: str | None = None,
    prompt: str | None = None,
    nonce: str | None = None,
    login_hint: str | None = None,
    domain_hint: str | None = None,
    claims_challenge: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Flow[str]:
    """The authorize URL for a caller-managed auth code flow (no PKCE).

    ``extra`` holds more query parameters; values that are not str or int are dropped.
    """
    decorated = decorate_scopes(scopes, ctx.exclude_scopes)
    metadata = yield from discover(ctx, authority)
    query: dict[str, Any] = {
        "client_id": ctx.client_id, "scope": " ".join(decorated),
        "response_type": response_type, "redirect_uri": redirect_uri, "state": state,
        "prompt": prompt, "nonce": nonce, "login_hint": login_hint, "domain_hint": domain_hint,
    }
    query.update({k: v for k, v in (extra or {}).items() if isinstance(v, (str, int))})
    query["claims"] = merge_claims(claims_challenge, ctx.client_capabilities)
    return auth_code.authorization_url(metadata, query)


def by_auth_code_flow(
    ctx: ClientContext,
    authority: Authority,
    flow: Mapping[str, Any],
    response: Mapping[str, Any],
    scopes: object = None,
    claims_challenge: str | None = None,
) -> Flow[dict[str, Any]]:
    """Validate the redirect and redeem the code."""
    wanted = decorate_scopes(scopes, ctx.exclude_scopes) if scopes else None
    metadata = yield from discover(ctx, authority)
    return (
        yield from auth_code.redeem_flow(ctx, metadata, flow, response, wanted, claims_challenge)
    )


def by_authorization_code(
    ctx: ClientContext, authority: Authority, code: str, scopes: object, **options: Any
) -> Flow[dict[str, Any]]:
    """Redeem a code from :func:`authorization_request_url`."""
    decorated = decorate_scopes(scopes, ctx.exclude_scopes)
    metadata = yield from discover(ctx, authority)
    return (yield from auth_code.redeem_code(ctx, metadata, code, decorated, **options))


def by_refresh_token(
    ctx: ClientContext, authority: Authority, refresh_token: str, scopes: object,
    claims_challenge: str | None = None,
) -> Flow[dict[str, Any]]:
    """Migrate a refresh token into the cache."""
    decorated = decorate_scopes(scopes, ctx.exclude_scopes)
    metadata = yield from discover(ctx, authority)
    return (
        yield from refresh.migrate(
            ctx, metadata, refresh_token, decorated, claims_challenge=claims_challenge
        )
    )


def by_username_password(
    ctx: ClientContext, authority: Authority, username: str, secret: str, scopes: object,
    claims_challenge: str | None = None, data: object = None,
) -> Flow[dict[str, Any]]:
    """User realm discovery, then the password grant (``data``: extra form fields, a dict)."""
    extra = {k: str(v) for k, v in data.items()} if isinstance(data, dict) else None
    decorated = decorate_scopes(scopes, ctx.exclude_scopes)
    metadata = yield from discover(ctx, authority)
    return (
        yield from password.acquire(
            ctx, metadata, username, secret, decorated,
            claims_challenge=claims_challenge, extra=extra,
        )
    )


def initiate_device_flow(
    ctx: ClientContext, authority: Authority, scopes: object, claims_challenge: str | None = None,
) -> Flow[dict[str, Any]]:
    """Request a device code."""
    decorated = decorate_scopes(scopes or [], ctx.exclude_scopes)
    metadata = yield from discover(ctx, authority)
    return (
        yield from device_code.initiate(ctx, metadata, decorated, claims_challenge=claims_challenge)
    )


def by_device_flow(
    ctx: ClientContext, authority: Authority, flow: MutableMapping[str, Any],
    claims_challenge: str | None = None,
) -> Flow[dict[str, Any]]:
    """Poll until the user signs in, the code expires, or the caller aborts."""
    metadata = yield from discover(ctx, authority)
    return (yield from device_code.poll(ctx, metadata, flow, claims_challenge=claims_challenge))


def for_client_cached(
    ctx: ClientContext, authority: Authority, scopes: object, claims_challenge: str | None = None,
    extras: Extras = NO_EXTRAS, force_refresh: bool = False,
) -> dict[str, Any] | None:
    """:func:`for_client`'s result when it is a cached token needing no refresh, else None.

    No I/O and no generator: the applications call it first. None also when the authority
    is not discovered yet; the flow then decides. Raises what the flow raises for bad scopes.
    """
    if claims_challenge or force_refresh:
        return None
    metadata = known_metadata(ctx, authority)
    if metadata is None:
        return None
    hit = client_credentials.cached(ctx, metadata, check_scopes(scopes), extras)
    return hit[0] if hit is not None and not hit[1] else None


def for_client(
    ctx: ClientContext, authority: Authority, scopes: Any, claims_challenge: str | None = None,
    extras: Extras = NO_EXTRAS, force_refresh: bool = False,
) -> AppFlow[dict[str, Any]]:
    """Client credentials, cache first; concurrent callers for the same scopes share a request.

    A fresh cached token is returned before single-flight; one only due for a proactive
    refresh too, while another caller is refreshing it. A claims challenge or
    ``force_refresh`` bypasses the cache, and is not shared.
    """
    if claims_challenge or force_refresh:
        return (yield from _for_client(
            ctx, authority, scopes, claims_challenge, extras, force_refresh))
    key = ("client_credentials", ctx.client_id, " ".join(sorted(map(str, scopes or []))),
           extras.ext_cache_key or "")
    metadata = known_metadata(ctx, authority)  # else discovery runs once, in the shared flow
    if metadata is not None:
        hit = client_credentials.cached(ctx, metadata, check_scopes(scopes), extras)
        if hit is not None and (not hit[1] or (yield InFlight(key))):
            return hit[0]
    # The leader looks in the cache again: another caller may just have stored a token.
    flow = guard(_for_client(ctx, authority, scopes, claims_challenge, extras))
    result: dict[str, Any] = yield Shared(key, flow)
    return result


def _for_client(
    ctx: ClientContext, authority: Authority, scopes: object, claims_challenge: str | None,
    extras: Extras = NO_EXTRAS, force_refresh: bool = False,
) -> Flow[dict[str, Any]]:
    wanted = check_scopes(scopes)
    metadata = yield from discover(ctx, authority)
    return (
        yield from client_credentials.acquire(
            ctx, metadata, wanted, claims_challenge=claims_challenge, extras=extras,
            force_refresh=force_refresh,
        )
    )


def obo(
    ctx: ClientContext, authority: Authority, user_assertion: str, scopes: object,
    claims_challenge: str | None = None, extras: Extras = NO_EXTRAS,
    force_refresh: bool = False,
) -> AppFlow[dict[str, Any]]:
    """On-behalf-of, cache-partitioned by the assertion's hash; concurrent callers share a request.

    Requests of one user arriving together (the same assertion, the same scopes) send one
    on-behalf-of request: the first runs it, the others wait for its result. A fresh cached
    token is returned before single-flight; one only due for a proactive refresh too, while
    another caller is refreshing it. A claims challenge bypasses the cache, and is not shared;
    ``force_refresh`` (a resource rejected the cached token) skips the cached access token, and
    concurrent forced refreshes share one request. ``extras`` (``data``, forwarded claims) are
    sent, key the cached token and set the shared request apart.
    """
    if claims_challenge:
        return (yield from _obo(ctx, authority, user_assertion, scopes, claims_challenge,
                                extras, force_refresh))
    if not isinstance(user_assertion, str) or not user_assertion:
        raise ValueError("user_assertion must be a non-empty string")
    wanted = check_scopes(scopes)
    digest = on_behalf_of.assertion_hash(user_assertion)
    # The key holds the assertion's hash, never the assertion.
    key = ("on_behalf_of", ctx.client_id, digest, " ".join(sorted(wanted)), force_refresh,
           extras.ext_cache_key or "")
    metadata = known_metadata(ctx, authority)  # else discovery runs once, in the shared flow
    if metadata is not None and not force_refresh:
        hit = on_behalf_of.cached(ctx, metadata, digest, wanted, extras)
        if hit is not None and (not hit[1] or (yield InFlight(key))):
            return hit[0]
    # The leader looks in the cache again: another caller may just have stored a token.
    flow = guard(_obo(ctx, authority, user_assertion, scopes, None, extras, force_refresh))
    result: dict[str, Any] = yield Shared(key, flow)
    return result


def _obo(
    ctx: ClientContext, authority: Authority, user_assertion: str, scopes: object,
    claims_challenge: str | None, extras: Extras = NO_EXTRAS, force_refresh: bool = False,
) -> Flow[dict[str, Any]]:
    decorated = decorate_scopes(scopes, ctx.exclude_scopes)
    wanted = check_scopes(scopes)
    metadata = yield from discover(ctx, authority)
    return (
        yield from on_behalf_of.acquire(
            ctx, metadata, user_assertion, wanted, decorated, claims_challenge=claims_challenge,
            extras=extras, force_refresh=force_refresh,
        )
    )


def by_user_fic(
    ctx: ClientContext, authority: Authority, scopes: object, assertion: str, *,
    username: str | None, user_object_id: str | None, claims_challenge: str | None = None,
    extras: Extras = NO_EXTRAS,
) -> Flow[dict[str, Any]]:
    """The ``user_fic`` grant (a federated identity credential for a user's token)."""
    from .grants import user_fic

    decorated = decorate_scopes(scopes, ctx.exclude_scopes)
    user_fic.check_arguments(assertion, username, user_object_id)  # before any request
    metadata = yield from discover(ctx, authority)
    return (
        yield from user_fic.acquire(
            ctx, metadata, assertion, decorated, username=username,
            user_object_id=user_object_id, claims_challenge=claims_challenge, extras=extras,
        )
    )


@dataclass(frozen=True)
class SilentState:
    """What :func:`silent` found in the cache; :func:`silent_complete` continues from it."""

    metadata: AuthorityMetadata
    environments: tuple[str, ...]
    scopes: tuple[str, ...]
    decorated: tuple[str, ...]
    account: Mapping[str, Any] | None
    force_refresh: bool
    claims: str | None
    plan: SilentPlan
    extras: Extras = NO_EXTRAS


def silent_cached(
    ctx: ClientContext,
    authority: Authority,
    scopes: object,
    account: object,
    *,
    force_refresh: bool = False,
    claims_challenge: str | None = None,
    extras: Extras = NO_EXTRAS,
) -> dict[str, Any] | None:
    """:func:`silent`'s result when it is a cached token needing no refresh, else None.

    No I/O and no generator: the applications call it first. None also before the authority
    is discovered, and for arguments :func:`silent` would refuse; the flow then decides.
    """
    if force_refresh or claims_challenge:
        return None
    if account is not None and not isinstance(account, Mapping):
        return None
    wanted = check_scopes(scopes)  # silent() raises the same ValueError first
    if not RESERVED_SCOPES.isdisjoint(wanted):
        return None
    metadata = known_metadata(ctx, authority)
    envs = known_aliases(ctx, authority)
    if metadata is None or envs is None:
        return None
    home = account.get("home_account_id") if account else None
    hit = cached_token(ctx, envs, metadata.realm, wanted, home if isinstance(home, str) else None,
                       ext_cache_key=extras.ext_cache_key)
    return hit[0] if hit is not None and not hit[1] else None


def silent(
    ctx: ClientContext,
    authority: Authority,
    scopes: object,
    account: Mapping[str, Any] | None,
    *,
    force_refresh: bool = False,
    claims_challenge: str | None = None,
    extras: Extras = NO_EXTRAS,
) -> AppFlow[dict[str, Any] | None]:
    """MSAL's silent acquisition: the cached token, or one refresh shared by concurrent callers.

    A token that is only due for a proactive refresh is returned at once while another caller
    is already refreshing it, so nobody waits while a valid token exists.
    """
    wanted = check_scopes(scopes)
    decorated = decorate_scopes(wanted, ctx.exclude_scopes)
    if account is not None and not isinstance(account, Mapping):
        raise ValueError("account must be one of the dicts returned by get_accounts(), or None")
    metadata = yield from discover(ctx, authority)
    envs = yield from authority_aliases(ctx, authority)
    claims = merge_claims(claims_challenge, ctx.client_capabilities) if claims_challenge else None
    plan = lookup(ctx, metadata, envs, wanted, account, force_refresh=force_refresh, claims=claims,
                  ext_cache_key=extras.ext_cache_key)
    if plan.result is not None and (not plan.refresh_due or (yield InFlight(plan.key))):
        return plan.result
    state = SilentState(
        metadata, tuple(envs), tuple(wanted), tuple(decorated),
        account, force_refresh, claims, plan, extras,
    )
    result: dict[str, Any] | None = yield Shared(plan.key, guard(silent_complete(ctx, state)))
    return result


def silent_complete(ctx: ClientContext, state: SilentState) -> Flow[dict[str, Any] | None]:
    """Look again (another caller may just have refreshed), then refresh if still needed."""
    account = dict(state.account) if state.account else None
    plan = lookup(
        ctx, state.metadata, state.environments, state.scopes, account,
        force_refresh=state.force_refresh, claims=state.claims,
        ext_cache_key=state.extras.ext_cache_key,
    )
    if plan.result is not None and not plan.refresh_due:
        return plan.result
    claims = state.claims or merge_claims(None, ctx.client_capabilities)
    return (
        yield from refresh_silently(
            ctx, state.metadata, state.environments, list(state.decorated), account, plan,
            claims=claims, extras=state.extras,
        )
    )
