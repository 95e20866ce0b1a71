"""The two ways the CLI tests start ``entra-auth`` (forkserver.py) give the same results.

Forked from the pre-started interpreter, or started afresh as the installed console script: the
same output, exit code, environment, working directory, terminal and signal handling.
"""

from __future__ import annotations

import pathlib
import shutil
import signal
import subprocess

import pytest

from entra_auth.testing import Emulator

from . import forkserver
from .helpers import Terminal, cli_env, exec_cli


def _fork(env: dict[str, str], *args: str,
          stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return forkserver.run(list(args), env, stdin, timeout=60)


CASES = [
    pytest.param(["--version"], None, id="version"),
    pytest.param(["no-such-command"], None, id="bad-arguments"),
    pytest.param(["accounts"], None, id="accounts"),
    pytest.param(["token"], None, id="not-signed-in"),
    pytest.param(["decode"], "not.a.jwt\n", id="decode-stdin"),
    pytest.param(["decode"], None, id="decode-empty-stdin"),
    pytest.param(["get", "http://graph.microsoft.com/v1.0/me"], None, id="refused-destination"),
]


@pytest.mark.parametrize(("args", "stdin"), CASES)
def test_forked_and_started_commands_agree(emu: Emulator, tmp_path: pathlib.Path,
                                           args: list[str], stdin: str | None) -> None:
    env = cli_env(emu, str(tmp_path))
    started = exec_cli(env, *args, stdin=stdin)
    forked = _fork(env, *args, stdin=stdin)
    assert (forked.returncode, forked.stdout, forked.stderr) == (
        started.returncode, started.stdout, started.stderr)
    assert started.stdout or started.stderr  # each case says something


def test_environment_and_directory_are_the_callers(emu: Emulator, tmp_path: pathlib.Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The zygote's own environment and directory don't reach a command: a variable it was
    started with but the caller's environment lacks is gone, and a relative path is resolved
    in the caller's working directory."""
    monkeypatch.setenv("ENTRA_AUTH_CA_BUNDLE", "/nonexistent/ca.pem")
    zygote = forkserver.ForkServer()  # started with that variable
    try:
        env = cli_env(emu, str(tmp_path / "config"))
        del env["ENTRA_AUTH_CA_BUNDLE"]
        forked = forkserver.run(["accounts"], env, None, 60, via=zygote)
        assert (forked.returncode, forked.stdout) == (0, "[]\n"), forked.stderr
        # a relative --ca-bundle (from the environment): found in one directory, not the other
        env["ENTRA_AUTH_CA_BUNDLE"] = "ca.pem"
        for directory, exists in (("one", True), ("two", False)):
            (tmp_path / directory).mkdir()
            if exists:
                shutil.copy(str(emu.ca_bundle), tmp_path / directory / "ca.pem")
            monkeypatch.chdir(tmp_path / directory)
            started = exec_cli(env, "accounts")
            forked = forkserver.run(["accounts"], env, None, 60, via=zygote)
            assert (forked.returncode, forked.stdout, forked.stderr) == (
                started.returncode, started.stdout, started.stderr)
            assert (forked.returncode == 0) == exists, forked.stderr
    finally:
        zygote.close()


@pytest.mark.parametrize("launcher", ["fork", "exec"])
def test_a_terminal_and_ctrl_c_behave_the_same(emu: Emulator, tmp_path: pathlib.Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               launcher: str) -> None:
    monkeypatch.setenv("ENTRA_TEST_CLI", launcher)
    with Terminal(cli_env(emu, str(tmp_path)), "login") as term:
        assert isinstance(term.proc, forkserver.ForkedProcess) == (launcher == "fork")
        term.read_until(r"\d\d:\d\d left")  # the countdown is shown only on a terminal
        term.proc.send_signal(signal.SIGINT)
        assert term.wait() == 130
    assert "sign-in cancelled" in term.screen


def test_a_command_killed_by_a_signal_reports_it(emu: Emulator, tmp_path: pathlib.Path) -> None:
    with Terminal(cli_env(emu, str(tmp_path)), "login") as term:
        term.read_until(r"\d\d:\d\d left")
        term.proc.kill()
        assert term.wait() == -signal.SIGKILL
