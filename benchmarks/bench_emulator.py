"""Client-credential tokens per second from the emulator over loopback HTTPS.

Run: ``.venv/bin/python benchmarks/bench_emulator.py [--requests N] [--rounds R]``.
Prints the median of R rounds for one keep-alive client, for several concurrent clients,
and for msal's acquire_token_for_client with force-refresh semantics (cache bypassed).
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from entra_auth.testing import WEB_APP_ID, WEB_APP_SECRET, Emulator

FORM = {"grant_type": "client_credentials", "client_id": WEB_APP_ID,
        "client_secret": WEB_APP_SECRET, "scope": "https://graph.microsoft.com/.default"}


def _sequential(emu: Emulator, count: int) -> float:
    with emu.requests_session() as session:
        url = emu.token_endpoint()
        session.post(url, data=FORM, timeout=10).raise_for_status()  # warm the connection
        started = time.perf_counter()
        for _ in range(count):
            session.post(url, data=FORM, timeout=10).raise_for_status()
        return count / (time.perf_counter() - started)


def _concurrent(emu: Emulator, count: int, clients: int) -> float:
    per_client = max(1, count // clients)

    def run(_: int) -> None:
        with emu.requests_session() as session:
            for _ in range(per_client):
                session.post(emu.token_endpoint(), data=FORM, timeout=10).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(run, range(clients)))
    return per_client * clients / (time.perf_counter() - started)


def _msal(emu: Emulator, count: int) -> float:
    import msal

    app = msal.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        http_client=emu.requests_session(), instance_discovery=False)
    started = time.perf_counter()
    for _ in range(count):
        app.token_cache = msal.TokenCache()  # force a network round trip each time
        result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
        assert "access_token" in result, result.get("error_description")
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="token requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    args = parser.parse_args()
    with Emulator() as emu:
        rows = [
            ("1 keep-alive client (requests)", lambda: _sequential(emu, args.requests)),
            (f"{args.clients} concurrent clients (requests)",
             lambda: _concurrent(emu, args.requests, args.clients)),
            ("msal acquire_token_for_client, cache bypassed",
             lambda: _msal(emu, max(1, args.requests // 3))),
        ]
        print(f"Entra emulator, client_credentials over loopback HTTPS "
              f"({args.rounds} rounds, median):")
        for label, measure in rows:
            rates = [measure() for _ in range(args.rounds)]
            print(f"  {label:<48} {statistics.median(rates):8.0f} tokens/s "
                  f"(min {min(rates):.0f}, max {max(rates):.0f})")
        print(f"  tokens minted in total: {emu.tokens_issued}")


if __name__ == "__main__":
    main()
