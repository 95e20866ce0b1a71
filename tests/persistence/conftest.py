"""Fixtures for the persistent caches: a real redis-server on loopback, an emulator with 200 APIs.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from entra_auth.testing import Emulator, Resource, Tenant, default_config
from entra_auth.testing.model import App

STRESS_APP_ID = "5d1e0b2a-7c3f-4e4d-9a8b-000000005eed"
STRESS_APP_SECRET = "stress-secret"
TENANTS = 8
RESOURCES = 200


def tenant_domain(index: int) -> str:
    return f"stress{index}.test"


def resource_uri(index: int) -> str:
    return f"api://stress-{index:03d}"


def stress_config() -> Any:
    config = default_config()
    for i in range(TENANTS):
        config.tenants.append(Tenant(tenant_id=str(uuid.UUID(int=i + 1)), domain=tenant_domain(i)))
    for r in range(RESOURCES):
        config.resources.append(Resource(app_id=str(uuid.UUID(int=0x1000 + r)),
                                         identifier_uri=resource_uri(r)))
    config.apps.append(App(client_id=STRESS_APP_ID, public_client=False,
                           secrets=[STRESS_APP_SECRET]))
    return config


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    with Emulator(stress_config()) as emu:
        yield emu


@pytest.fixture
def emu(emulator: Emulator) -> Iterator[Emulator]:
    emulator.reset()
    yield emulator
    assert emulator.internal_errors == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free loopback port, no persistence, stopped at teardown."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    workdir: Path = tmp_path_factory.mktemp("redis")
    import redis

    for _attempt in range(3):
        # The port is free now; another process may take it before redis-server binds it, and
        # then redis-server exits at once: start again on another port.
        port = _free_port()
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
             "no", "--dir", str(workdir), "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 10
        while proc.poll() is None:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    proc.kill()
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.02)
        if proc.poll() is None:
            break
    else:
        raise RuntimeError("redis-server exited at start on three ports")
    client.close()
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[Any]:
    """A client on an empty database."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    path = tmp_path / "cache"
    os.makedirs(path, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def redis_cluster_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real three-node Redis Cluster on loopback ports, stopped at teardown."""
    from .redis_cluster import RedisCluster

    cluster = RedisCluster(tmp_path_factory.mktemp("redis-cluster"))
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture
def redis_cluster(redis_cluster_nodes: Any) -> Any:
    """The cluster, emptied (and healthy) before the test."""
    redis_cluster_nodes.wait_healthy()
    redis_cluster_nodes.flushall()
    return redis_cluster_nodes
