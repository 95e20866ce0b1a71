"""The no-I/O cache-hit paths (silent_cached, for_client_cached) agree with the flows."""

from __future__ import annotations

from typing import Any

import pytest

from entra_auth.protocol import app_flows
from entra_auth.protocol.authority import parse_authority
from entra_auth.protocol.grants import client_credentials
from entra_auth.protocol.messages import InFlight, Shared

from .helpers import AUTHORITY, NOW, Driver, json_response, make_ctx, metadata
from .test_flows import SCOPES, _sign_in

APP_SCOPES = ["api://app/.default"]


def _silent(ctx: Any, account: Any, **kwargs: Any) -> Any:
    d = Driver(app_flows.silent(ctx, parse_authority(AUTHORITY), SCOPES, account, **kwargs))
    step = d.start()
    return d.result if d.done else step


def test_silent_cached_matches_the_flow_and_declines_what_needs_more() -> None:
    ctx = make_ctx(instance_discovery=False)
    authority = parse_authority(AUTHORITY)
    assert app_flows.silent_cached(ctx, authority, SCOPES, None) is None  # not discovered yet
    _sign_in(ctx, refresh_in=600)
    account = ctx.cache.find_accounts()[0]
    hit = app_flows.silent_cached(ctx, authority, SCOPES, account)
    assert hit is not None and hit == _silent(ctx, account)
    assert hit["access_token"] == "AT-1" and hit["token_source"] == "cache"
    assert app_flows.silent_cached(ctx, authority, SCOPES, account, force_refresh=True) is None
    assert app_flows.silent_cached(
        ctx, authority, SCOPES, account, claims_challenge='{"access_token":{}}') is None
    assert app_flows.silent_cached(ctx, authority, ["openid"], account) is None  # flow raises
    assert app_flows.silent_cached(ctx, authority, SCOPES, "not an account") is None
    assert app_flows.silent_cached(ctx, authority, ["Other.Scope"], account) is None
    with pytest.raises(ValueError, match="list, tuple, or set"):
        app_flows.silent_cached(ctx, authority, "User.Read", account)
    ctx.clock.now = NOW + 700  # refresh_on passed: the flow decides (InFlight, then Shared)
    assert app_flows.silent_cached(ctx, authority, SCOPES, account) is None
    assert isinstance(_silent(ctx, account), InFlight)


def test_silent_cached_waits_for_alias_discovery() -> None:
    ctx = make_ctx()  # instance discovery on: aliases must be known first
    _sign_in(ctx)
    account = ctx.cache.find_accounts()[0]
    authority = parse_authority(AUTHORITY)
    assert app_flows.silent_cached(ctx, authority, SCOPES, account) is None
    ctx.shared.aliases[authority.instance] = (authority.instance, "login.windows.net")
    assert app_flows.silent_cached(ctx, authority, SCOPES, account)["access_token"] == "AT-1"


def _cache_app_token(ctx: Any, **body: Any) -> None:
    d = Driver(client_credentials.acquire(ctx, metadata(), APP_SCOPES))
    d.start()
    d.send(json_response({"access_token": "APP-1", "expires_in": 3600,
                          "token_type": "Bearer", **body}))
    assert d.result["access_token"] == "APP-1"


def test_for_client_hit_skips_single_flight() -> None:
    ctx = make_ctx()
    authority = parse_authority(AUTHORITY)
    _cache_app_token(ctx)
    # Not discovered: no shortcut; the whole flow, discovery included, is shared.
    assert app_flows.for_client_cached(ctx, authority, APP_SCOPES) is None
    assert isinstance(Driver(app_flows.for_client(ctx, authority, APP_SCOPES)).start(), Shared)
    ctx.shared.metadata[authority.url] = metadata()
    hit = app_flows.for_client_cached(ctx, authority, APP_SCOPES)
    assert hit is not None and hit["access_token"] == "APP-1" and hit["token_source"] == "cache"
    d = Driver(app_flows.for_client(ctx, authority, APP_SCOPES))
    assert d.start() is None and d.result == hit  # answered before Shared
    assert app_flows.for_client_cached(ctx, authority, APP_SCOPES, "claims") is None


def test_for_client_refresh_due_returns_valid_token_while_another_refreshes() -> None:
    ctx = make_ctx()
    authority = parse_authority(AUTHORITY)
    ctx.shared.metadata[authority.url] = metadata()
    _cache_app_token(ctx, refresh_in=600)
    ctx.clock.now = NOW + 700
    assert app_flows.for_client_cached(ctx, authority, APP_SCOPES) is None
    d = Driver(app_flows.for_client(ctx, authority, APP_SCOPES))
    assert isinstance(d.start(), InFlight)
    assert d.send(True) is None and d.result["access_token"] == "APP-1"
    d = Driver(app_flows.for_client(ctx, authority, APP_SCOPES))
    d.start()
    assert isinstance(d.send(False), Shared)  # nobody refreshing: this caller leads


def test_full_graph_scope_finds_the_short_spelling_entra_cached() -> None:
    ctx = make_ctx(instance_discovery=False)
    _sign_in(ctx)  # Entra answered "User.Read ...": cached in short form
    account = ctx.cache.find_accounts()[0]
    authority = parse_authority(AUTHORITY)
    full = ["https://graph.microsoft.com/User.Read"]
    hit = app_flows.silent_cached(ctx, authority, full, account)
    assert hit is not None and hit["access_token"] == "AT-1"
    assert app_flows.silent_cached(ctx, authority, ["https://other/User.Read"], account) is None
