"""Flows driven by hand: each request checked, each response scripted (no network)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from entra_auth.protocol import app_flows
from entra_auth.protocol.authority import parse_authority, parse_oidc_authority
from entra_auth.protocol.context import FlowError
from entra_auth.protocol.grants import auth_code, client_credentials, device_code
from entra_auth.protocol.messages import HttpRequest, HttpResponse, SendError, Sleep
from entra_auth.protocol.silent import lookup, refresh
from entra_auth.protocol.token_request import parse_token_response

from .helpers import AUTHORITY, NOW, Driver, json_response, make_ctx, metadata, token_body

SCOPES = ["User.Read"]


def _sign_in(ctx: Any, **body: Any) -> dict[str, Any]:
    d = Driver(app_flows.by_username_password(
        ctx, parse_authority(AUTHORITY), "alice@contoso.com", "pw", SCOPES))
    d.start()  # openid configuration
    req = d.send(json_response({
        "authorization_endpoint": f"{AUTHORITY}/oauth2/v2.0/authorize",
        "token_endpoint": f"{AUTHORITY}/oauth2/v2.0/token",
        "issuer": f"{AUTHORITY}/v2.0",
    }))
    assert req.url.startswith("https://login.microsoftonline.com/common/userrealm/alice@")
    req = d.send(json_response({"account_type": "Managed"}))
    assert req.form["grant_type"] == "password"
    d.send(json_response(token_body(**body)))
    assert d.done
    return d.result  # type: ignore[no-any-return]


def test_token_post_form_and_headers() -> None:
    ctx = make_ctx(telemetry_headers={"x-app-name": "demo"})
    d = Driver(app_flows.by_username_password(
        ctx, parse_authority(AUTHORITY), "alice@contoso.com", "pw", SCOPES))
    req = d.start()
    assert req.url == f"{AUTHORITY}/v2.0/.well-known/openid-configuration"
    d.send(json_response({"authorization_endpoint": f"{AUTHORITY}/a",
                          "token_endpoint": f"{AUTHORITY}/oauth2/v2.0/token"}))
    req = d.send(HttpResponse(404))
    assert isinstance(req, HttpRequest) and req.method == "POST" and not req.idempotent
    assert req.form == {
        "client_id": "client-1", "grant_type": "password", "client_info": "1",
        "username": "alice@contoso.com", "password": "pw",
        "scope": "User.Read offline_access openid profile",
    }
    assert req.headers["Accept"] == "application/json"
    assert req.headers["x-ms-lib-capability"] == "retry-after, h429"
    assert req.headers["x-app-name"] == "demo"
    assert len(req.headers["client-request-id"]) == 36
    assert "pw" not in repr(req)


def test_success_is_cached_and_shaped_like_msal() -> None:
    ctx = make_ctx()
    result = _sign_in(ctx, refresh_in=1800)
    assert result["token_source"] == "identity_provider"
    assert result["id_token_claims"]["preferred_username"] == "alice@contoso.com"
    assert result["refresh_on"] == int(NOW + 1800) and "refresh_in" not in result
    [account] = ctx.cache.find_accounts(environments=["login.microsoftonline.com"])
    assert account["home_account_id"] == "uid.utid"
    assert account["realm"] == "contoso.onmicrosoft.com"


@pytest.mark.parametrize(
    ("response", "error", "phrase"),
    [
        (HttpResponse(200, {}, "{not json"), "invalid_response", "malformed"),
        (HttpResponse(200, {"content-type": "text/html"}, "<html>oops</html>"),
         "invalid_response", "HTML"),
        (HttpResponse(200, {}, ""), "invalid_response", "empty"),
        (HttpResponse(200, {}, '{"access_token": "AT", "expi'), "invalid_response", "truncated"),
        (HttpResponse(200, {}, "[1, 2]"), "invalid_response", "list"),
        (HttpResponse(200, {}, '{"token_type": "Bearer"}'), "invalid_response", "access_token"),
        (HttpResponse(200, {}, '{"access_token": "AT", "expires_in": "soon"}'),
         "invalid_response", "expires_in"),
        (HttpResponse(500, {}, "<html>down</html>"), "server_error", "HTTP 500"),
        (HttpResponse(503, {"retry-after": "7"}, ""), "temporarily_unavailable", "7 seconds"),
        (HttpResponse(429, {"retry-after": "3"}, "slow"), "too_many_requests", "HTTP 429"),
        (json_response({"error": "invalid_grant"}, 400), "invalid_grant", "invalid_grant"),
    ],
)
def test_bad_replies_become_error_dicts(response: HttpResponse, error: str, phrase: str) -> None:
    result = parse_token_response(response, "cid")
    assert result["error"] == error
    assert phrase in result["error_description"]
    assert result["correlation_id"] == "cid"
    assert "AT" not in result["error_description"]


def test_bad_reply_leaves_cache_unchanged() -> None:
    ctx = make_ctx()
    d = Driver(app_flows.by_refresh_token(ctx, parse_authority(AUTHORITY), "RT", SCOPES))
    d.start()
    d.send(json_response({"authorization_endpoint": f"{AUTHORITY}/a",
                          "token_endpoint": f"{AUTHORITY}/oauth2/v2.0/token"}))
    d.send(HttpResponse(200, {}, '{"access_token": "AT", "refresh_tok'))
    assert d.result["error"] == "invalid_response"
    assert ctx.cache.find_accounts() == []


def test_transport_error_becomes_error_dict() -> None:
    ctx = make_ctx()
    d = Driver(app_flows.guard(client_credentials.acquire(ctx, metadata(), ["api/.default"])))
    req = d.start()
    assert req.form["grant_type"] == "client_credentials"
    d.throw(SendError("connection refused", kind="connect", sent=False))
    assert d.result["error"] == "transport_error"
    assert "connect" in d.result["error_description"]


def test_discovery_errors() -> None:
    ctx = make_ctx()
    auth = parse_authority("https://unknown.example.com/tenant")
    d = Driver(app_flows.initiate_auth_code_flow(ctx, auth, SCOPES))
    req = d.start()
    assert req.url.startswith("https://login.microsoftonline.com/common/discovery/instance?")
    with pytest.raises(ValueError, match="invalid_instance"):
        d.send(json_response({"error": "invalid_instance"}, 400))
    d = Driver(app_flows.initiate_auth_code_flow(ctx, parse_authority(AUTHORITY), SCOPES))
    d.start()
    with pytest.raises(ValueError, match="HTTP 400"):
        d.send(json_response({"error": "invalid_tenant"}, 400))
    oidc = parse_oidc_authority("https://idp.example.com/realm")
    d = Driver(app_flows.initiate_auth_code_flow(ctx, oidc, SCOPES))
    assert d.start().url == "https://idp.example.com/realm/.well-known/openid-configuration"
    with pytest.raises(ValueError, match="issuer"):
        d.send(json_response({"issuer": "https://evil.example.org/x",
                              "authorization_endpoint": "https://idp.example.com/a",
                              "token_endpoint": "https://idp.example.com/t"}))
    d = Driver(app_flows.guard(app_flows.initiate_auth_code_flow(
        ctx, parse_authority(AUTHORITY), SCOPES)))
    d.start()
    d.send(HttpResponse(502, {}, "<html>bad gateway</html>"))
    assert d.result["error"] == "invalid_discovery_response"


def test_auth_code_flow_url_and_state_checks() -> None:
    ctx = make_ctx(client_capabilities=("CP1",))
    flow = auth_code.initiate(ctx, metadata(), ["User.Read", "openid"], redirect_uri="http://localhost",
                              max_age=60, response_mode="form_post", login_hint="alice")
    query = {k: v[0] for k, v in parse_qs(urlsplit(flow["auth_uri"]).query).items()}
    assert query["code_challenge_method"] == "S256" and query["response_type"] == "code"
    assert query["state"] == flow["state"] and query["max_age"] == "60"
    assert query["response_mode"] == "form_post" and query["client_info"] == "1"
    assert json.loads(query["claims"]) == {"access_token": {"xms_cc": {"values": ["CP1"]}}}
    assert len(query["nonce"]) == 64 and query["nonce"] != flow["nonce"]
    with pytest.raises(ValueError, match="state mismatch"):
        Driver(auth_code.redeem_flow(ctx, metadata(), flow, {"code": "c", "state": "x"})).start()
    d = Driver(auth_code.redeem_flow(ctx, metadata(), flow,
                                     {"error": "access_denied", "state": flow["state"],
                                      "access_token": "injected"}))
    d.start()
    assert d.result == {"error": "access_denied",
                        "error_description": "The authorization server answered 'access_denied'"}
    d = Driver(auth_code.redeem_flow(ctx, metadata(), flow, {"code": "c", "state": flow["state"]}))
    req = d.start()
    assert req.form["code_verifier"] == flow["code_verifier"]
    from entra_auth.protocol.id_token import IdTokenError

    with pytest.raises(IdTokenError, match="nonce"):
        d.send(json_response(token_body()))  # the id_token has no nonce
    assert ctx.cache.find_accounts() == []  # a failed check caches nothing


def test_device_flow_message_slow_down_and_abort() -> None:
    ctx = make_ctx()
    d = Driver(device_code.initiate(ctx, metadata(), ["User.Read", "openid"]))
    req = d.start()
    assert req.url.endswith("/oauth2/v2.0/devicecode") and "grant_type" not in req.form
    d.send(json_response({"device_code": "DC", "user_code": "ABC", "interval": 1,
                          "verification_uri": "https://microsoft.com/devicelogin"}))
    flow = d.result
    assert "ABC" in flow["message"] and "https://microsoft.com/devicelogin" in flow["message"]
    assert flow["expires_at"] == NOW + 1800
    d = Driver(device_code.poll(ctx, metadata(), flow))
    req = d.start()
    assert req.form["grant_type"] == "urn:ietf:params:oauth:grant-type:device_code"
    step = d.send(json_response({"error": "slow_down"}, 400))
    assert flow["interval"] == 6
    sleeps = 0
    while isinstance(step, Sleep):
        sleeps += 1
        step = d.send(None)
    assert sleeps == 6 and step.form["device_code"] == "DC"
    step = d.send(json_response({"error": "authorization_pending"}, 400))
    assert isinstance(step, Sleep)
    flow["expires_at"] = 0  # the caller aborts
    assert d.send(None) is None and d.result["error"] == "authorization_pending"


def test_silent_refresh_on_failure_falls_back_to_valid_token() -> None:
    ctx = make_ctx()
    _sign_in(ctx, refresh_in=600)
    account = ctx.cache.find_accounts()[0]
    ctx.clock.now = NOW + 700  # refresh_on passed, token still valid
    envs = ["login.microsoftonline.com"]
    plan = lookup(ctx, metadata(), envs, SCOPES, account)
    assert plan.result is not None and plan.refresh_due
    for failure in (HttpResponse(500, {}, "<html/>"), SendError("reset", kind="read")):
        ctx.clock.now += 6  # past the 5 s throttle a 5xx without Retry-After earns
        d = Driver(app_flows.guard(refresh(ctx, metadata(), envs, ["User.Read"], account, plan)))
        req = d.start()
        assert req.form["grant_type"] == "refresh_token" and req.form["refresh_token"] == "RT-1"
        if isinstance(failure, HttpResponse):
            d.send(failure)
        else:
            d.throw(failure)
        assert d.result["access_token"] == "AT-1" and d.result["token_source"] == "cache"


def test_silent_expired_token_refreshes_with_family_rt_first() -> None:
    ctx = make_ctx()
    _sign_in(ctx, foci="1")
    account = ctx.cache.find_accounts()[0]
    ctx.clock.now = NOW + 3600 - 299  # inside the 5-minute margin: expired
    envs = ["login.microsoftonline.com"]
    plan = lookup(ctx, metadata(), envs, SCOPES, account)
    assert plan.result is None and plan.refresh_due
    d = Driver(refresh(ctx, metadata(), envs, ["User.Read"], account, plan))
    assert d.start().form["refresh_token"] == "RT-1"
    d.send(json_response(token_body(access_token="AT-2", refresh_token="RT-2", foci="1")))
    assert d.result["access_token"] == "AT-2"
    [rt] = ctx.cache.find_refresh_tokens(home_account_id="uid.utid", environments=envs)
    assert rt["secret"] == "RT-2"
    assert lookup(ctx, metadata(), envs, SCOPES, account).result["access_token"] == "AT-2"


def test_throttling_replays_429_without_network() -> None:
    ctx = make_ctx()
    flow = client_credentials.acquire(ctx, metadata(), ["api/.default"])
    d = Driver(flow)
    d.start()
    d.send(json_response({"error": "temporarily_unavailable"}, 429, **{"retry-after": "30"}))
    assert d.result["error"] == "temporarily_unavailable" and d.result["retry_after"] == "30"
    d = Driver(client_credentials.acquire(ctx, metadata(), ["api/.default"]))
    assert d.start() is None and d.result["error"] == "temporarily_unavailable"
    ctx.clock.now += 31
    assert isinstance(Driver(client_credentials.acquire(ctx, metadata(), ["api/.default"]))
                      .start(), HttpRequest)


def test_regional_client_credentials() -> None:
    ctx = make_ctx(azure_region=True, environ={"REGION_NAME": "westus2"})
    d = Driver(client_credentials.acquire(ctx, metadata(), ["api/.default"]))
    req = d.start()
    assert urlsplit(req.url).hostname == "westus2.login.microsoft.com"
    d.send(json_response({"access_token": "AT", "expires_in": 3600, "token_type": "Bearer"}))
    d = Driver(client_credentials.acquire(ctx, metadata(), ["api/.default"]))
    assert d.start() is None and d.result["token_source"] == "cache"


def test_flow_error_is_caught_by_guard() -> None:
    def failing() -> Any:
        raise FlowError({"error": "x", "error_description": "y"})
        yield  # pragma: no cover

    d = Driver(app_flows.guard(failing()))
    assert d.start() is None and d.result == {"error": "x", "error_description": "y"}


def _device_flow(ctx: Any) -> dict[str, Any]:
    d = Driver(device_code.initiate(ctx, metadata(), ["User.Read"]))
    d.start()
    d.send(json_response({"device_code": "DC", "user_code": "ABC", "interval": 1,
                          "expires_in": 900}))
    return d.result


def _poll_until_pending_sleep(ctx: Any, flow: dict[str, Any]) -> Driver:
    d = Driver(device_code.poll(ctx, metadata(), flow))
    d.start()
    assert isinstance(d.send(json_response({"error": "authorization_pending"}, 400)), Sleep)
    return d


def test_device_flow_poll_survives_a_wall_clock_step_forward() -> None:
    ctx = make_ctx()
    flow = _device_flow(ctx)
    assert flow["expires_at"] == NOW + 900  # kept for MSAL compatibility
    d = _poll_until_pending_sleep(ctx, flow)
    ctx.clock.step(3600)  # wall clock jumps past expires_at; the code is still valid
    step = d.send(None)
    assert isinstance(step, HttpRequest) and step.form["device_code"] == "DC"
    d.send(json_response(token_body()))
    assert "access_token" in d.result


def test_device_flow_poll_ends_at_the_monotonic_deadline_despite_a_step_back() -> None:
    ctx = make_ctx()
    flow = _device_flow(ctx)
    d = _poll_until_pending_sleep(ctx, flow)
    ctx.clock.step(-3600)
    ctx.clock.now += 901  # 901 s really passed; the wall clock still reads before expires_at
    assert d.send(None) is None and d.result["error"] == "authorization_pending"


def test_device_flow_abort_by_expires_at_still_works_with_a_monotonic_deadline() -> None:
    ctx = make_ctx()
    flow = _device_flow(ctx)
    d = _poll_until_pending_sleep(ctx, flow)
    flow["expires_at"] = 0
    assert d.send(None) is None and d.result["error"] == "authorization_pending"
