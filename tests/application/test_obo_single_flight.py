"""On-behalf-of single-flight: concurrent requests of one user send one OBO request."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import entra_auth as msal
from entra_auth import aio
from entra_auth.testing import GRAPH_RESOURCE, WEB_API_ID, WEB_API_SECRET, Emulator

from .conftest import public_app, sign_in

API_SCOPE = f"api://{WEB_API_ID}/access_as_user"
USER_READ = [f"{GRAPH_RESOURCE}/User.Read"]
OBO_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def obo_requests(emu: Emulator) -> int:
    return sum(1 for r in emu.requests_to("token") if r.form.get("grant_type") == OBO_GRANT)


def sync_api(emu: Emulator, **kw: Any) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        WEB_API_ID, WEB_API_SECRET, authority=emu.authority(), verify=emu.ca_bundle, **kw)


def async_api(emu: Emulator) -> aio.ConfidentialClientApplication:
    return aio.ConfidentialClientApplication(
        WEB_API_ID, WEB_API_SECRET, authority=emu.authority(), verify=emu.ca_bundle)


def test_16_threads_of_one_user_send_one_obo_request(emu: Emulator) -> None:
    incoming = sign_in(public_app(emu), [API_SCOPE])["access_token"]
    api = sync_api(emu)
    emu.inject_fault("token", "delay", seconds=0.5)  # all 16 arrive while the first is out
    barrier = threading.Barrier(16)
    results: list[dict[str, Any]] = []

    def request() -> None:
        barrier.wait()
        results.append(api.acquire_token_on_behalf_of(incoming, USER_READ))

    threads = [threading.Thread(target=request) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert obo_requests(emu) == 1
    assert len(results) == 16 and all("access_token" in r for r in results), results
    assert len({r["access_token"] for r in results}) == 1


def test_other_users_and_other_scopes_are_not_merged(emu: Emulator) -> None:
    first = sign_in(public_app(emu), [API_SCOPE])["access_token"]
    second = sign_in(public_app(emu), [API_SCOPE])["access_token"]
    api = sync_api(emu)
    emu.inject_fault("token", "delay", seconds=0.3)
    jobs = [(first, USER_READ), (second, USER_READ), (first, [f"{GRAPH_RESOURCE}/Mail.Read"])]
    barrier = threading.Barrier(len(jobs))
    results: list[dict[str, Any]] = []

    def request(assertion: str, scopes: list[str]) -> None:
        barrier.wait()
        results.append(api.acquire_token_on_behalf_of(assertion, scopes))

    threads = [threading.Thread(target=request, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert obo_requests(emu) == 3
    assert len({r.get("access_token") for r in results}) == 3, results


def test_16_tasks_of_one_user_send_one_obo_request(emu: Emulator) -> None:
    incoming = sign_in(public_app(emu), [API_SCOPE])["access_token"]
    emu.inject_fault("token", "delay", seconds=0.5)

    async def main() -> list[dict[str, Any]]:
        async with async_api(emu) as api:
            return list(await asyncio.gather(*(
                api.acquire_token_on_behalf_of(incoming, USER_READ) for _ in range(16))))

    results = asyncio.run(main())
    assert obo_requests(emu) == 1
    assert all("access_token" in r for r in results), results
    assert len({r["access_token"] for r in results}) == 1


def test_a_failed_shared_request_answers_every_caller_with_the_error(emu: Emulator) -> None:
    api = sync_api(emu)
    emu.inject_fault("token", "delay", seconds=0.3)
    barrier = threading.Barrier(4)
    results: list[dict[str, Any]] = []

    def request() -> None:
        barrier.wait()
        results.append(api.acquire_token_on_behalf_of("not-a-jwt", USER_READ))

    threads = [threading.Thread(target=request) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert obo_requests(emu) == 1
    assert len(results) == 4 and all(r.get("error") for r in results), results
    assert not any("not-a-jwt" in str(r) for r in results)


def test_claims_challenge_is_not_shared_and_a_cached_token_needs_no_request(
    emu: Emulator,
) -> None:
    incoming = sign_in(public_app(emu), [API_SCOPE])["access_token"]
    api = sync_api(emu)
    first = api.acquire_token_on_behalf_of(incoming, USER_READ)
    assert first["token_source"] == "identity_provider", first
    again = api.acquire_token_on_behalf_of(incoming, USER_READ)
    assert again["token_source"] == "cache" and obo_requests(emu) == 1
    claims = '{"access_token":{"nbf":{"essential":true,"value":"1"}}}'
    fresh = api.acquire_token_on_behalf_of(incoming, USER_READ, claims_challenge=claims)
    assert fresh["token_source"] == "identity_provider" and obo_requests(emu) == 2
