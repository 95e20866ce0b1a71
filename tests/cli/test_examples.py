"""The examples run against the emulator: device-code Graph script (requests), daemon (httpx,
client credentials from the environment), bulk async caller (httpx.AsyncClient)."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

from entra_auth.testing import PUBLIC_CLIENT_ID, WEB_APP_ID, WEB_APP_SECRET, Emulator

from .helpers import ALICE, ALICE_PW

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ENTRA_AUTH_", "AZURE_", "IDENTITY_"))}
    env.pop("REQUESTS_CA_BUNDLE", None)
    env.update(extra)
    return env


def _app_env(emu: Emulator, **extra: str) -> dict[str, str]:
    return _env(AZURE_CLIENT_ID=WEB_APP_ID, AZURE_TENANT_ID=emu.tenant_id,
                AZURE_CLIENT_SECRET=WEB_APP_SECRET, AZURE_AUTHORITY_HOST=emu.base_url,
                REQUESTS_CA_BUNDLE=str(emu.ca_bundle), **extra)


def _run(name: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(EXAMPLES / name), *args], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_graph_device_code_script(emu: Emulator, tmp_path: pathlib.Path) -> None:
    from entra_auth.testing import enter_device_code

    env = _env(ENTRA_AUTH_CLIENT_ID=PUBLIC_CLIENT_ID, ENTRA_AUTH_AUTHORITY=emu.authority(),
               ENTRA_AUTH_CA_BUNDLE=str(emu.ca_bundle), ENTRA_AUTH_GRAPH_URL=emu.base_url)
    cache = str(tmp_path / "cache.json")
    proc = subprocess.Popen([sys.executable, str(EXAMPLES / "graph_device_code.py"),
                             "--cache-file", cache], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    code = re.search(r"enter the code (\S+)", line)
    assert code, line
    enter_device_code({"user_code": code.group(1), "verification_uri": emu.device_login_url},
                      ALICE, ALICE_PW, verify=str(emu.ca_bundle))
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert f"Hello, Alice Example ({ALICE})" in out
    again = _run("graph_device_code.py", env, "--cache-file", cache)  # silent from the cache
    assert again.returncode == 0 and "enter the code" not in again.stdout
    assert ALICE in again.stdout


def test_daemon_with_client_credentials_from_the_environment(emu: Emulator) -> None:
    done = _run("daemon_httpx.py", _app_env(emu), emu.echo_url, "--times", "3")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("HTTP 200") == 3
    assert len(emu.requests_to("token")) == 1  # one token, reused
    assert emu.requests_to("token")[0].grant_type == "client_credentials"
    missing = _run("daemon_httpx.py", _env(AZURE_CLIENT_ID=WEB_APP_ID), emu.echo_url)
    assert missing.returncode == 2
    assert missing.stderr.startswith("daemon: no credential in the environment")


def test_bulk_async_caller_shares_one_token(emu: Emulator) -> None:
    done = _run("bulk_async_graph.py", _app_env(emu), f"{emu.base_url}/echo", "--count", "60",
                "--concurrency", "12")
    assert done.returncode == 0, done.stderr
    assert "60 calls in" in done.stdout and "HTTP 200 x60" in done.stdout
    assert len(emu.requests_to("echo")) == 60
    assert len(emu.requests_to("token")) == 1


def test_examples_default_to_an_in_process_emulator() -> None:
    done = _run("bulk_async_graph.py", _env(), "--count", "10")
    assert done.returncode == 0, done.stderr
    assert "token requests: 1" in done.stdout and "HTTP 200 x10" in done.stdout


def test_daemon_lists_users_from_the_graph_shaped_api(emu: Emulator) -> None:
    done = _run("daemon_httpx.py", _app_env(emu), emu.users_url, "--times", "1")
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout.split("\n", 1)[1])
    assert ALICE in [u["userPrincipalName"] for u in listing["value"]]


def test_default_credential_in_an_azure_core_pipeline(emu: Emulator) -> None:
    done = _run("azure_sdk_default_credential.py", _app_env(emu), emu.echo_url)
    assert done.returncode == 0, done.stderr
    assert "token from: EnvironmentCredential" in done.stdout and "HTTP 200" in done.stdout
    assert "same token: True" in done.stdout
    assert len(emu.requests_to("token")) == 1
    alone = _run("azure_sdk_default_credential.py", _env())  # in-process emulator, "in Azure"
    assert alone.returncode == 0, alone.stderr
    assert "token from: ManagedIdentityCredential" in alone.stdout
    assert "HTTP 200" in alone.stdout
