"""The I/O-free managed identity flow driven by hand: request shapes, retries, backoff bounds."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from entra_auth.cache import TokenCache
from entra_auth.managed_identity import (
    ManagedIdentityError,
    SystemAssignedManagedIdentity,
    UserAssignedManagedIdentity,
    managed_identity_source,
)
from entra_auth.protocol.managed_identity import (
    IdentitySource,
    ManagedIdentityUnavailableError,
    RetryPolicy,
    SourceState,
    acquire_token,
    obtain_token,
)
from entra_auth.protocol.messages import HttpRequest, HttpResponse, SendError, Sleep

IMDS = IdentitySource("imds", "http://imds.test/metadata/identity/oauth2/token")
OK = HttpResponse(200, {}, '{"access_token": "at", "expires_in": "3600", "token_type": "Bearer"}')


def _query(request: HttpRequest) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.url).query)


def _flow(policy: RetryPolicy | None = None, state: SourceState | None = None,
          identity: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return obtain_token(IMDS, identity or dict(SystemAssignedManagedIdentity()),
                        "https://graph.microsoft.com", policy=policy or RetryPolicy(),
                        state=state or SourceState(), clock=lambda: 1000.0,
                        new_request_id=lambda: "rid")


def test_imds_request_shape_and_user_assigned_parameter_names() -> None:
    request = next(_flow())
    assert isinstance(request, HttpRequest) and request.method == "GET"
    assert request.headers["Metadata"] == "true"
    assert _query(request) == {"api-version": ["2018-02-01"],
                               "resource": ["https://graph.microsoft.com"]}
    for kwargs, param in (({"client_id": "c"}, "client_id"), ({"object_id": "o"}, "object_id"),
                          ({"resource_id": "/r"}, "msi_res_id")):
        request = next(_flow(identity=dict(UserAssignedManagedIdentity(**kwargs))))
        assert isinstance(request, HttpRequest)
        assert list(_query(request)[param]) == [next(iter(kwargs.values()))]


def test_app_service_request_shape() -> None:
    source = IdentitySource("app_service", "http://localhost:8081/msi/token", "hdr")
    flow = obtain_token(source, dict(UserAssignedManagedIdentity(object_id="o")), "api://x",
                        policy=RetryPolicy(), state=SourceState(), clock=lambda: 0.0,
                        new_request_id=lambda: "rid")
    request = next(flow)
    assert isinstance(request, HttpRequest)
    assert request.headers["X-IDENTITY-HEADER"] == "hdr"
    assert _query(request)["api-version"] == ["2019-08-01"]
    assert _query(request)["principal_id"] == ["o"]
    assert "hdr" not in repr(source) and "hdr" not in repr(request)


def test_throttling_backs_off_exponentially_within_bounds_then_gives_the_error() -> None:
    policy = RetryPolicy(max_retries=3, backoff=1.0, max_delay=3.0)
    flow = _flow(policy)
    next(flow)
    sleeps = []
    throttled = HttpResponse(429, {"retry-after": "100"}, '{"error": "too_many"}')
    step = flow.send(throttled)
    while isinstance(step, Sleep):
        sleeps.append(step.seconds)
        assert isinstance(flow.send(None), HttpRequest)
        try:
            step = flow.send(throttled)
        except StopIteration as stop:
            result = stop.value
            break
    assert sleeps == [3.0, 3.0, 3.0]  # Retry-After 100 is capped at max_delay
    assert result["error"] == "too_many" and result["status_code"] == 429
    assert result["retry_after"] == "100"


def test_backoff_doubles() -> None:
    policy = RetryPolicy(backoff=0.5, max_delay=10)
    assert [policy.delay(n, None) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert policy.delay(1, "2") == 2.0 and policy.delay(1, "junk") == 0.5


def test_imds_404_is_retried_but_400_is_not() -> None:
    flow = _flow(RetryPolicy(backoff=0.0))
    next(flow)
    assert isinstance(flow.send(HttpResponse(404, {}, "{}")), Sleep)
    assert isinstance(flow.send(None), HttpRequest)
    with pytest.raises(StopIteration) as stop:
        flow.send(HttpResponse(400, {}, '{"error": "invalid_request", '
                                        '"error_description": "Identity not found"}'))
    assert stop.value.value["error_description"] == "Identity not found"


def test_first_request_failure_means_unavailable_later_ones_are_retried() -> None:
    flow = _flow()
    first = next(flow)
    assert isinstance(first, HttpRequest) and first.timeout == RetryPolicy().probe_timeout
    with pytest.raises(ManagedIdentityUnavailableError, match="no managed identity"):
        flow.throw(SendError("refused", kind="connect", sent=False))
    state = SourceState(reachable=True)
    flow = _flow(RetryPolicy(backoff=0.0), state)
    next(flow)
    assert isinstance(flow.throw(SendError("reset", kind="read")), Sleep)
    assert isinstance(flow.send(None), HttpRequest)
    with pytest.raises(StopIteration) as stop:
        flow.send(OK)
    assert stop.value.value["access_token"] == "at"


def test_garbage_replies_give_an_error_dict() -> None:
    for body in ("<html>", "", "[1]", '{"access_token": "x"}'):
        flow = _flow()
        next(flow)
        with pytest.raises(StopIteration) as stop:
            flow.send(HttpResponse(200, {}, body))
        assert stop.value.value["error"] == "invalid_response"


def test_cache_then_refresh_on_and_fallback() -> None:
    cache = TokenCache()
    now = [1000.0]
    identity = dict(SystemAssignedManagedIdentity())

    def run(reply: HttpResponse | None) -> dict[str, object]:
        flow = acquire_token(cache, IMDS, identity, "r", claims_challenge=None,
                             policy=RetryPolicy(max_retries=0), state=SourceState(),
                             clock=lambda: now[0], new_request_id=lambda: "x")
        try:
            step = next(flow)
            assert reply is not None, "unexpected request"
            assert isinstance(step, HttpRequest)
            flow.send(reply)
        except StopIteration as stop:
            return dict(stop.value)
        raise AssertionError("flow did not finish")

    long = HttpResponse(200, {}, '{"access_token": "a1", "expires_in": 28800}')
    first = run(long)
    assert first["token_source"] == "identity_provider" and first["refresh_on"] == 1000 + 14400
    assert run(None)["token_source"] == "cache"
    now[0] += 15000  # past refresh_on: refresh; a failure falls back to the valid token
    fallback = run(HttpResponse(500, {}, '{"error": "server_error"}'))
    assert fallback["access_token"] == "a1" and fallback["token_source"] == "cache"
    renewed = run(HttpResponse(200, {}, '{"access_token": "a2", "expires_in": 28800}'))
    assert renewed["access_token"] == "a2"
    now[0] += 28800 - 200  # under five minutes left counts as expired
    assert run(HttpResponse(200, {}, '{"access_token": "a3", "expires_in": 600}'))[
        "access_token"] == "a3"


def test_identity_validation_and_source_detection() -> None:
    with pytest.raises(ManagedIdentityError):
        UserAssignedManagedIdentity(client_id="a", object_id="b")
    with pytest.raises(ManagedIdentityError):
        UserAssignedManagedIdentity()
    assert dict(UserAssignedManagedIdentity(resource_id="/x")) == {
        "ManagedIdentityIdType": "ResourceId", "Id": "/x"}
    assert dict(SystemAssignedManagedIdentity()) == {
        "ManagedIdentityIdType": "SystemAssigned", "Id": None}
    assert managed_identity_source({}).endpoint == (
        "http://169.254.169.254/metadata/identity/oauth2/token")
    assert managed_identity_source(
        {"AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://10.0.0.1:8080/"}).endpoint == (
        "http://10.0.0.1:8080/metadata/identity/oauth2/token")
    app_service = managed_identity_source({"IDENTITY_ENDPOINT": "http://localhost:1/msi/token",
                                           "IDENTITY_HEADER": "h"})
    assert app_service.kind == "app_service" and app_service.identity_header == "h"
    # Service Fabric is supported since issue 16 (it used to raise ManagedIdentityError).
    fabric = managed_identity_source({"IDENTITY_ENDPOINT": "x", "IDENTITY_HEADER": "h",
                                      "IDENTITY_SERVER_THUMBPRINT": "t"})
    assert fabric.kind == "service_fabric" and fabric.server_thumbprint == "t"
