"""SigningKeys and the validation flow driven by hand (no I/O): what is fetched, and when."""

from __future__ import annotations

import json
from typing import Any

import pytest

from entra_auth.errors import ProtocolError, TransportFailure
from entra_auth.protocol.messages import HttpRequest, HttpResponse, SendError
from entra_auth.web import InvalidTokenError, SigningKeys, TokenValidator

DISCOVERY = "https://login.example.test/tenant/v2.0/.well-known/openid-configuration"
JWKS_URI = "https://login.example.test/tenant/discovery/v2.0/keys"
METADATA = {"issuer": "https://login.example.test/tid/v2.0", "jwks_uri": JWKS_URI}


def reply(body: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(status, {"content-type": "application/json"},
                        body if isinstance(body, str) else json.dumps(body))


def jwks(*kids: str) -> dict[str, Any]:
    return {"keys": [{"kty": "RSA", "use": "sig", "kid": k, "n": "AQAB", "e": "AQAB"}
                     for k in kids]}


def drive(flow: Any, replies: list[HttpResponse | Exception]) -> tuple[Any, list[str]]:
    """Run a flow, answering its requests in order; return its result and the URLs asked."""
    urls: list[str] = []
    try:
        request = next(flow)
        while True:
            assert isinstance(request, HttpRequest) and request.method == "GET"
            urls.append(request.url)
            answer = replies.pop(0)
            request = flow.throw(answer) if isinstance(answer, Exception) else flow.send(answer)
    except StopIteration as stop:
        return stop.value, urls


def test_discovery_once_then_jwks_cached() -> None:
    keys = SigningKeys(DISCOVERY)
    key, urls = drive(keys.key_flow("k1", 1000.0), [reply(METADATA), reply(jwks("k1"))])
    assert key["kid"] == "k1" and urls == [DISCOVERY, JWKS_URI]
    key, urls = drive(keys.key_flow("k1", 1001.0), [])
    assert key["kid"] == "k1" and urls == []


def test_unknown_kid_refetch_is_rate_limited_and_stale_sets_refresh() -> None:
    keys = SigningKeys(DISCOVERY, refresh_interval=300.0, max_age=3600.0)
    drive(keys.key_flow("k1", 1000.0), [reply(METADATA), reply(jwks("k1"))])
    assert drive(keys.key_flow("k2", 1010.0), [reply(jwks("k1"))]) == (None, [JWKS_URI])
    assert drive(keys.key_flow("k3", 1020.0), []) == (None, [])
    key, urls = drive(keys.key_flow("k2", 1400.0), [reply(jwks("k1", "k2"))])
    assert key["kid"] == "k2" and urls == [JWKS_URI]
    # Past max_age even a known kid triggers a refetch.
    _, urls = drive(keys.key_flow("k1", 1400.0 + 3601), [reply(jwks("k1", "k2"))])
    assert urls == [JWKS_URI]


def test_failed_refetch_keeps_the_old_keys_but_a_first_failure_raises() -> None:
    keys = SigningKeys(DISCOVERY, max_age=10.0)
    drive(keys.key_flow("k1", 0.0), [reply(METADATA), reply(jwks("k1"))])
    key, _ = drive(keys.key_flow("k1", 100.0), [SendError("reset", kind="read")])
    assert key["kid"] == "k1"
    key, _ = drive(keys.key_flow("k1", 200.0), [reply("<html>", 500)])
    assert key["kid"] == "k1"
    fresh = SigningKeys(DISCOVERY)
    with pytest.raises(TransportFailure):
        drive(fresh.key_flow("k1", 0.0), [reply(METADATA), SendError("refused")])
    with pytest.raises(ProtocolError):
        drive(SigningKeys(DISCOVERY).key_flow("k1", 0.0), [reply({"issuer": "x"})])
    with pytest.raises(ProtocolError):
        drive(SigningKeys(DISCOVERY).key_flow("k1", 0.0), [reply(METADATA), reply({"k": 1})])


def test_validation_flow_rejects_before_any_request() -> None:
    validator = TokenValidator("api-id", authority="https://login.example.test/tenant")
    for token in ("", "a.b", "not base64!.x.y"):
        with pytest.raises(InvalidTokenError):
            drive(validator.validate_flow(token, now=0.0), [])
    with pytest.raises(ValueError):
        TokenValidator("api-id", algorithms=["none"])
    with pytest.raises(ValueError):
        TokenValidator(" ")
