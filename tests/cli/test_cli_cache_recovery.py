"""A cache file the CLI can't read costs nothing: every command says what is wrong and how to
recover, with its own exit code (5), before any sign-in starts; ``logout --all`` moves it aside
to a timestamped backup and starts afresh."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess

from entra_auth.testing import Emulator

from .helpers import cli_env, run_cli

GARBAGE = b'{"AccessToken": {"k": "not an entry"'  # a write cut short


def _cache_file(tmp_path: pathlib.Path, content: bytes) -> pathlib.Path:
    directory = tmp_path / "entra-auth"
    directory.mkdir(mode=0o700)
    path = directory / "token_cache.json"
    path.write_bytes(content)
    path.chmod(0o600)
    return path


def _exit_5(proc: subprocess.CompletedProcess[str], command: str, path: pathlib.Path) -> str:
    assert proc.returncode == 5, (proc.returncode, proc.stderr)
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"entra-auth {command}: error: the token cache can't be read: ")
    assert str(path) in line and "`entra-auth logout --all`" in line
    return line


def test_every_command_reports_a_corrupt_cache_before_doing_anything(
        emu: Emulator, tmp_path: pathlib.Path) -> None:
    path = _cache_file(tmp_path, GARBAGE)
    env = cli_env(emu, str(tmp_path))
    emu.clear_log()
    login = run_cli(env, "login", timeout=30)  # on main: a whole device-code sign-in first
    _exit_5(login, "login", path)
    assert "enter the code" not in login.stderr
    assert emu.requests_to("devicecode") == [] and emu.requests_to("token") == []
    for command in (["token"], ["accounts"], ["logout"], ["get", "/me"]):
        _exit_5(run_cli(env, *command), command[0], path)
    assert path.read_bytes() == GARBAGE  # left untouched


def test_logout_all_moves_the_unreadable_cache_aside(
        emu: Emulator, tmp_path: pathlib.Path) -> None:
    path = _cache_file(tmp_path, b"EACACHE\x02" + os.urandom(60))  # someone's encrypted cache
    env = cli_env(emu, str(tmp_path))
    out = run_cli(env, "logout", "--all")
    assert out.returncode == 0, out.stderr
    assert not path.exists()
    (backup,) = [p for p in path.parent.iterdir() if p.name.startswith(path.name + ".")
                 and not p.name.endswith((".lock", ".lockfile"))]
    assert backup.name.startswith("token_cache.json.unreadable-20")
    assert backup.read_bytes().startswith(b"EACACHE\x02")
    assert str(backup) in out.stdout
    assert json.loads(run_cli(env, "accounts").stdout) == []
    # a second reset finds a readable (empty) cache: nothing else is moved
    assert run_cli(env, "logout", "--all").stdout.strip() == "No account was signed in."
    assert len([p for p in path.parent.iterdir() if ".unreadable-" in p.name]) == 1


def test_other_local_problems_get_the_same_exit_code(
        emu: Emulator, tmp_path: pathlib.Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    env = cli_env(emu, str(tmp_path), ENTRA_AUTH_CACHE_FILE=str(shared / "cache.json"))
    proc = run_cli(env, "accounts")
    assert proc.returncode == 5, proc.stderr
    assert "can't be used" in proc.stderr and "writable by others" in proc.stderr
    # a corrupt cache is not reset by a plain logout, nor by logout -u
    path = _cache_file(tmp_path, GARBAGE)
    env = cli_env(emu, str(tmp_path))
    assert run_cli(env, "logout", "-u", "bob@contoso.onmicrosoft.com").returncode == 5
    assert path.read_bytes() == GARBAGE
