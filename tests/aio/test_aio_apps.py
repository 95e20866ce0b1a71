"""entra_auth.aio: every flow of the sync applications, as coroutines, against the emulator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from fake_time import FakeTime

import entra_auth
from entra_auth import aio
from entra_auth.testing.config import (
    PUBLIC_CLIENT_ID,
    WEB_API_ID,
    WEB_API_SECRET,
    WEB_APP_ID,
    WEB_APP_SECRET,
)
from entra_auth.testing.emulator import Emulator
from entra_auth.testing.user_agent import complete_authorization, enter_device_code

ALICE = "alice@contoso.onmicrosoft.com"
PASSWORD = "alice-password"
SCOPES = ["User.Read"]
API_SCOPE = f"api://{WEB_API_ID}/access_as_user"
T = TypeVar("T")


def run(factory: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(_call(factory))


async def _call(factory: Callable[[], Awaitable[T]]) -> T:
    return await factory()


def public(emu: Emulator, **kwargs: Any) -> aio.PublicClientApplication:
    return aio.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle,
        instance_discovery=False, **kwargs,
    )


def confidential(emu: Emulator, client_id: str = WEB_APP_ID, secret: str = WEB_APP_SECRET,
                 **kwargs: Any) -> aio.ConfidentialClientApplication:
    return aio.ConfidentialClientApplication(
        client_id, client_credential=secret, authority=emu.authority(), verify=emu.ca_bundle,
        instance_discovery=False, **kwargs,
    )


@pytest.fixture
def emu(entra_emulator: Emulator) -> Emulator:
    return entra_emulator


def test_methods_are_coroutines_matching_the_sync_classes() -> None:
    import inspect

    for sync_cls, async_cls in [
        (entra_auth.PublicClientApplication, aio.PublicClientApplication),
        (entra_auth.ConfidentialClientApplication, aio.ConfidentialClientApplication),
    ]:
        public_methods = {n for n in dir(sync_cls) if not n.startswith("_")
                          and callable(getattr(sync_cls, n))}
        for name in public_methods - {"is_pop_supported"}:
            assert inspect.iscoroutinefunction(getattr(async_cls, name)), name


def test_password_then_silent_from_cache_and_accounts(emu: Emulator) -> None:
    async def go() -> None:
        async with public(emu) as app:
            result = await app.acquire_token_by_username_password(ALICE, PASSWORD, SCOPES)
            assert "access_token" in result, result
            accounts = await app.get_accounts()
            assert [a["username"] for a in accounts] == [ALICE]
            assert await app.get_accounts(username="nobody@contoso.onmicrosoft.com") == []
            before = len(emu.requests_to("token"))
            cached = await app.acquire_token_silent(SCOPES, accounts[0])
            assert cached is not None and cached["token_source"] == "cache"
            forced = await app.acquire_token_silent_with_error(
                SCOPES, accounts[0], force_refresh=True)
            assert forced is not None and forced["token_source"] == "identity_provider"
            assert len(emu.requests_to("token")) == before + 1
            await app.remove_account(accounts[0])
            assert await app.get_accounts() == []
            assert await app.acquire_token_silent(SCOPES, accounts[0]) is None

    run(go)


def test_auth_code_flow(emu: Emulator) -> None:
    async def go() -> None:
        async with public(emu) as app:
            flow = await app.initiate_auth_code_flow(SCOPES, redirect_uri="http://localhost:8400")
            response = await asyncio.to_thread(
                complete_authorization, flow["auth_uri"], ALICE, PASSWORD,
                verify=emu.ca_bundle or True)
            result = await app.acquire_token_by_auth_code_flow(flow, response)
            assert "access_token" in result, result
            assert result["id_token_claims"]["preferred_username"] == ALICE
            with pytest.raises(ValueError):
                await app.acquire_token_by_auth_code_flow(flow, {**response, "state": "forged"})

    run(go)


def test_authorization_code_with_request_url(emu: Emulator) -> None:
    async def go() -> None:
        async with confidential(emu) as app:
            url = await app.get_authorization_request_url(
                SCOPES, redirect_uri="http://localhost/callback", state="s1")
            assert url.startswith(emu.base_url) and "state=s1" in url
            response = await asyncio.to_thread(
                complete_authorization, url, ALICE, PASSWORD, verify=emu.ca_bundle or True)
            result = await app.acquire_token_by_authorization_code(
                response["code"], SCOPES, redirect_uri="http://localhost/callback")
            assert "access_token" in result, result

    run(go)


def test_device_flow_polls_without_blocking_the_loop(emu: Emulator) -> None:
    fake = FakeTime(emu)  # the emulator's clock: the app's waits advance it, at once
    ticks = 0
    user: asyncio.Task[None] | None = None

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def sleep(seconds: float) -> None:
        await fake.async_sleep(seconds)
        if user is not None:
            await user  # the user signs in while the app waits

    async def go() -> None:
        nonlocal user
        async with public(emu, clock=fake, sleep=sleep) as app:
            flow = await app.initiate_device_flow(SCOPES)
            assert "user_code" in flow and flow["message"]

            async def user_signs_in() -> None:
                while ticks < 10:  # the loop keeps running while the app polls
                    await asyncio.sleep(0.01)
                await asyncio.to_thread(enter_device_code, flow, ALICE, PASSWORD,
                                        verify=emu.ca_bundle or True)

            tick_task = asyncio.create_task(ticker())
            user = asyncio.create_task(user_signs_in())
            result = await asyncio.wait_for(app.acquire_token_by_device_flow(flow), 30)
            tick_task.cancel()
            assert "access_token" in result, result
            assert ticks >= 10  # the loop kept running while polling
            # one wait of the server's interval (5 s, in steps) between the two polls
            assert sum(fake.slept) == flow["interval"] == 5

    run(go)


def test_device_flow_is_cancellable(emu: Emulator) -> None:
    async def go() -> int:
        async with public(emu) as app:  # the default sleep: asyncio.sleep
            flow = await app.initiate_device_flow(SCOPES)
            flow["interval"] = 5
            poll = asyncio.create_task(app.acquire_token_by_device_flow(flow))
            while not emu.requests_to("token"):  # the first poll is answered: it now waits
                await asyncio.sleep(0.01)
            poll.cancel()
            with pytest.raises(asyncio.CancelledError):
                await poll
            return len(emu.requests_to("token"))

    assert run(go) == 1  # cancelled in its wait: no second poll


def test_default_sleep_is_asyncio_sleep(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    flow: dict[str, Any] = {}
    real_sleep = asyncio.sleep

    async def recording_sleep(seconds: float) -> None:
        slept.append(seconds)
        flow["expires_at"] = 0  # the caller gives up during the first wait
        await real_sleep(0)

    async def go() -> dict[str, Any]:
        async with public(emu) as app:
            flow.update(await app.initiate_device_flow(SCOPES))
            flow["interval"] = 1
            monkeypatch.setattr(asyncio, "sleep", recording_sleep)
            result: dict[str, Any] = await app.acquire_token_by_device_flow(flow)
            return result

    assert run(go)["error"] == "authorization_pending"
    assert slept == [1.0]  # without sleep=, the application waits with asyncio.sleep


def test_client_credentials_cached_and_single_flight(emu: Emulator) -> None:
    async def go() -> None:
        async with confidential(emu) as app:
            scopes = ["https://graph.microsoft.com/.default"]
            before = len(emu.requests_to("token"))
            results = await asyncio.gather(*(app.acquire_token_for_client(scopes)
                                             for _ in range(20)))
            assert all("access_token" in r for r in results)
            assert len(emu.requests_to("token")) == before + 1
            again = await app.acquire_token_for_client(scopes)
            assert again["token_source"] == "cache"
            await app.remove_tokens_for_client()
            fresh = await app.acquire_token_for_client(scopes)
            assert fresh["token_source"] == "identity_provider"
            challenged = await app.acquire_token_for_client(
                scopes, claims_challenge=json.dumps({"access_token": {"xms_cc": {"values": []}}}))
            assert "access_token" in challenged

    run(go)


def test_on_behalf_of(emu: Emulator) -> None:
    async def go() -> None:
        async with public(emu) as client:
            user = await client.acquire_token_by_username_password(ALICE, PASSWORD, [API_SCOPE])
            assert "access_token" in user, user
        async with confidential(emu, WEB_API_ID, WEB_API_SECRET) as api:
            result = await api.acquire_token_on_behalf_of(user["access_token"], SCOPES)
            assert "access_token" in result, result
            bad = await api.acquire_token_on_behalf_of("not-a-token", SCOPES)
            assert "error" in bad

    run(go)


def test_refresh_token_migration(emu: Emulator) -> None:
    sync_app = entra_auth.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), http_client=emu.requests_session(),
        instance_discovery=False)
    rt = sync_app.acquire_token_by_username_password(ALICE, PASSWORD, SCOPES)["refresh_token"]

    async def go() -> None:
        async with public(emu) as app:
            result = await app.acquire_token_by_refresh_token(rt, SCOPES)
            assert "access_token" in result, result
            assert [a["username"] for a in await app.get_accounts()] == [ALICE]

    run(go)


def test_cache_shared_with_a_sync_app(emu: Emulator) -> None:
    cache = entra_auth.SerializableTokenCache()
    sync_app = entra_auth.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), http_client=emu.requests_session(),
        instance_discovery=False, token_cache=cache)
    sync_app.acquire_token_by_username_password(ALICE, PASSWORD, SCOPES)
    before = len(emu.requests_to("token"))

    async def go() -> dict[str, Any] | None:
        async with public(emu, token_cache=cache) as app:
            (account,) = await app.get_accounts()
            return await app.acquire_token_silent(SCOPES, account)

    result = run(go)
    assert result is not None and result["token_source"] == "cache"
    assert len(emu.requests_to("token")) == before


def test_errors_come_back_as_dicts_and_misuse_raises(emu: Emulator) -> None:
    async def go() -> None:
        async with public(emu) as app:
            wrong = await app.acquire_token_by_username_password(ALICE, "wrong", SCOPES)
            assert wrong["error"] == "invalid_grant"
            with pytest.raises(ValueError):
                await app.acquire_token_by_username_password(ALICE, PASSWORD, ["openid"])
            emu.inject_fault("token", "drop")
            dropped = await app.acquire_token_by_username_password(ALICE, PASSWORD, SCOPES)
            assert "error" in dropped

    run(go)


def test_constructor_checks() -> None:
    with pytest.raises(ValueError):
        aio.PublicClientApplication(PUBLIC_CLIENT_ID, client_credential="secret")
    with pytest.raises(ValueError):
        aio.ConfidentialClientApplication(WEB_APP_ID)
    with pytest.raises(ValueError):
        aio.PublicClientApplication(PUBLIC_CLIENT_ID, http_client=httpx.Client())  # type: ignore[arg-type]


def test_callers_httpx_client_is_used_and_not_closed(emu: Emulator) -> None:
    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request.url.path)

    async def go() -> bool:
        client = httpx.AsyncClient(verify=emu.ca_bundle or True, event_hooks={"request": [hook]})
        async with public(emu, http_client=client) as app:
            await app.acquire_token_by_username_password(ALICE, PASSWORD, SCOPES)
        closed = client.is_closed
        await client.aclose()
        return closed

    assert run(go) is False
    assert any(path.endswith("/oauth2/v2.0/token") for path in seen)
