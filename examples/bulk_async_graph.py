"""Bulk Graph calls with httpx.AsyncClient: many concurrent requests, one token, bounded fan-out.

Uses an ``entra_auth.aio`` confidential client built from the environment
(``entra_auth.from_environment(asynchronous=True)``: ``AZURE_CLIENT_ID``, ``AZURE_TENANT_ID``,
``AZURE_CLIENT_SECRET``/certificate/federated token file, ``AZURE_AUTHORITY_HOST``,
``REQUESTS_CA_BUNDLE``). With none set it starts the local emulator in-process and calls its
bearer-checked echo endpoint.

``python examples/bulk_async_graph.py [BASE_URL] [--count N] [--concurrency N]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import sys
import time
from collections import Counter
from urllib.parse import urlsplit

import httpx

import entra_auth
from entra_auth import EntraAuth


async def fetch_all(base_url: str, count: int, concurrency: int, scope: str) -> Counter[int]:
    app = entra_auth.from_environment(asynchronous=True)
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE")
    verify = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
    auth = EntraAuth(app, [scope], allowed_hosts=[urlsplit(base_url).netloc])
    limit = asyncio.Semaphore(concurrency)
    statuses: Counter[int] = Counter()

    async def one(client: httpx.AsyncClient, n: int) -> None:
        async with limit:
            for attempt in range(3):  # Graph throttles bulk callers: honour Retry-After
                reply = await client.get(f"{base_url}/users/{n}")
                if reply.status_code != 429:
                    break
                await asyncio.sleep(float(reply.headers.get("Retry-After", "1")) * (attempt + 1))
            statuses[reply.status_code] += 1

    async with app, httpx.AsyncClient(auth=auth, verify=verify, timeout=30) as client:
        await asyncio.gather(*(one(client, n) for n in range(count)))
    return statuses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", nargs="?", default="https://graph.microsoft.com/v1.0")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--scope", default="https://graph.microsoft.com/.default")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if os.environ.get("AZURE_CLIENT_ID"):
        statuses = asyncio.run(fetch_all(args.base_url, args.count, args.concurrency,
                                         args.scope))
    else:
        from entra_auth.testing import WEB_APP_ID, WEB_APP_SECRET, Emulator

        with Emulator() as emu:
            os.environ.update({"AZURE_CLIENT_ID": WEB_APP_ID, "AZURE_TENANT_ID": emu.tenant_id,
                               "AZURE_CLIENT_SECRET": WEB_APP_SECRET,
                               "AZURE_AUTHORITY_HOST": emu.base_url,
                               "REQUESTS_CA_BUNDLE": str(emu.ca_bundle)})
            statuses = asyncio.run(fetch_all(emu.echo_url, args.count, args.concurrency,
                                             args.scope))
            print(f"token requests: {len(emu.requests_to('token'))}")
    elapsed = time.perf_counter() - started
    print(f"{sum(statuses.values())} calls in {elapsed:.2f}s: "
          + ", ".join(f"HTTP {s} x{n}" for s, n in sorted(statuses.items())))
    return 0 if set(statuses) == {200} else 1


if __name__ == "__main__":
    sys.exit(main())
