"""Persistent file caches side by side: entra_auth.FileTokenCache vs msal-extensions.

Run: ``.venv/bin/python -m benchmarks.bench_persistent_cache [--entries 200] [--writers 8]
[--writes 100] [--redis-url redis://127.0.0.1:6379/0]``.

1. Silent hit with an unchanged file: ``find_access_token``/``search`` on FileTokenCache
   against the same call on an in-memory cache, and msal-extensions' ``PersistedTokenCache``
   (``FilePersistence``) ``search`` against msal's in-memory ``TokenCache``.
2. Write latency under contention: N processes each ``add()`` distinct tokens to one cache at
   once; per-write median and p99 and tokens kept, for FileTokenCache, SqliteTokenCache,
   msal-extensions' file (and RedisTokenCache given a server) in the same run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

HOST = "login.microsoftonline.com"
REALM = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def event(i: int) -> dict[str, Any]:
    scope = f"api://bench-{i}/.default"
    return {
        "client_id": "bench-client", "scope": [scope],
        "token_endpoint": f"https://{HOST}/{REALM}-{i}/oauth2/v2.0/token",  # a bucket each
        "environment": HOST, "grant_type": "client_credentials", "data": {},
        "response": {"access_token": "x" * 1400, "expires_in": 3600, "token_type": "Bearer",
                     "scope": scope},
    }


def per_call(fn: Callable[[], Any], calls: int = 20000, rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e6


def silent_hits(entries: int) -> None:
    import msal  # type: ignore[import-untyped]
    from msal_extensions import (  # type: ignore[import-untyped]
        FilePersistence,
        PersistedTokenCache,
    )

    from entra_auth.cache import SerializableTokenCache
    from entra_auth.cache.file_cache import FileTokenCache

    directory = tempfile.mkdtemp()
    memory = SerializableTokenCache()
    for i in range(entries):
        memory.add(event(i))
    text = memory.serialize()
    ours_path = os.path.join(directory, "ours.json")
    theirs_path = os.path.join(directory, "theirs.json")
    for path in (ours_path, theirs_path):
        with open(path, "w") as f:
            f.write(text)
    ours = FileTokenCache(ours_path)
    msal_memory = msal.TokenCache()
    msal_memory._cache = __import__("json").loads(text)
    theirs = PersistedTokenCache(FilePersistence(theirs_path))

    target = [f"api://bench-{entries // 2}/.default"]
    realm = f"{REALM}-{entries // 2}"
    lookup: dict[str, Any] = {"client_id": "bench-client", "environments": [HOST], "realm": realm,
              "scopes": target, "home_account_id": None}
    query: dict[str, Any] = {"client_id": "bench-client", "environment": HOST, "realm": realm,
             "home_account_id": None}
    assert ours.find_access_token(**lookup) is not None
    assert list(theirs.search("AccessToken", target=target, query=query))

    rows = [
        ("entra_auth in-memory find_access_token", per_call(
            lambda: memory.find_access_token(**lookup))),
        ("entra_auth FileTokenCache find_access_token", per_call(
            lambda: ours.find_access_token(**lookup))),
        ("entra_auth in-memory search", per_call(
            lambda: list(memory.search("AccessToken", target, query)), 5000)),
        ("entra_auth FileTokenCache search", per_call(
            lambda: list(ours.search("AccessToken", target, query)), 5000)),
        ("msal in-memory TokenCache.search", per_call(
            lambda: list(msal_memory.search("AccessToken", target=target, query=query)), 500)),
        ("msal-extensions PersistedTokenCache.search", per_call(
            lambda: list(theirs.search("AccessToken", target=target, query=query)), 500)),
    ]
    print(f"\nSilent hit, unchanged file, {entries} app tokens cached (best of 5, µs/call)")
    for name, micros in rows:
        print(f"  {name:<48} {micros:10.1f}")
    print(f"  FileTokenCache / in-memory (find_access_token): {rows[1][1] / rows[0][1]:.2f}x")
    print(f"  FileTokenCache / in-memory (search):            {rows[3][1] / rows[2][1]:.2f}x")


def _open(lib: str, path: str) -> Any:
    if lib in ("entra_auth", "FileTokenCache"):
        from entra_auth.cache.file_cache import FileTokenCache

        return FileTokenCache(path, lock_timeout=120)
    if lib == "SqliteTokenCache":
        from entra_auth.cache.sqlite_cache import SqliteTokenCache

        return SqliteTokenCache(path, lock_timeout=120)
    if lib == "RedisTokenCache":
        import redis

        from entra_auth.cache.redis_cache import RedisTokenCache

        return RedisTokenCache(redis.Redis.from_url(path), prefix="bench")
    from msal_extensions import FilePersistence, PersistedTokenCache

    return PersistedTokenCache(FilePersistence(path))


def _count(lib: str, path: str) -> int:
    import json

    if lib in ("entra_auth", "FileTokenCache", "msal-extensions"):
        with open(path) as f:
            return len(json.load(f).get("AccessToken", {}))
    return len(list(_open(lib, path).search("AccessToken")))


def _writer(lib: str, path: str, worker: int, writes: int, barrier: Any, out: Any) -> None:
    if lib != "msal-extensions":
        cache: Any = _open(lib, path)
    else:
        from msal_extensions import FilePersistence, PersistedTokenCache

        cache = PersistedTokenCache(FilePersistence(path))
    barrier.wait()
    latencies, errors = [], 0
    for i in range(writes):
        start = time.perf_counter()
        try:
            cache.add(event(worker * 100_000 + i))
        except Exception:  # msal-extensions' lock may give up under contention
            errors += 1
        latencies.append(time.perf_counter() - start)
    out.put((latencies, errors))


def write_contention(lib: str, writers: int, writes: int,
                     path: str | None = None) -> dict[str, float]:
    """N processes each ``add()`` ``writes`` distinct tokens to one cache at once.

    Returns median and p99 write seconds, total seconds, tokens kept and expected, errors.
    ``path`` is the file (a fresh temporary one by default) or, for Redis, its URL.
    """
    ctx = multiprocessing.get_context("fork")
    path = path or os.path.join(tempfile.mkdtemp(), "cache.json")
    if lib == "RedisTokenCache":
        import redis

        client = redis.Redis.from_url(path)
        for key in client.scan_iter(match="bench:*"):
            client.delete(key)
        client.close()
    barrier, out = ctx.Barrier(writers), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(lib, path, w, writes, barrier, out))
             for w in range(writers)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - start
    latencies = sorted(x for lat, _ in results for x in lat)
    errors = sum(e for _, e in results)
    stored = _count(lib, path)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return {"median": statistics.median(latencies), "p99": p99, "total": elapsed,
            "kept": stored, "expected": writers * writes, "errors": errors}


def contention(lib: str, writers: int, writes: int, path: str | None = None) -> None:
    """Print :func:`write_contention`'s figures."""
    r = write_contention(lib, writers, writes, path)
    print(f"  {lib:<18} median {r['median'] * 1e3:8.1f} ms   "
          f"p99 {r['p99'] * 1e3:8.1f} ms   total {r['total']:6.1f} s   "
          f"tokens kept {r['kept']:.0f}/{r['expected']:.0f}   errors {r['errors']:.0f}")


def start_redis() -> tuple[Any, str] | None:
    """A throwaway redis-server on a free loopback port: (process, URL), or None if absent."""
    import shutil
    import socket
    import subprocess

    binary = shutil.which("redis-server")
    if binary is None:
        return None
    import redis

    for _attempt in range(3):
        # free now, but another process may bind it first: redis-server then exits at once
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save",
                                 "", "--appendonly", "no", "--dir", tempfile.mkdtemp()],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(host="127.0.0.1", port=port)
        for _ in range(500):
            if proc.poll() is not None:
                break
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.02)
        if proc.poll() is None:
            break
        client.close()
    else:
        raise RuntimeError("redis-server exited at start on three ports")
    client.close()
    return proc, f"redis://127.0.0.1:{port}/0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=200)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--writes", type=int, default=100)
    parser.add_argument("--redis-url", help="also measure RedisTokenCache on this server "
                        "(its database is written to under the 'bench' prefix)")
    args = parser.parse_args()
    silent_hits(args.entries)
    print(f"\nWrite latency, {args.writers} processes x {args.writes} add() into one cache")
    for lib in ("FileTokenCache", "SqliteTokenCache", "msal-extensions"):
        path = os.path.join(tempfile.mkdtemp(), "cache.db" if "Sqlite" in lib else "cache.json")
        contention(lib, args.writers, args.writes, path)
    if args.redis_url:
        contention("RedisTokenCache", args.writers, args.writes, args.redis_url)


if __name__ == "__main__":
    main()
