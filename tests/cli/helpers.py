"""Run the real ``entra-auth`` command in a process of its own, on pipes or a pseudo-terminal.

The process is forked from a pre-started interpreter (forkserver.py), or with
``ENTRA_TEST_CLI=exec`` started as the installed console script.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from typing import Any

from entra_auth.testing import PUBLIC_CLIENT_ID, Emulator

from . import forkserver

ALICE = "alice@contoso.onmicrosoft.com"
ALICE_PW = "alice-password"
CODE_RE = re.compile(r"enter the code ([A-Z0-9]+)")


def entra_auth_command() -> list[str]:
    """The installed console script (``python -m entra_auth`` if it isn't installed)."""
    script = shutil.which("entra-auth", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-m", "entra_auth"]


def cli_env(emu: Emulator, config_home: str, **extra: str) -> dict[str, str]:
    """An environment pointing the CLI at the emulator, with its own config directory."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ENTRA_AUTH_", "AZURE_", "IDENTITY_"))}
    env.update({
        "XDG_CONFIG_HOME": config_home,
        "ENTRA_AUTH_CLIENT_ID": PUBLIC_CLIENT_ID,
        "ENTRA_AUTH_AUTHORITY": emu.authority(),
        "ENTRA_AUTH_CA_BUNDLE": str(emu.ca_bundle),
        "ENTRA_AUTH_GRAPH_URL": emu.base_url,
        "AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://127.0.0.1:9",  # never the real IMDS
    })
    env.update(extra)
    return env


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``entra-auth ARGS`` to completion, capturing stdout and stderr."""
    if forkserver.enabled():
        return forkserver.run(list(args), env, stdin, timeout)
    return exec_cli(env, *args, stdin=stdin, timeout=timeout)


def exec_cli(env: dict[str, str], *args: str, stdin: str | None = None,
             timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``entra-auth ARGS`` as a new interpreter (the installed console script)."""
    return subprocess.run([*entra_auth_command(), *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Terminal:
    """``entra-auth`` on a pseudo-terminal: everything it writes, as a user would see it."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.master, slave = os.openpty()
        self.proc: subprocess.Popen[bytes] | forkserver.ForkedProcess
        if forkserver.enabled():
            self.proc = forkserver.server().spawn(list(args), env, slave, slave, slave)
        else:
            # Ctrl-C works as in a user's terminal even if the tests run with SIGINT ignored
            # (a background job), which a new Python would otherwise inherit.
            self.proc = subprocess.Popen([*entra_auth_command(), *args], env=env, stdin=slave,
                                         stdout=slave, stderr=slave, close_fds=True,
                                         preexec_fn=_default_sigint)
        os.close(slave)
        self.screen = ""

    def read_until(self, pattern: str | re.Pattern[str], timeout: float = 20) -> re.Match[str]:
        """Read output until ``pattern`` matches it; fail after ``timeout`` seconds."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            found = regex.search(self.screen)
            if found:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{regex.pattern!r} never appeared in {self.screen!r}")
            ready, _, _ = select.select([self.master], [], [], min(left, 0.2))
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk and self.proc.poll() is not None:
                    raise AssertionError(f"exited before {regex.pattern!r}: {self.screen!r}")
                self.screen += chunk.decode("utf-8", "replace")

    def read_for(self, seconds: float) -> str:
        """Read whatever arrives during ``seconds``; returns the whole screen so far."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if select.select([self.master], [], [], min(left, 0.2))[0]:
                try:
                    self.screen += os.read(self.master, 4096).decode("utf-8", "replace")
                except OSError:
                    break
        return self.screen

    def wait(self, timeout: float = 30) -> int:
        """Wait for the exit code, collecting the remaining output."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    self.screen += os.read(self.master, 4096).decode("utf-8", "replace")
                except OSError:
                    break
        code = self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        try:
            while select.select([self.master], [], [], 0.05)[0]:
                data = os.read(self.master, 4096)
                if not data:
                    break
                self.screen += data.decode("utf-8", "replace")
        except OSError:
            pass
        return code

    def close(self) -> None:
        """Kill the process if still running and close the terminal."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
