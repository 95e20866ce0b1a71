"""EntraAuth's per-request overhead and the event loop's worst stall during acquisitions.

Run: ``.venv/bin/python benchmarks/bench_adapters.py [--requests N] [--rounds R]``.

1. Per-request overhead: the same keep-alive session against a loopback HTTP server, once
   with a static ``Authorization`` header and once with ``EntraAuth`` (token already held),
   for requests, httpx.Client and httpx.AsyncClient, in short alternating batches; the best
   batch of each is reported (the least disturbed by other load on the machine).
2. Event-loop stall: 500 concurrent requests through httpx.AsyncClient + EntraAuth(aio app)
   starting on an expired token, while a 1 ms ticker records the longest gap between ticks.
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import requests

import entra_auth
from entra_auth import aio
from entra_auth.testing.config import PUBLIC_CLIENT_ID
from entra_auth.testing.emulator import Emulator

SCOPES = ["User.Read"]
ALICE, PASSWORD = "alice@contoso.onmicrosoft.com", "alice-password"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body = b'{"ok":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def start_server() -> tuple[_Server, str]:
    server = _Server(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1.0/me"


def per_request(fn: Callable[[], Any], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


async def per_request_async(client: httpx.AsyncClient, url: str, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        await client.get(url)
    return (time.perf_counter() - start) / n


def overhead(emu: Emulator, url: str, n: int, rounds: int) -> dict[str, tuple[float, float]]:
    app = entra_auth.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), http_client=emu.requests_session(),
        instance_discovery=False)
    token = app.acquire_token_by_username_password(ALICE, PASSWORD, SCOPES)["access_token"]
    auth = entra_auth.EntraAuth(app, SCOPES, allowed_hosts=["127.0.0.1"])
    static = {"Authorization": f"Bearer {token}"}
    results: dict[str, tuple[float, float]] = {}

    plain_s, auth_s = requests.Session(), requests.Session()
    plain_s.headers.update(static)
    auth_s.auth = auth
    plain_c, auth_c = httpx.Client(headers=static), httpx.Client(auth=auth)
    samples: dict[str, list[float]] = {k: [] for k in
                                       ("requests", "requests+auth", "httpx", "httpx+auth")}
    for fn in (lambda: plain_s.get(url), lambda: auth_s.get(url),
               lambda: plain_c.get(url), lambda: auth_c.get(url)):
        per_request(fn, 50)  # warm up connections and caches
    # Short alternating batches, so load from elsewhere hits both sides alike; the minimum
    # over batches is the least-disturbed estimate of each.
    for i in range(rounds):
        pairs = [("requests", lambda: plain_s.get(url)), ("requests+auth", lambda: auth_s.get(url)),
                 ("httpx", lambda: plain_c.get(url)), ("httpx+auth", lambda: auth_c.get(url))]
        for name, fn in pairs if i % 2 else pairs[::-1]:
            samples[name].append(per_request(fn, n))
    for name in ("requests", "httpx"):
        results[name] = (min(samples[name]), min(samples[f"{name}+auth"]))

    aio_app = aio.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle,
        instance_discovery=False, token_cache=app.token_cache)
    aio_auth = entra_auth.EntraAuth(aio_app, SCOPES, allowed_hosts=["127.0.0.1"])

    async def go() -> tuple[float, float]:
        plain_a: list[float] = []
        with_a: list[float] = []
        async with httpx.AsyncClient(headers=static) as a, \
                httpx.AsyncClient(auth=aio_auth) as b:
            await per_request_async(a, url, 50)
            await per_request_async(b, url, 50)
            for i in range(rounds):
                if i % 2:
                    plain_a.append(await per_request_async(a, url, n))
                    with_a.append(await per_request_async(b, url, n))
                else:
                    with_a.append(await per_request_async(b, url, n))
                    plain_a.append(await per_request_async(a, url, n))
        await aio_app.aclose()
        return min(plain_a), min(with_a)

    results["httpx-async"] = asyncio.run(go())
    return results


def loop_stall(
    emu: Emulator, url: str, tasks: int, through_httpx: bool
) -> tuple[float, int, float]:
    emu.settings.access_token_lifetime = 120  # cached token counts as expired at once
    sync_app = entra_auth.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), http_client=emu.requests_session(),
        instance_discovery=False)
    sync_app.acquire_token_by_username_password(ALICE, PASSWORD, SCOPES)
    emu.settings.access_token_lifetime = 3600
    app = aio.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle,
        instance_discovery=False, token_cache=sync_app.token_cache)
    auth = entra_auth.EntraAuth(app, SCOPES, allowed_hosts=["127.0.0.1"])
    before = len(emu.requests_to("token"))

    async def go() -> tuple[float, float]:
        worst = 0.0
        stop = False

        async def ticker() -> None:
            nonlocal worst
            last = time.perf_counter()
            while not stop:
                await asyncio.sleep(0.001)
                now = time.perf_counter()
                worst = max(worst, now - last)
                last = now

        tick = asyncio.create_task(ticker())
        await asyncio.sleep(0.01)
        start = time.perf_counter()
        if through_httpx:
            limits = httpx.Limits(max_connections=10)
            async with httpx.AsyncClient(auth=auth, limits=limits, timeout=60) as client:
                await asyncio.gather(*(client.get(url) for _ in range(tasks)))
        else:
            await asyncio.gather(*(auth.get_token_async() for _ in range(tasks)))
        elapsed = time.perf_counter() - start
        stop = True
        await tick
        await app.aclose()
        return worst, elapsed

    worst, elapsed = asyncio.run(go())
    return worst, len(emu.requests_to("token")) - before, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30, help="requests per batch")
    parser.add_argument("--rounds", type=int, default=60, help="batches per client")
    parser.add_argument("--tasks", type=int, default=500)
    args = parser.parse_args()
    server, url = start_server()
    with Emulator() as emu:
        print(f"per-request time, best of {args.rounds} alternating batches x {args.requests} "
              "requests (loopback keep-alive server)")
        for name, (plain, authed) in overhead(emu, url, args.requests, args.rounds).items():
            pct = 100 * (authed - plain) / plain
            print(f"  {name:12s} static header {plain * 1e6:8.1f} us   EntraAuth "
                  f"{authed * 1e6:8.1f} us   overhead {pct:+5.1f}%")
        for through_httpx in (False, True):
            emu.reset()
            worst, tokens, elapsed = loop_stall(emu, url, args.tasks, through_httpx)
            what = ("requests via httpx.AsyncClient + EntraAuth" if through_httpx
                    else "EntraAuth.get_token_async() calls")
            print(f"{args.tasks} concurrent {what} (aio app, expired token): worst event-loop "
                  f"stall {worst * 1e3:.1f} ms, {tokens} token request(s), {elapsed:.2f} s")
    server.shutdown()


if __name__ == "__main__":
    main()
