"""``entra-auth emulator``: one JSON line, serves until interrupted; the pytest fixtures."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys

import requests

from entra_auth.testing import Emulator


def _start(*args: str) -> subprocess.Popen[str]:
    # Ctrl-C (SIGINT) reaches it as from a terminal, even when the tests run as a background
    # job, whose commands start with SIGINT ignored.
    return subprocess.Popen(
        [sys.executable, "-m", "entra_auth", "emulator", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def test_prints_one_json_line_and_serves_until_interrupted() -> None:
    proc = _start("--port", "0")
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert info["ca_bundle"] and os.path.exists(info["ca_bundle"])
        assert info["authorities"][0].startswith("https://127.0.0.1:")
        assert {u["username"] for u in info["users"]} >= {"alice@contoso.onmicrosoft.com"}
        assert info["tenants"][0]["domain"] == "contoso.onmicrosoft.com"
        public = next(a for a in info["apps"] if a["public_client"])
        resp = requests.post(f"{info['authorities'][0]}/oauth2/v2.0/token", data={
            "grant_type": "password", "client_id": public["client_id"],
            "username": info["users"][0]["username"], "password": info["users"][0]["password"],
            "scope": "openid User.Read"}, verify=info["ca_bundle"], timeout=10)
        assert resp.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    assert not os.path.exists(info["ca_bundle"])  # cleaned up


def test_bad_config_file_exits_2(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "c.json"
    bad.write_text('{"tenants": "nope"}')
    proc = _start("--config", str(bad))
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 2
    assert "config.tenants must be a list" in err


def test_http_and_sigterm() -> None:
    proc = _start("--http", "--auto-approve")
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert info["base_url"].startswith("http://") and info["ca_bundle"] is None
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_fixture_starts_each_test_clean_first(entra_emulator: Emulator) -> None:
    requests.get(f"{entra_emulator.authority()}/v2.0/.well-known/openid-configuration",
                 verify=entra_emulator.ca_bundle, timeout=10)
    entra_emulator.settings.access_token_lifetime = 5
    assert len(entra_emulator.requests) == 1


def test_fixture_starts_each_test_clean_second(entra_emulator: Emulator) -> None:
    assert entra_emulator.requests == []
    assert entra_emulator.settings.access_token_lifetime == 3600
