"""A FastAPI endpoint with Entra auth vs the same endpoint without auth (uvicorn, one worker).

Run: ``.venv/bin/python -m benchmarks.bench_fastapi [--requests 2000] [--rounds 5]``.

Both endpoints call a downstream API (a loopback HTTP server in its own process) through one
shared ``httpx.AsyncClient`` and return its JSON. ``/plain`` sends a static header;
``/authed`` validates the caller's bearer token (``TokenValidator``), takes the caller's
on-behalf-of token from the cache (``WebApi``, ``caller.auth``) and sends that. The emulator
issues the tokens (first request only: keys, then one OBO request). Four keep-alive clients
reuse one token, as real clients do for an hour. Rounds alternate; medians of req/s.
"""

# No "from __future__ import annotations": FastAPI reads the handler annotations at runtime.

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from typing import Annotated, Any

APP_SCRIPT = "benchmarks.bench_fastapi"


def build_app(authority: str, ca_bundle: str, downstream: str, clock_offset: float) -> Any:
    """The API under test (run in the uvicorn process)."""
    import httpx
    from fastapi import Depends, FastAPI

    from entra_auth import aio
    from entra_auth.testing import WEB_API_ID, WEB_API_SECRET
    from entra_auth.web import Caller, TokenValidator, WebApi
    from entra_auth.web.fastapi import FastAPIEntraAuth

    app = FastAPI()
    confidential = aio.ConfidentialClientApplication(
        WEB_API_ID, client_credential=WEB_API_SECRET, authority=authority, verify=ca_bundle,
        instance_discovery=False)
    api = WebApi(TokenValidator(WEB_API_ID, authority=authority, verify=ca_bundle,
                                clock=lambda: time.time() + clock_offset),
                 confidential, downstream_scopes=["https://graph.microsoft.com/User.Read"],
                 allowed_hosts=["127.0.0.1"])
    entra = FastAPIEntraAuth(api, app)
    user = entra.caller(scopes=["access_as_user"])
    client = httpx.AsyncClient()
    static = {"Authorization": "Bearer static-downstream-token"}

    @app.get("/plain")
    async def plain() -> Any:
        return (await client.get(downstream, headers=static)).json()

    @app.get("/authed")
    async def authed(caller: Annotated[Caller, Depends(user)]) -> Any:
        return (await client.get(downstream, auth=caller.auth)).json()

    return app


def _serve(argv: list[str]) -> None:
    import socket

    import uvicorn

    authority, ca_bundle, downstream, offset, fd = argv
    app = build_app(authority, ca_bundle, downstream, float(offset))
    # Serves on the listening socket the harness bound and passed down (no port race). Not
    # uvicorn's fd=, which takes it for a Unix socket: its TCP connections would go without
    # TCP_NODELAY, 40 ms a response.
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[socket.socket(fileno=int(fd))])


def _listening_socket() -> Any:
    """A socket listening on a free loopback port, for the server process to inherit: a port
    only picked here could be taken by another process before the server bound it."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _load(port: int, path: str, headers: dict[str, str], requests: int,
          clients: int) -> float:
    """Requests per second over ``clients`` keep-alive connections."""
    per_client = requests // clients
    errors: list[str] = []

    def run() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port)
        try:
            for _ in range(per_client):
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                body = response.read()
                if response.status != 200:
                    errors.append(f"{response.status} {body[:200]!r}")
                    return
        except OSError as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise OSError(f"{path}: {errors[0]}")
    return per_client * clients / elapsed


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def endpoint_rates(emu: Any, requests: int = 2000, rounds: int = 5,
                   clients: int = 4) -> dict[str, float]:
    """Median req/s of ``/authed`` ("entra_auth") and ``/plain`` ("no auth"), and the server
    process's CPU seconds per request for each ("entra_auth cpu", "no auth cpu"): on a
    machine shared with other work, the CPU per request is the steadier figure."""
    import entra_auth
    from benchmarks.bench_adapters import start_server_process
    from entra_auth.testing import PUBLIC_CLIENT_ID, WEB_API_ID

    downstream_proc, downstream = start_server_process()
    listener = _listening_socket()
    port = listener.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", APP_SCRIPT, "--serve", emu.authority(), emu.ca_bundle,
         downstream, f"{emu.now() - time.time():.6f}", str(listener.fileno())],
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        pass_fds=[listener.fileno()])
    listener.close()  # the server process holds it
    try:
        token = entra_auth.PublicClientApplication(
            PUBLIC_CLIENT_ID, authority=emu.authority(), http_client=emu.requests_session(),
            instance_discovery=False).acquire_token_by_username_password(
            "alice@contoso.onmicrosoft.com", "alice-password",
            scopes=[f"api://{WEB_API_ID}/access_as_user"])["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + 60
        while True:
            try:
                _load(port, "/plain", {}, 1, 1)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("uvicorn did not start") from None
                time.sleep(0.1)
        _load(port, "/authed", auth, clients * 5, clients)  # keys, OBO token: then cached
        _load(port, "/plain", {}, clients * 5, clients)
        rates: dict[str, list[float]] = {"entra_auth": [], "no auth": [],
                                         "entra_auth cpu": [], "no auth cpu": []}
        for _ in range(rounds):
            for name, path, headers in (("no auth", "/plain", {}),
                                        ("entra_auth", "/authed", auth)):
                cpu = _cpu_seconds(server.pid)
                rates[name].append(_load(port, path, headers, requests, clients))
                rates[f"{name} cpu"].append((_cpu_seconds(server.pid) - cpu) / requests)
        return {name: statistics.median(values) for name, values in rates.items()}
    finally:
        server.terminate()
        server.wait()
        downstream_proc.terminate()
        downstream_proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--serve", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve)
        return
    from entra_auth.testing import Emulator

    with Emulator() as emu:
        rates = endpoint_rates(emu, args.requests, args.rounds)
    print(json.dumps(rates))
    print(f"req/s authed / plain: {rates['entra_auth'] / rates['no auth']:.2f}x; server CPU "
          f"per request plain / authed: {rates['no auth cpu'] / rates['entra_auth cpu']:.2f}x")


if __name__ == "__main__":
    main()
