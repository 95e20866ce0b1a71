"""Destination policy (adapters/policy.py) and the request flow driven by hand (_flow.py)."""

from __future__ import annotations

import pytest
import requests

from entra_auth.adapters import EntraAuth
from entra_auth.adapters._flow import challenge_flow
from entra_auth.adapters.policy import (
    DestinationPolicy,
    UnsafeDestinationError,
    hosts_for_scopes,
    same_origin,
)
from entra_auth.protocol.messages import NeedToken, ResponseInfo, SendWithToken
from entra_auth.transport.driver import Done, resume, start

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


URL = "https://api.test/data"


class _CountingApp:
    """A confidential application whose client-credentials token is "t1"."""

    def __init__(self) -> None:
        self.calls = 0

    def acquire_token_for_client(self, scopes: list[str], **kwargs: object) -> dict[str, object]:
        self.calls += 1
        return {"access_token": "t1", "token_type": "Bearer", "expires_in": 3600}


def _auth(app: _CountingApp) -> EntraAuth:
    return EntraAuth(app, ["https://api.test/.default"], allowed_hosts=["api.test"])  # type: ignore[arg-type]


def _first_steps(url: str) -> str:
    """The adapters' inline first steps (EntraAuth._first_token_sync): the destination
    check, then the application's token."""
    app = _CountingApp()
    token = _auth(app)._first_token_sync(url)
    assert app.calls == 1
    return token


def test_flow_attaches_and_stops_on_success() -> None:
    auth = _auth(_CountingApp())
    prepared = auth(requests.Request("GET", URL).prepare())
    assert prepared.headers["Authorization"] == "Bearer t1"
    token = _first_steps(URL)
    assert token == "t1"
    flow = challenge_flow(URL, token, ResponseInfo(200, None, URL), replayable=True)
    step = start(flow)
    assert isinstance(step, Done) and step.result is None


def test_flow_answers_a_claims_challenge_once() -> None:
    token = _first_steps(URL)
    flow = challenge_flow(URL, token, ResponseInfo(401, CHALLENGE, URL), replayable=True)
    need = start(flow)
    assert isinstance(need, NeedToken) and need.rejected == "t1"
    assert need.claims is not None and '"nbf"' in need.claims
    assert resume(flow, "t2") == SendWithToken("t2")
    # the second 401 goes to the caller
    assert isinstance(resume(flow, ResponseInfo(401, CHALLENGE, URL)), Done)


def test_flow_refuses_before_asking_for_a_token() -> None:
    app = _CountingApp()
    auth = _auth(app)
    with pytest.raises(UnsafeDestinationError):
        auth._first_token_sync("http://api.test/data")
    assert app.calls == 0


def test_flow_ignores_a_challenge_from_another_origin() -> None:
    token = _first_steps(URL)
    response = ResponseInfo(401, CHALLENGE, "https://other.test/data")
    assert isinstance(start(challenge_flow(URL, token, response, replayable=True)), Done)


def test_flow_with_a_stream_body_reacquires_but_does_not_resend() -> None:
    token = _first_steps(URL)
    flow = challenge_flow(URL, token, ResponseInfo(401, [CHALLENGE], URL), replayable=False)
    assert isinstance(start(flow), NeedToken)
    assert isinstance(resume(flow, "t2"), Done)
