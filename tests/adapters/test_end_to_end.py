"""EntraAuth end to end against the emulator, for requests, httpx.Client and httpx.AsyncClient."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests

from entra_auth.adapters import EntraAuth, UnsafeDestinationError
from entra_auth.errors import InteractionRequiredError
from entra_auth.testing.emulator import Emulator
from entra_auth.testing.user_agent import enter_device_code

from .conftest import (
    ALICE,
    ALICE_PASSWORD,
    GRAPH_SCOPES,
    ResourceServer,
    revoke_access_tokens,
    token_requests,
    user_app,
)
from .drivers import DRIVERS

ALL = sorted(DRIVERS)


def make_auth(emu: Emulator, driver_name: str, app: Any = None, **kwargs: Any) -> EntraAuth:
    if app is None:
        app = user_app(emu, driver_name)
    kwargs.setdefault("allowed_hosts", ["127.0.0.1"])
    return EntraAuth(app, GRAPH_SCOPES, **kwargs)


@pytest.fixture(params=ALL)
def driver_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(emu: Emulator, driver_name: str) -> Iterator[Any]:
    """A signed-in client of the kind under test, authenticated by EntraAuth."""
    driver = DRIVERS[driver_name](make_auth(emu, driver_name), emu.ca_bundle)
    yield driver
    driver.close()


def test_silent_attach(emu: Emulator, client: Any) -> None:
    before = token_requests(emu)
    reply = client.send("GET", emu.graph_url)
    assert reply.status == 200
    assert reply.json()["userPrincipalName"] == ALICE
    assert token_requests(emu) == before  # the token came from the cache


def test_cae_revocation_recovered_with_one_token_request_and_one_resend(
    emu: Emulator, client: Any
) -> None:
    assert client.send("GET", emu.graph_url).status == 200
    revoke_access_tokens(emu)
    tokens, graph = token_requests(emu), len(emu.requests_to("graph"))
    reply = client.send("GET", emu.graph_url)
    assert reply.status == 200
    assert reply.history == [401]
    assert token_requests(emu) == tokens + 1
    assert len(emu.requests_to("graph")) == graph + 2
    # the next request uses the new token straight away
    assert client.send("GET", emu.graph_url).status == 200
    assert token_requests(emu) == tokens + 1


def test_step_up_challenge_sends_the_claims(emu: Emulator, client: Any) -> None:
    emu.require_auth_context("c1")
    before = token_requests(emu)
    reply = client.send("GET", emu.graph_url)
    assert reply.status == 200
    assert token_requests(emu) == before + 1
    form = emu.requests_to("token")[-1].form
    assert '"acrs"' in form.get("claims", "")


def test_second_challenge_goes_back_to_the_caller(
    emu: Emulator, client: Any, resource: ResourceServer
) -> None:
    before = token_requests(emu)
    reply = client.send("GET", resource.url("/challenge-always"))
    assert reply.status == 401
    assert reply.history == [401]
    assert len(resource.seen) == 2
    first, second = (s.authorization for s in resource.seen)
    assert first and second and first.startswith("Bearer ") and first != second
    assert token_requests(emu) == before + 1


def test_resent_request_keeps_its_body(
    emu: Emulator, client: Any, resource: ResourceServer
) -> None:
    resource.challenge_first = 1
    reply = client.send("POST", resource.url("/challenge-first"), body=b"payload-123")
    assert reply.status == 200
    assert reply.body == b"payload-123"
    assert [s.body for s in resource.seen] == [b"payload-123", b"payload-123"]


def test_stream_body_is_not_resent_empty(
    emu: Emulator, client: Any, resource: ResourceServer, caplog: pytest.LogCaptureFixture
) -> None:
    resource.challenge_first = 1
    before = token_requests(emu)
    with caplog.at_level(logging.WARNING, logger="entra_auth.adapters"):
        reply = client.send("POST", resource.url("/challenge-first"), body=b"payload", stream=True)
    assert reply.status == 401
    assert [s.body for s in resource.seen] == [b"payload"]
    assert "body is a stream" in caplog.text
    # the challenge was still answered: a retry by the caller carries the new token
    assert token_requests(emu) == before + 1
    retry = client.send("POST", resource.url("/challenge-first"), body=b"payload")
    assert retry.status == 200
    assert resource.seen[1].authorization != resource.seen[0].authorization


def test_no_token_over_plain_http_to_a_remote_host(emu: Emulator, driver_name: str) -> None:
    auth = make_auth(emu, driver_name, allowed_hosts=["api.contoso.test"])
    driver = DRIVERS[driver_name](auth, emu.ca_bundle)
    before = len(emu.requests)
    with pytest.raises(UnsafeDestinationError, match="over http"):
        driver.send("GET", "http://api.contoso.test/v1.0/me")
    assert len(emu.requests) == before  # not even a token was asked for


def test_no_token_to_a_host_not_allowed(
    emu: Emulator, driver_name: str, resource: ResourceServer
) -> None:
    driver = DRIVERS[driver_name](make_auth(emu, driver_name), emu.ca_bundle)
    with pytest.raises(UnsafeDestinationError, match="not in allowed_hosts"):
        driver.send("GET", resource.url("/record", host="localhost"))
    assert resource.seen == []


def test_scopes_decide_the_allowed_host(emu: Emulator, driver_name: str) -> None:
    auth = EntraAuth(user_app(emu, driver_name), GRAPH_SCOPES)  # graph.microsoft.com only
    driver = DRIVERS[driver_name](auth, emu.ca_bundle)
    with pytest.raises(UnsafeDestinationError):
        driver.send("GET", emu.graph_url)
    assert auth.allowed_hosts == "graph.microsoft.com"


def test_token_not_carried_across_a_redirect_to_another_host(
    emu: Emulator, driver_name: str, resource: ResourceServer
) -> None:
    auth = make_auth(emu, driver_name, allowed_hosts=["127.0.0.1", "localhost"])
    driver = DRIVERS[driver_name](auth, emu.ca_bundle)
    target = resource.url("/record", host="localhost")
    reply = driver.send("GET", resource.url(f"/redirect?to={target}"))
    assert reply.status == 200
    assert [s.host.split(":")[0] for s in resource.seen] == ["127.0.0.1", "localhost"]
    assert resource.seen[0].authorization is not None
    assert resource.seen[1].authorization is None


def test_challenge_from_a_redirect_target_is_not_answered(
    emu: Emulator, driver_name: str, resource: ResourceServer
) -> None:
    auth = make_auth(emu, driver_name, allowed_hosts=["127.0.0.1", "localhost"])
    driver = DRIVERS[driver_name](auth, emu.ca_bundle)
    before = token_requests(emu)
    target = resource.url("/challenge-always", host="localhost")
    reply = driver.send("GET", resource.url(f"/redirect?to={target}"))
    assert reply.status == 401
    assert len(resource.seen) == 2
    assert token_requests(emu) == before


@pytest.mark.parametrize("path", ["/basic", "/malformed", "/bad-claims"])
def test_other_401s_are_returned_untouched(
    emu: Emulator, client: Any, resource: ResourceServer, path: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    before = token_requests(emu)
    with caplog.at_level(logging.WARNING, logger="entra_auth.adapters"):
        reply = client.send("GET", resource.url(path))
    assert reply.status == 401
    assert reply.history == []
    assert len(resource.seen) == 1
    assert token_requests(emu) == before
    if path == "/bad-claims":
        assert "can't be decoded" in caplog.text


def test_failed_reacquisition_raises_chained_to_the_401(emu: Emulator, client: Any) -> None:
    assert client.send("GET", emu.graph_url).status == 200
    emu.revoke_sessions(ALICE)  # refresh tokens die too: silent can't answer the challenge
    with pytest.raises(InteractionRequiredError) as caught:
        client.send("GET", emu.graph_url)
    error = caught.value
    assert error.claims is not None and '"nbf"' in error.claims
    cause = error.__cause__
    assert isinstance(cause, (requests.HTTPError, httpx.HTTPStatusError))
    assert cause.response is not None and cause.response.status_code == 401
    assert "Bearer" not in str(error)


def test_device_fallback_answers_a_revocation(emu: Emulator, driver_name: str) -> None:
    app = user_app(emu, driver_name)
    messages: list[str] = []

    def prompt(message: str) -> None:
        messages.append(message)
        code = re.search(r"code (\S+) to authenticate", message)
        assert code is not None
        enter_device_code(
            {"user_code": code.group(1), "verification_uri": emu.device_login_url},
            ALICE, ALICE_PASSWORD, verify=emu.ca_bundle or True,
        )

    auth = make_auth(emu, driver_name, app, fallback="device", prompt=prompt)
    driver = DRIVERS[driver_name](auth, emu.ca_bundle)
    assert driver.send("GET", emu.graph_url).status == 200
    emu.revoke_sessions(ALICE)
    reply = driver.send("GET", emu.graph_url)
    assert reply.status == 200 and reply.history == [401]
    assert len(messages) == 1
    assert '"nbf"' in emu.requests_to("devicecode")[-1].form.get("claims", "")


def test_no_account_and_no_fallback_raises_before_sending(
    emu: Emulator, driver_name: str, resource: ResourceServer
) -> None:
    auth = make_auth(emu, driver_name, user_app(emu, driver_name, signed_in=False))
    driver = DRIVERS[driver_name](auth, emu.ca_bundle)
    with pytest.raises(InteractionRequiredError) as caught:
        driver.send("GET", resource.url("/record"))
    assert caught.value.error == "no_account"
    assert resource.seen == []
