"""Shared pieces for the credential-chain tests: an isolated environment, fake CLIs."""

from __future__ import annotations

import os
import socket
import stat
import sys
from pathlib import Path

import pytest


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
