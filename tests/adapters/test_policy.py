"""Destination policy (adapters/policy.py) and the request flow driven by hand (_flow.py)."""

from __future__ import annotations

import pytest

from entra_auth.adapters import EntraAuth
from entra_auth.adapters._flow import NeedToken, ResponseInfo, SendWithToken, request_flow
from entra_auth.adapters.policy import (
    DestinationPolicy,
    UnsafeDestinationError,
    hosts_for_scopes,
    same_origin,
)

from .conftest import CHALLENGE


def test_hosts_from_scopes() -> None:
    assert hosts_for_scopes(["User.Read", "openid", "offline_access"]) == ["graph.microsoft.com"]
    assert hosts_for_scopes(["https://graph.microsoft.com/.default"]) == ["graph.microsoft.com"]
    assert hosts_for_scopes(["https://management.core.windows.net//.default"]) == [
        "management.core.windows.net", "management.azure.com"]
    assert hosts_for_scopes(["https://contoso.sharepoint.com/AllSites.Read"]) == [
        "contoso.sharepoint.com"]
    with pytest.raises(ValueError, match="allowed_hosts"):
        hosts_for_scopes(["api://9d207f51/access_as_user"])
    with pytest.raises(ValueError, match="allowed_hosts"):
        hosts_for_scopes(["openid"])


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://graph.microsoft.com/v1.0/me", True),
        ("HTTPS://Graph.Microsoft.com:443/v1.0/me", True),
        ("http://graph.microsoft.com/v1.0/me", False),  # plain http off loopback
        ("https://graph.microsoft.com.evil.test/", False),
        ("https://evil.test/?u=https://graph.microsoft.com/", False),
        ("https://evil.test#@graph.microsoft.com/", False),
        ("https://graph.microsoft.com@evil.test/", False),
        ("ftp://graph.microsoft.com/", False),
        ("http://127.0.0.1:8080/x", True),
        ("http://[::1]:8080/x", True),
        ("http://localhost:8080/x", False),  # loopback, but not in the list
        ("https://api.contoso.test:8443/x", True),
        ("https://api.contoso.test/x", False),  # wrong port for the host:port entry
        ("https://a.b.contoso.net/x", True),
        ("https://contoso.net/x", False),
        ("not a url", False),
        ("https://graph.microsoft.com:99999/", False),
    ],
)
def test_policy_decisions(url: str, allowed: bool) -> None:
    policy = DestinationPolicy(
        ["graph.microsoft.com", "127.0.0.1", "::1", "api.contoso.test:8443", "*.contoso.net"]
    )
    for _ in range(2):  # the second call answers from the verdict cache
        assert policy.allows(url) is allowed
        if allowed:
            policy.check(url)
        else:
            with pytest.raises(UnsafeDestinationError) as caught:
                policy.check(url)
            assert caught.value.error == "unsafe_destination"


def test_policy_configuration_errors() -> None:
    with pytest.raises(ValueError):
        DestinationPolicy([])
    with pytest.raises(ValueError):
        DestinationPolicy(["https://graph.microsoft.com/"])
    with pytest.raises(ValueError):
        DestinationPolicy(["host:0"])
    with pytest.raises(TypeError):
        DestinationPolicy.for_scopes(["User.Read"], "graph.microsoft.com")  # type: ignore[arg-type]


def test_same_origin() -> None:
    assert same_origin("https://a.test/x", "https://A.test:443/y")
    assert not same_origin("https://a.test/x", "http://a.test/x")
    assert not same_origin("http://a.test:80/", "http://a.test:81/")


def test_adapter_argument_checks() -> None:
    class PublicLike:
        def get_accounts(self) -> list[object]:
            return []

    with pytest.raises(TypeError):
        EntraAuth(PublicLike(), "User.Read")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        EntraAuth(PublicLike(), [])
    with pytest.raises(ValueError, match="fallback"):
        EntraAuth(PublicLike(), ["User.Read"], fallback="sms")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="public client"):
        EntraAuth(PublicLike(), ["User.Read"], fallback="device")
    with pytest.raises(ValueError, match="Confidential"):
        EntraAuth.on_behalf_of(PublicLike(), "assertion", ["User.Read"])


POLICY = DestinationPolicy(["api.test"])
URL = "https://api.test/data"


def test_flow_attaches_and_stops_on_success() -> None:
    flow = request_flow(POLICY, URL, replayable=True)
    assert next(flow) == NeedToken()
    assert flow.send("t1") == SendWithToken("t1")
    with pytest.raises(StopIteration):
        flow.send(ResponseInfo(200, None, URL))


def test_flow_answers_a_claims_challenge_once() -> None:
    flow = request_flow(POLICY, URL, replayable=True)
    next(flow)
    flow.send("t1")
    need = flow.send(ResponseInfo(401, CHALLENGE, URL))
    assert isinstance(need, NeedToken) and need.rejected == "t1"
    assert need.claims is not None and '"nbf"' in need.claims
    assert flow.send("t2") == SendWithToken("t2")
    with pytest.raises(StopIteration):
        flow.send(ResponseInfo(401, CHALLENGE, URL))  # the second 401 goes to the caller


def test_flow_refuses_before_asking_for_a_token() -> None:
    flow = request_flow(POLICY, "http://api.test/data", replayable=True)
    with pytest.raises(UnsafeDestinationError):
        next(flow)


def test_flow_ignores_a_challenge_from_another_origin() -> None:
    flow = request_flow(POLICY, URL, replayable=True)
    next(flow)
    flow.send("t1")
    with pytest.raises(StopIteration):
        flow.send(ResponseInfo(401, CHALLENGE, "https://other.test/data"))


def test_flow_with_a_stream_body_reacquires_but_does_not_resend() -> None:
    flow = request_flow(POLICY, URL, replayable=False)
    next(flow)
    flow.send("t1")
    assert isinstance(flow.send(ResponseInfo(401, [CHALLENGE], URL)), NeedToken)
    with pytest.raises(StopIteration):
        flow.send("t2")
