"""Retry-After is honoured within bounds: a throttled POST is replayed from the http_cache
for at most an hour; a throttled discovery GET is retried once after at most 5 s."""

from __future__ import annotations

import time
from typing import Any

from fake_time import FakeTime

import entra_auth as msal
from entra_auth.testing import PUBLIC_CLIENT_ID, WEB_APP_ID, WEB_APP_SECRET, Emulator

from .flows import ALICE, ALICE_PW, GRAPH_DEFAULT, USER_READ


def test_throttled_post_is_replayed_for_at_most_an_hour(entra_emulator: Emulator) -> None:
    emu = entra_emulator
    http_cache: dict[str, Any] = {}
    app = msal.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle,
        http_cache=http_cache)
    app.get_accounts()
    emu.inject_fault("token", "status", status=429, retry_after=10**6, times=None)
    first = app.acquire_token_by_username_password(ALICE, ALICE_PW, [USER_READ])
    assert first["error"] and first["retry_after"] == str(10**6)
    now = time.time()
    throttled = [e for k, e in http_cache.items() if k.startswith("POST")]
    assert throttled, "the throttled answer was not remembered"
    assert all(now + 3600 - 5 <= e["expires_at"] <= now + 3600 + 5 for e in throttled)
    for _ in range(3):  # replayed, not re-sent
        assert app.acquire_token_by_username_password(ALICE, ALICE_PW, [USER_READ]) == first
    assert len(emu.requests_to("token")) == 1


def test_throttled_discovery_waits_a_bounded_time(entra_emulator: Emulator) -> None:
    emu = entra_emulator
    emu.inject_fault("openid_configuration", "status", status=503, retry_after=3600,
                     times=None)
    fake = FakeTime()
    app = msal.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        verify=emu.ca_bundle, clock=fake, sleep=fake.sleep)
    result = app.acquire_token_for_client(GRAPH_DEFAULT)
    assert result["error"] == "invalid_discovery_response" and result["correlation_id"]
    assert fake.slept == [5.0]  # one retry after min(Retry-After, 5 s)
    assert len(emu.requests_to("openid_configuration")) == 2
    # Once the endpoint recovers, the same application discovers and gets a token.
    emu.clear_faults()
    assert "access_token" in app.acquire_token_for_client(GRAPH_DEFAULT)
