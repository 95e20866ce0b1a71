"""Listing a Redis token cache's accounts: the index sets vs a SCAN of the keyspace.

Run: ``.venv/bin/python -m benchmarks.bench_redis_index [--users 1000] [--other-keys 200000]``
(starts its own redis-server on a free loopback port; needs ``redis-server`` on PATH).

``RedisTokenCache.find_accounts()`` (what ``get_accounts()`` calls) reads the 256 user index
sets and then the listed partitions. Before the index it SCANned ``<prefix>:user:*``, whose
cost grows with every key in the database (other applications' keys included), not with the
users: the second row repeats that SCAN to show the difference in one run.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from typing import Any

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
HOST = "login.microsoftonline.com"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def user_event(n: int) -> dict[str, Any]:
    claims = {"iss": f"https://{HOST}/{TENANT}/v2.0", "oid": f"oid-{n}", "tid": TENANT,
              "sub": f"sub-{n}", "aud": "cid", "preferred_username": f"user{n}@contoso.com"}
    return {
        "client_id": "cid", "scope": ["User.Read"], "environment": HOST,
        "token_endpoint": f"https://{HOST}/{TENANT}/oauth2/v2.0/token",
        "grant_type": "authorization_code", "data": {}, "params": {},
        "response": {
            "token_type": "Bearer", "scope": "User.Read", "expires_in": 3600,
            "access_token": "x" * 1200, "refresh_token": "r" * 600,
            "id_token": f"{_b64({'alg': 'none'})}.{_b64(claims)}.c2ln",
            "client_info": _b64({"uid": f"uid-{n}", "utid": TENANT}),
        },
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _median_ms(fn: Any, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--other-keys", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    import redis

    from entra_auth.cache import CallReads
    from entra_auth.cache.redis_cache import RedisTokenCache

    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="bench-redis-")
    proc = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind",
         "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        cache = RedisTokenCache(client)
        for n in range(args.users):
            cache.add(user_event(n))
        pipe = client.pipeline(transaction=False)
        for i in range(args.other_keys):  # another application's data in the same database
            pipe.set(f"sessions:{i}", "v")
            if i % 10_000 == 9_999:
                pipe.execute()
        pipe.execute()

        def accounts() -> None:
            assert len(RedisTokenCache(client).find_accounts()) == args.users

        def accounts_in_a_call() -> None:  # what get_accounts() does: load, then read memory
            cache = RedisTokenCache(client)
            with cache.around_call(CallReads(all_accounts=True)):
                assert len(cache.find_accounts()) == args.users

        def by_index() -> None:
            assert len(RedisTokenCache(client)._keys("user")) == args.users

        def by_scan() -> None:
            keys = list(client.scan_iter(match="entra_auth:tokencache:user:*", count=500))
            assert len(keys) == args.users

        index_ms = _median_ms(by_index, args.rounds)
        scan_ms = _median_ms(by_scan, args.rounds)
        total_ms = _median_ms(accounts, args.rounds)
        call_ms = _median_ms(accounts_in_a_call, args.rounds)
        print(f"{args.users} users, {client.dbsize()} keys in the database "
              f"(median of {args.rounds})")
        print(f"  list the user partitions from the 256 index sets (now): {index_ms:8.1f} ms")
        print(f"  list them by SCAN of <prefix>:user:* (before):          {scan_ms:8.1f} ms")
        print(f"  find_accounts(), a new cache instance (list + read all): {total_ms:8.1f} ms")
        print(f"  the same in around_call (one pipelined read of all):     {call_ms:8.1f} ms")
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
