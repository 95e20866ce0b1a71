"""EntraAuth's per-request overhead and the event loop's worst stall during acquisitions.

Run: ``.venv/bin/python benchmarks/bench_adapters.py [--requests N] [--rounds R]``.

1. Per-request overhead: the same keep-alive session against a loopback HTTP server, once
   with a static ``Authorization`` header and once with ``EntraAuth`` (token already held),
   for requests, httpx.Client and httpx.AsyncClient, in short alternating batches; the best
   batch of each is reported (the least disturbed by other load on the machine).
2. Event-loop stall: while a ticker sleeps 1 ms at a time, the worst lateness of a tick (how
   long past its 1 ms the loop woke it: time the loop spent running other callbacks) during
   500 concurrent EntraAuth.get_token_async() calls on an expired token, and during 500
   concurrent requests through one httpx.AsyncClient (10 connections) with a static
   Authorization header (the HTTP stack's own stall) and with EntraAuth(aio app) starting on
   an expired token. The loopback server runs in a child process, so its threads don't hold
   this process's GIL; the garbage collector is run before each case, and the time full
   collections took inside the window is shown. Cases alternate; the median of the rounds is
   reported with the range.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import subprocess
import sys
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


def start_server_process() -> tuple[subprocess.Popen[str], str]:
    """The same server in a child process (its threads then don't take this one's GIL)."""
    proc = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


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


class _GcTimer:
    """Sums the time full (generation 2) collections take while it is recording."""

    def __init__(self) -> None:
        self.full = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.full += time.perf_counter() - self._started


TICK = 0.001
STALL_CASES = {
    "token": "EntraAuth.get_token_async() calls (aio app, expired token)",
    "static": "requests via httpx.AsyncClient, static header (the HTTP stack alone)",
    "auth": "requests via httpx.AsyncClient + EntraAuth (aio app, expired token)",
}


def loop_stall(
    emu: Emulator, url: str, tasks: int, case: str
) -> tuple[float, float, int, float]:
    """Worst tick lateness, time in full GC collections, token requests, elapsed seconds."""
    emu.settings.access_token_lifetime = 120  # cached token counts as expired at once
    sync_app = entra_auth.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), http_client=emu.requests_session(),
        instance_discovery=False)
    token = sync_app.acquire_token_by_username_password(ALICE, PASSWORD, SCOPES)["access_token"]
    emu.settings.access_token_lifetime = 3600
    app = aio.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle,
        instance_discovery=False, token_cache=sync_app.token_cache)
    auth = entra_auth.EntraAuth(app, SCOPES, allowed_hosts=["127.0.0.1"])
    before = len(emu.requests_to("token"))
    gc_timer = _GcTimer()

    async def go() -> tuple[float, float]:
        worst = 0.0
        stop = False

        async def ticker() -> None:
            nonlocal worst
            last = time.perf_counter()
            while not stop:
                await asyncio.sleep(TICK)
                now = time.perf_counter()
                worst = max(worst, now - last - TICK)
                last = now

        limits = httpx.Limits(max_connections=10)
        if case == "static":
            client = httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"},
                                       limits=limits, timeout=60)
        else:
            client = httpx.AsyncClient(auth=auth, limits=limits, timeout=60)
        gc.collect()
        gc.callbacks.append(gc_timer)
        tick = asyncio.create_task(ticker())
        await asyncio.sleep(0.01)
        start = time.perf_counter()
        try:
            if case == "token":
                await asyncio.gather(*(auth.get_token_async() for _ in range(tasks)))
            else:
                async with client:
                    await asyncio.gather(*(client.get(url) for _ in range(tasks)))
            elapsed = time.perf_counter() - start
        finally:
            stop = True
            await tick
            gc.callbacks.remove(gc_timer)
            await client.aclose()
        await app.aclose()
        return worst, elapsed

    worst, elapsed = asyncio.run(go())
    return worst, gc_timer.full, len(emu.requests_to("token")) - before, elapsed


def serve() -> None:
    server, url = start_server()
    print(url, flush=True)
    sys.stdin.read()  # until the parent closes our stdin or exits
    server.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30, help="requests per batch")
    parser.add_argument("--rounds", type=int, default=60, help="batches per client")
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--stall-rounds", type=int, default=3, help="runs of each stall case")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    server, url = start_server()
    with Emulator() as emu:
        print(f"per-request time, best of {args.rounds} alternating batches x {args.requests} "
              "requests (loopback keep-alive server)")
        for name, (plain, authed) in overhead(emu, url, args.requests, args.rounds).items():
            pct = 100 * (authed - plain) / plain
            print(f"  {name:12s} static header {plain * 1e6:8.1f} us   EntraAuth "
                  f"{authed * 1e6:8.1f} us   overhead {pct:+5.1f}%")
        server.shutdown()
        proc, url = start_server_process()
        print(f"{args.tasks} concurrent ..., worst event-loop stall (tick lateness), median of "
              f"{args.stall_rounds} alternating rounds [min-max]; full-GC time in the window")
        runs: dict[str, list[tuple[float, float, int, float]]] = {c: [] for c in STALL_CASES}
        try:
            for i in range(args.stall_rounds):
                for case in STALL_CASES if i % 2 == 0 else reversed(STALL_CASES):
                    emu.reset()
                    runs[case].append(loop_stall(emu, url, args.tasks, case))
        finally:
            assert proc.stdin is not None
            proc.stdin.close()  # the child shuts its server down and exits
            proc.wait(timeout=10)
        for case, what in STALL_CASES.items():
            stalls = [r[0] * 1e3 for r in runs[case]]
            gcs = [r[1] * 1e3 for r in runs[case]]
            tokens = max(r[2] for r in runs[case])
            elapsed = statistics.median(r[3] for r in runs[case])
            print(f"  {what}: stall {statistics.median(stalls):.1f} ms "
                  f"[{min(stalls):.1f}-{max(stalls):.1f}], full GC {statistics.median(gcs):.1f} "
                  f"ms, {tokens} token request(s), {elapsed:.2f} s")


if __name__ == "__main__":
    main()
