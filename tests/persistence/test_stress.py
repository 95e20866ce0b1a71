"""Stress: 8 processes x 200 tokens from the emulator into one file cache, and into Redis.

Afterwards every token is there and no process failed; a reader checks all along that the file
(or every Redis entry) is valid. A writer killed with SIGKILL mid-write leaves a loadable file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from entra_auth.cache import SerializableTokenCache
from entra_auth.cache.file_cache import FileTokenCache
from entra_auth.cache.redis_cache import RedisTokenCache
from entra_auth.testing import Emulator

from .conftest import (
    RESOURCES,
    STRESS_APP_ID,
    STRESS_APP_SECRET,
    TENANTS,
    resource_uri,
    tenant_domain,
)
from .test_file_cache import at_event

WORKERS = 8
PER_TENANT = RESOURCES // WORKERS  # 25 resources x 8 tenants = 200 tokens per worker
WORKER = Path(__file__).with_name("stress_worker.py")


def run_workers(emu: Emulator, spec: dict[str, Any]) -> list[dict[str, Any]]:
    spec = {
        **spec,
        "authorities": [emu.authority(tenant_domain(t)) for t in range(TENANTS)],
        "client_id": STRESS_APP_ID, "secret": STRESS_APP_SECRET, "ca_bundle": emu.ca_bundle,
        "per_tenant": PER_TENANT, "resources": [resource_uri(r) for r in range(RESOURCES)],
    }
    procs = [
        subprocess.Popen([sys.executable, str(WORKER), json.dumps({**spec, "worker": w})],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for w in range(WORKERS)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-2000:] or out
        results.append(json.loads(out))
    return results


def expected_tokens() -> set[tuple[str, str]]:
    return {(tenant_domain(t), resource_uri(w * PER_TENANT + i))
            for w in range(WORKERS) for t in range(TENANTS) for i in range(PER_TENANT)}


def tenant_ids(emu: Emulator) -> dict[str, str]:
    return {t.tenant_id: t.domain for t in emu.config.tenants}


@pytest.mark.stress
def test_eight_processes_into_one_file(emu: Emulator, cache_dir: Path) -> None:
    path = cache_dir / "stress.json"
    stop = threading.Event()
    checks: list[int] = []
    problems: list[str] = []

    def reader() -> None:  # the file must parse at every moment
        while not stop.is_set():
            try:
                data = json.loads(path.read_bytes() or b"{}")
                checks.append(len(data.get("AccessToken", {})))
            except FileNotFoundError:
                pass
            except ValueError as exc:
                problems.append(str(exc))
            time.sleep(0.01)

    watcher = threading.Thread(target=reader)
    watcher.start()
    try:
        results = run_workers(emu, {"backend": "file", "path": str(path)})
    finally:
        stop.set()
        watcher.join()
    assert problems == []
    assert len(checks) > 10 and checks == sorted(checks)  # never shrank: no lost entries
    assert sum(r["tokens"] for r in results) == WORKERS * 200
    domains = tenant_ids(emu)
    query = {"client_id": STRESS_APP_ID}
    found = {(domains.get(e["realm"], e["realm"]), e["target"].removesuffix("/.default"))
             for e in FileTokenCache(path).search("AccessToken", query=query)}
    assert found == expected_tokens()


@pytest.mark.stress
def test_eight_processes_into_redis(emu: Emulator, redis_client: Any, redis_url: str) -> None:
    stop = threading.Event()
    checks: list[int] = []
    problems: list[str] = []

    def reader() -> None:  # every stored entry must parse at every moment
        while not stop.is_set():
            for key in redis_client.scan_iter(match="stress:app:*"):
                values = redis_client.hgetall(key)
                try:
                    checks.append(sum(1 for f, v in values.items()
                                      if f != b"__v" and isinstance(json.loads(v), dict)))
                except ValueError as exc:
                    problems.append(str(exc))
            time.sleep(0.01)

    watcher = threading.Thread(target=reader)
    watcher.start()
    try:
        results = run_workers(emu, {"backend": "redis", "url": redis_url, "prefix": "stress"})
    finally:
        stop.set()
        watcher.join()
    assert problems == [] and checks
    assert sum(r["tokens"] for r in results) == WORKERS * 200
    cache = RedisTokenCache(redis_client, prefix="stress")
    domains = tenant_ids(emu)
    found = {(domains.get(e["realm"], e["realm"]), e["target"].removesuffix("/.default"))
             for e in cache.search("AccessToken", query={"client_id": STRESS_APP_ID})}
    assert found == expected_tokens()
    partitions = list(redis_client.scan_iter(match=f"stress:app:{{a:{STRESS_APP_ID}}}:*"))
    assert len(partitions) == TENANTS  # one per tenant, written by all 8 processes
    # ... each listed in the client's index, which remove_tokens_for_client() reads
    assert redis_client.smembers(f"stress:apps:{{a:{STRESS_APP_ID}}}") == set(partitions)
    assert {redis_client.hlen(k) for k in partitions} == {WORKERS * PER_TENANT + 1}


KILL_WRITER = """
import sys
sys.path.insert(0, sys.argv[2])
from entra_auth.cache import SerializableTokenCache
from entra_auth.cache.file_cache import FileTokenCache
from test_file_cache import at_event
cache = FileTokenCache(sys.argv[1])
print("ready", flush=True)
i = 0
while True:
    cache.add(at_event(i % 3000))
    i += 1
"""


def test_writer_killed_mid_write_leaves_a_loadable_file(cache_dir: Path) -> None:
    path = cache_dir / "killed.json"
    seed = SerializableTokenCache()
    for i in range(1500):  # a big file, so each write takes a while
        seed.add(at_event(10_000 + i))
    path.write_text(seed.serialize())
    for delay in (0.05, 0.13, 0.21, 0.34):
        proc = subprocess.Popen(
            [sys.executable, "-c", KILL_WRITER, str(path), str(Path(__file__).parent)],
            stdout=subprocess.PIPE, text=True, cwd=str(Path(__file__).parents[2]),
            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        survivor = FileTokenCache(path, lock_timeout=2)  # the lock died with the writer
        entries = list(survivor.search("AccessToken"))
        assert len(entries) >= 1500
        survivor.add(at_event(99_999))  # and a new writer proceeds at once
    assert json.loads(path.read_text())["AccessToken"]
    assert [p.name for p in cache_dir.iterdir() if p.name.endswith(".tmp")] == []
