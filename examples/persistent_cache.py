"""Persistent token caches: a file cache for a CLI, a Redis cache for a fleet, both on the emulator.

Run: ``.venv/bin/python examples/persistent_cache.py`` (Redis part: needs ``redis-server`` on
PATH; it is started on a free port for the demo and stopped at the end).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time

import entra_auth
from entra_auth.cache.encryption import CacheEncryption, encode_key, generate_key
from entra_auth.testing import GRAPH_RESOURCE, WEB_APP_ID, WEB_APP_SECRET, Emulator

SCOPES = [f"{GRAPH_RESOURCE}/.default"]


def file_cache_demo(emu: Emulator, directory: str) -> None:
    # The key would normally live in the OS keyring (CacheEncryption.from_keyring()) or in
    # the environment; here it goes to the environment for the demo.
    os.environ["ENTRA_AUTH_CACHE_KEY"] = encode_key(generate_key())
    path = os.path.join(directory, "token_cache.bin")

    def run_once() -> str:  # what each start of a CLI would do
        cache = entra_auth.FileTokenCache(path, encryption=CacheEncryption.from_env())
        app = entra_auth.ConfidentialClientApplication(
            WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
            verify=emu.ca_bundle, token_cache=cache)
        return str(app.acquire_token_for_client(SCOPES)["token_source"])

    print("file cache, first run: ", run_once())   # identity_provider
    print("file cache, second run:", run_once())   # cache: survived the "restart"
    print("file mode:", oct(os.stat(path).st_mode & 0o777))


def redis_cache_demo(emu: Emulator, directory: str) -> None:
    binary = shutil.which("redis-server")
    if binary is None:
        print("redis-server not found; skipping the Redis demo")
        return
    import redis

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1",
                               "--save", "", "--dir", directory], stdout=subprocess.DEVNULL)
    try:
        client = redis.Redis(port=port)
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.02)
        for instance in ("instance A", "instance B"):  # two app servers, one Redis
            app = entra_auth.ConfidentialClientApplication(
                WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
                verify=emu.ca_bundle, token_cache=entra_auth.RedisTokenCache(client))
            print(f"redis cache, {instance}:", app.acquire_token_for_client(SCOPES)["token_source"])
        print("redis keys:", sorted(k.decode() for k in client.keys("*")))
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    directory = tempfile.mkdtemp()
    with Emulator() as emu:
        file_cache_demo(emu, directory)
        redis_cache_demo(emu, directory)


if __name__ == "__main__":
    main()
