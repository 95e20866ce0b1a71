"""A Redis outage surfaces quickly and heals by itself: with ``redis_client_options()`` the
first failed call raises ``CacheError`` within 1 s (redis-py's default retries take ~5 s), and
after redis-server comes back the same cache and client serve again with no intervention."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import entra_auth
import entra_auth.aio
from entra_auth.errors import CacheError
from entra_auth.testing import WEB_APP_ID, WEB_APP_SECRET, Emulator

from .conftest import _free_port
from .test_file_cache import DEFAULT

BOUND = 1.0  # seconds: the first failed call surfaces within this


class RedisServer:
    """A redis-server of our own on a fixed loopback port, to kill and restart."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        import redis

        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        probe = redis.Redis(host="127.0.0.1", port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                probe.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline and self.proc.poll() is None, \
                    "redis-server did not start"
                time.sleep(0.02)
        probe.close()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    srv = RedisServer(tmp_path)
    srv.start()
    yield srv
    if srv.proc is not None and srv.proc.poll() is None:
        srv.kill()


def _cca(emu: Emulator, cache: Any) -> Any:
    return entra_auth.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        verify=emu.ca_bundle, token_cache=cache)


def test_killed_redis_surfaces_within_a_second_and_recovers(
    emu: Emulator, server: RedisServer
) -> None:
    import redis

    client = redis.Redis(host="127.0.0.1", port=server.port, **entra_auth.redis_client_options())
    app = _cca(emu, entra_auth.RedisTokenCache(client))
    assert app.acquire_token_for_client(DEFAULT)["token_source"] == "identity_provider"
    assert app.acquire_token_for_client(DEFAULT)["token_source"] == "cache"

    server.kill()
    for _ in range(3):  # every call during the outage, not only the first
        start = time.monotonic()
        with pytest.raises(CacheError) as caught:
            app.acquire_token_for_client(DEFAULT)
        elapsed = time.monotonic() - start
        assert caught.value.error == "cache_backend_error"
        assert elapsed < BOUND, f"the outage took {elapsed:.2f} s to surface"

    server.start()  # empty: no persistence
    result = app.acquire_token_for_client(DEFAULT)
    assert result["token_source"] == "identity_provider", result
    assert app.acquire_token_for_client(DEFAULT)["token_source"] == "cache"


def test_killed_redis_surfaces_within_a_second_and_recovers_async(
    emu: Emulator, server: RedisServer
) -> None:
    import redis.asyncio

    async def scenario() -> None:
        client = redis.asyncio.Redis(host="127.0.0.1", port=server.port,
                                     **entra_auth.redis_client_options(asyncio=True))
        app = entra_auth.aio.ConfidentialClientApplication(
            WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
            verify=emu.ca_bundle, token_cache=entra_auth.AsyncRedisTokenCache(client))
        try:
            first = await app.acquire_token_for_client(DEFAULT)
            assert first["token_source"] == "identity_provider"
            server.kill()
            for _ in range(3):
                start = time.monotonic()
                with pytest.raises(CacheError):
                    await app.acquire_token_for_client(DEFAULT)
                elapsed = time.monotonic() - start
                assert elapsed < BOUND, f"the outage took {elapsed:.2f} s to surface"
            server.start()
            again = await app.acquire_token_for_client(DEFAULT)
            assert again["token_source"] == "identity_provider", again
            assert (await app.acquire_token_for_client(DEFAULT))["token_source"] == "cache"
        finally:
            await app.aclose()
            await client.aclose()

    asyncio.run(scenario())


def test_settings_bound_and_validation() -> None:
    options = entra_auth.redis_client_options(timeout=0.2, retries=2, backoff=0.1)
    assert options["socket_connect_timeout"] == options["socket_timeout"] == 0.2
    assert options["retry"]._retries == 2
    with pytest.raises(ValueError):
        entra_auth.redis_client_options(timeout=0)
