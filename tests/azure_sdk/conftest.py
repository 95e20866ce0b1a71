"""Shared pieces of the Azure SDK tests: a module-wide emulator reset per test, signed-in apps,
an isolated environment and fake CLIs for the credential chain."""

from __future__ import annotations

import base64
import json
import os
import socket
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

import entra_auth
from entra_auth.testing import PUBLIC_CLIENT_ID, Emulator

ALICE, PASSWORD = "alice@contoso.onmicrosoft.com", "alice-password"
GRAPH_DEFAULT = "https://graph.microsoft.com/.default"
GRAPH_USER_READ = "https://graph.microsoft.com/User.Read"


@pytest.fixture
def emu(entra_emulator: Emulator) -> Emulator:
    """The plugin's emulator: shared by the session, reset for each test, and the test fails
    if the emulator hit an internal error."""
    return entra_emulator


def app_kwargs(emu: Emulator) -> dict[str, Any]:
    return {"authority": emu.authority(), "http_client": emu.requests_session(),
            "instance_discovery": False}


def signed_in_app(emu: Emulator) -> entra_auth.PublicClientApplication:
    app = entra_auth.PublicClientApplication(PUBLIC_CLIENT_ID, **app_kwargs(emu))
    result = app.acquire_token_by_username_password(ALICE, PASSWORD, scopes=["User.Read"])
    assert "access_token" in result
    return app


def claims_of(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return data


def closed_loopback_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (connection refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def write_tool(bin_dir: Path, name: str, script: str) -> Path:
    """A fake command-line tool: a Python script run by this interpreter."""
    path = bin_dir / name
    path.write_text(f"#!{sys.executable}\n{script}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def isolated(tmp_path: Path) -> dict[str, str]:
    """An environment with no credential configured, managed identity on a closed loopback
    port, empty CLI configuration directories and a PATH with only our fake tools."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for sub in ("azure", "xdg"):
        (tmp_path / sub).mkdir()
    return {
        "PATH": str(bin_dir),
        "HOME": str(tmp_path),
        "AZURE_CONFIG_DIR": str(tmp_path / "azure"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "AZURE_POD_IDENTITY_AUTHORITY_HOST": closed_loopback_url(),
        "SYSTEMROOT": os.environ.get("SYSTEMROOT", ""),
    }
