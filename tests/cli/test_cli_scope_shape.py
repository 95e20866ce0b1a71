"""The CLI turns a scope of the wrong shape into a usage error that says what to pass."""

from __future__ import annotations

import pathlib

import pytest

from entra_auth.testing import Emulator

from .helpers import cli_env, run_cli


@pytest.mark.parametrize("command", ["token", "login"])
def test_resource_url_as_scope_suggests_resource_or_default(
    emu: Emulator, tmp_path: pathlib.Path, command: str,
) -> None:
    proc = run_cli(cli_env(emu, str(tmp_path)), command, "--scope", "https://graph.microsoft.com")
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "--resource https://graph.microsoft.com" in line
    assert "--scope https://graph.microsoft.com/.default" in line
    assert emu.requests_to("token") == [] and emu.requests_to("devicecode") == []


def test_mixed_default_is_a_usage_error(emu: Emulator, tmp_path: pathlib.Path) -> None:
    proc = run_cli(cli_env(emu, str(tmp_path)), "token", "--scope", "User.Read",
                   "--scope", "https://graph.microsoft.com/.default")
    assert proc.returncode == 2, proc.stderr
    assert "alone" in proc.stderr and "Traceback" not in proc.stderr
