"""``clock=`` and ``sleep=`` on the applications: every time decision reads the clock, every
wait goes through the sleep, so these tests run on a fake clock and never wait."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from fake_time import FakeTime

import entra_auth as msal
from entra_auth import aio
from entra_auth.testing import PUBLIC_CLIENT_ID, WEB_APP_ID, WEB_APP_SECRET, Emulator

from .conftest import USER_READ, public_app, sign_in

GRAPH_DEFAULT = ["https://graph.microsoft.com/.default"]


def test_the_clock_decides_when_a_cached_token_expired(emu: Emulator) -> None:
    fake = FakeTime()
    app = public_app(emu, clock=fake)
    first = sign_in(app)
    [account] = app.get_accounts()
    hit = app.acquire_token_silent([USER_READ], account)
    assert hit is not None and hit["token_source"] == "cache"
    assert hit["expires_in"] == first["expires_in"]  # no time passed on this clock
    fake.advance(first["expires_in"] - 60)  # inside the 5-minute margin: refreshed
    again = app.acquire_token_silent([USER_READ], account)
    assert again is not None and again["token_source"] == "identity_provider"
    assert again["access_token"] != first["access_token"]


def test_the_clock_runs_the_throttling_window(emu: Emulator) -> None:
    fake = FakeTime()
    app = msal.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        verify=emu.ca_bundle, clock=fake, sleep=fake.sleep)
    emu.inject_fault("token", "status", status=429, retry_after=30)
    throttled = app.acquire_token_for_client(GRAPH_DEFAULT)
    assert throttled["error"] and throttled["retry_after"] == "30"
    fake.advance(29)
    assert app.acquire_token_for_client(GRAPH_DEFAULT) == throttled  # replayed, not sent
    assert len(emu.requests_to("token")) == 1
    fake.advance(2)
    assert "access_token" in app.acquire_token_for_client(GRAPH_DEFAULT)
    assert len(emu.requests_to("token")) == 2
    assert fake.slept == []  # a throttled POST is never waited for


def test_device_code_polling_ends_at_its_deadline_on_the_clock(emu: Emulator) -> None:
    emu.settings.device_poll_interval = 1
    emu.settings.device_code_lifetime = 3
    fake = FakeTime(emu)
    app = public_app(emu, clock=fake, sleep=fake.sleep)
    flow = app.initiate_device_flow([USER_READ])
    result = app.acquire_token_by_device_flow(flow)  # nobody signs in
    assert result["error"] in ("authorization_pending", "expired_token")
    assert sum(fake.slept) == pytest.approx(3.0) and all(s <= 1.0 for s in fake.slept)


@pytest.mark.parametrize("kwargs", [{"clock": 5}, {"sleep": "soon"}])
def test_a_clock_or_sleep_that_cant_be_called_is_a_type_error(kwargs: dict[str, Any]) -> None:
    with pytest.raises(TypeError, match=next(iter(kwargs))):
        msal.PublicClientApplication(PUBLIC_CLIENT_ID, **kwargs)


def test_the_sleep_must_match_the_kind_of_application() -> None:
    with pytest.raises(TypeError, match=r"entra_auth\.aio"):
        msal.PublicClientApplication(PUBLIC_CLIENT_ID, sleep=asyncio.sleep)

    async def build() -> None:
        aio.PublicClientApplication(PUBLIC_CLIENT_ID, sleep=time.sleep)

    with pytest.raises(TypeError, match="async function"):
        asyncio.run(build())


def test_clock_and_sleep_are_keyword_only_and_unknown_keywords_still_fail() -> None:
    names = msal.ClientApplication.__init__.__code__.co_varnames
    count = msal.ClientApplication.__init__.__code__.co_argcount
    assert "clock" not in names[:count] and "sleep" not in names[:count]
    with pytest.raises(TypeError, match="clocks"):
        msal.PublicClientApplication(PUBLIC_CLIENT_ID, clocks=time.time)  # type: ignore[call-arg]


def test_aio_application_waits_with_its_async_sleep(emu: Emulator) -> None:
    emu.settings.device_poll_interval = 1
    fake = FakeTime(emu)

    async def go() -> dict[str, Any]:
        async with aio.PublicClientApplication(
                PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle,
                clock=fake, sleep=fake.async_sleep) as app:
            flow = await app.initiate_device_flow([USER_READ])
            flow["expires_at"] = fake() + 2  # the caller's own deadline, on the same clock
            result: dict[str, Any] = await app.acquire_token_by_device_flow(flow)
            return result

    assert asyncio.run(go())["error"] == "authorization_pending"
    assert fake.slept == [1.0, 1.0]
