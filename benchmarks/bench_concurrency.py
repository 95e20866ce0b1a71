"""Token requests sent when concurrent callers hit one expired token, side by side with msal.

Run: ``.venv/bin/python -m benchmarks.bench_concurrency [--callers 16] [--latency 0.05]``.

Every token POST is answered in-process after ``latency`` seconds (standing in for the
network while the callers race). entra_auth shares one in-flight request (single-flight);
msal 1.39 has none. msal has no async API, so its asyncio row runs msal's sync call in a
thread pool as big as the number of tasks (what an asyncio app would have to do).
"""

from __future__ import annotations

import argparse
import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl

import msal  # type: ignore[import-untyped]

import entra_auth
from entra_auth import aio

from ._common import (
    APP_SCOPES,
    AUTHORITY,
    CLIENT_ID,
    CLIENT_SECRET,
    SCOPES,
    CannedEntra,
    account_of,
    cache_document,
    token_response,
)

EXPIRED = -60  # the cached access token expired a minute ago; its refresh token is valid


def _race(callers: int, call: Callable[[], Any]) -> list[Any]:
    """Run ``call`` in ``callers`` threads released together; return their results."""
    barrier = threading.Barrier(callers)

    def one(_: int) -> Any:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=callers) as pool:
        return list(pool.map(one, range(callers)))


def threads_silent_refresh(lib: Any, callers: int, latency: float) -> int:
    """Token requests sent by ``callers`` threads calling ``acquire_token_silent`` on one
    account whose access token has expired."""
    cache = lib.SerializableTokenCache()
    cache.deserialize(cache_document(1, at_ttl=EXPIRED))
    http = CannedEntra(latency)
    app = lib.PublicClientApplication(CLIENT_ID, authority=AUTHORITY, token_cache=cache,
                                      http_client=http, instance_discovery=False)
    results = _race(callers, lambda: app.acquire_token_silent(SCOPES, account=account_of(0)))
    assert all(r and r["access_token"] == "at-user000000-fresh" for r in results), results
    return http.token_posts


def threads_client_credentials(lib: Any, callers: int, latency: float) -> int:
    """Token requests sent by ``callers`` threads calling ``acquire_token_for_client`` on
    an empty cache."""
    http = CannedEntra(latency)
    app = lib.ConfidentialClientApplication(
        CLIENT_ID, client_credential=CLIENT_SECRET, authority=AUTHORITY, http_client=http,
        instance_discovery=False)
    results = _race(callers, lambda: app.acquire_token_for_client(APP_SCOPES))
    assert all(r.get("access_token") == "app-at-fresh" for r in results), results
    return http.token_posts


def _mock_async_client(latency: float, counter: list[int]) -> Any:
    """An httpx.AsyncClient answered in-process by canned Entra replies (no sockets)."""
    import httpx

    canned = CannedEntra()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            counter[0] += 1
            await asyncio.sleep(latency)
            form = dict(parse_qsl(request.content.decode()))
            return httpx.Response(200, json=token_response(form))
        reply = canned.get(str(request.url.copy_with(query=None)))
        return httpx.Response(reply.status_code, text=reply.text, headers=reply.headers)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def asyncio_silent_refresh(tasks: int, latency: float) -> int:
    """Token requests sent by ``tasks`` asyncio tasks awaiting
    ``entra_auth.aio.PublicClientApplication.acquire_token_silent`` on one expired token."""
    cache = entra_auth.SerializableTokenCache()
    cache.deserialize(cache_document(1, at_ttl=EXPIRED))
    counter = [0]

    async def go() -> list[Any]:
        async with _mock_async_client(latency, counter) as client:
            app = aio.PublicClientApplication(CLIENT_ID, authority=AUTHORITY, token_cache=cache,
                                              http_client=client, instance_discovery=False)
            results: list[Any] = await asyncio.gather(
                *(app.acquire_token_silent(SCOPES, account=account_of(0)) for _ in range(tasks)))
            return results

    results = asyncio.run(go())
    assert all(r and r["access_token"] == "at-user000000-fresh" for r in results), results
    return counter[0]


def asyncio_msal_in_threads(tasks: int, latency: float) -> int:
    """msal's nearest equivalent: ``tasks`` asyncio tasks each running msal's sync
    ``acquire_token_silent`` in an executor with one thread per task."""
    cache = msal.SerializableTokenCache()
    cache.deserialize(cache_document(1, at_ttl=EXPIRED))
    http = CannedEntra(latency)
    app = msal.PublicClientApplication(CLIENT_ID, authority=AUTHORITY, token_cache=cache,
                                       http_client=http, instance_discovery=False)

    async def go() -> list[Any]:
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(max_workers=tasks) as pool:
            return await asyncio.gather(*(
                loop.run_in_executor(pool, lambda: app.acquire_token_silent(
                    SCOPES, account=account_of(0))) for _ in range(tasks)))

    results = asyncio.run(go())
    assert all(r and r["access_token"] == "at-user000000-fresh" for r in results), results
    return http.token_posts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per token POST")
    args = parser.parse_args()
    n, lat = args.callers, args.latency
    for label, ours, theirs in (
        (f"{n} threads, acquire_token_silent, expired AT",
         threads_silent_refresh(entra_auth, n, lat), threads_silent_refresh(msal, n, lat)),
        (f"{n} threads, acquire_token_for_client, empty cache",
         threads_client_credentials(entra_auth, n, lat),
         threads_client_credentials(msal, n, lat)),
        (f"{n} asyncio tasks, acquire_token_silent, expired AT",
         asyncio_silent_refresh(n, lat), asyncio_msal_in_threads(n, lat)),
    ):
        print(f"{label}: token requests entra_auth {ours}, msal {theirs}")


if __name__ == "__main__":
    main()
