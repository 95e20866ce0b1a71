"""Start ``entra-auth`` processes by forking a pre-started interpreter instead of starting one.

Most of what a CLI test costs is the new interpreter's start-up: Python and the command's imports
(requests, cryptography, the library) take about 0.2 s of CPU per run, several times what the
command itself does against the emulator. ``cli_zygote.py`` pays that once per test process and
then forks a copy of itself for each run. The command still runs in a process of its own, with
the test's environment, working directory, arguments and file descriptors (pipes, or a
pseudo-terminal), and still exits with its own code or dies of a signal; what it skips is
importing its modules again.

``ENTRA_TEST_CLI=exec`` starts every command as a new interpreter instead (the installed console
script), and tests/cli/test_launcher.py checks that both ways give the same results.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

_ZYGOTE = Path(__file__).with_name("cli_zygote.py")


class ForkedProcess:
    """A command the fork server started: the part of ``subprocess.Popen`` the tests use."""

    def __init__(self, conn: socket.socket, args: list[str]) -> None:
        self._conn = conn
        self.args = args
        reply = self._receive(timeout=30)
        if reply is None or "pid" not in reply:
            raise RuntimeError(f"the CLI fork server did not start {args}: {reply!r}")
        self.pid: int = reply["pid"]
        self.returncode: int | None = None

    def _receive(self, timeout: float | None) -> dict[str, int] | None:
        ready, _, _ = select.select([self._conn], [], [], timeout)
        if not ready:
            return None
        message = self._conn.recv(4096)
        if not message:
            raise RuntimeError(f"the CLI fork server lost {self.args}")
        reply: dict[str, int] = json.loads(message)
        return reply

    def poll(self) -> int | None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            return self.wait(timeout=0)
        return None

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            reply = self._receive(timeout)
            if reply is None:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            self.returncode = reply["exit"]
            self._conn.close()
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ForkServer:
    """One ``cli_zygote.py`` for this test process, started on first use."""

    def __init__(self) -> None:
        self._directory = tempfile.mkdtemp(prefix="entra-cli-zygote-")
        self._path = os.path.join(self._directory, "socket")
        self._process = subprocess.Popen(
            [sys.executable, str(_ZYGOTE), self._path], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        if self._process.stdout.readline().strip() != "ready":
            raise RuntimeError("the CLI fork server did not start")

    def spawn(self, args: list[str], env: dict[str, str], stdin: int, stdout: int,
              stderr: int) -> ForkedProcess:
        """Start ``entra-auth ARGS`` with these descriptors as its standard streams."""
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        conn.connect(self._path)
        header = {"argv": ["entra-auth", *args], "env": env, "cwd": os.getcwd()}
        socket.send_fds(conn, [json.dumps(header).encode()], [stdin, stdout, stderr])
        return ForkedProcess(conn, ["entra-auth", *args])

    def close(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()  # end of file: the zygote exits
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        shutil.rmtree(self._directory, ignore_errors=True)


_server: ForkServer | None = None
_server_pid = 0
_lock = threading.Lock()


def enabled() -> bool:
    return os.environ.get("ENTRA_TEST_CLI", "fork") != "exec"


def server() -> ForkServer:
    """This process's fork server (a forked test process starts its own)."""
    global _server, _server_pid
    with _lock:
        if _server is None or _server_pid != os.getpid():
            _server = ForkServer()
            _server_pid = os.getpid()
            atexit.register(_server.close)
        return _server


def run(args: list[str], env: dict[str, str], stdin: str | None, timeout: float,
        via: ForkServer | None = None) -> subprocess.CompletedProcess[str]:
    """``subprocess.run(["entra-auth", *args], input=stdin, capture_output=True, text=True)``."""
    if stdin is None:  # what the command inherits from a pytest process: /dev/null
        in_read, in_write = os.open(os.devnull, os.O_RDONLY), -1
    else:
        in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    try:
        proc = (via or server()).spawn(args, env, in_read, out_write, err_write)
    finally:
        for fd in (in_read, out_write, err_write):
            os.close(fd)
    data = (stdin or "").encode()
    out, err = bytearray(), bytearray()
    readers = {out_read: out, err_read: err}
    deadline = time.monotonic() + timeout
    try:
        if in_write >= 0 and not data:
            os.close(in_write)
            in_write = -1
        while readers or in_write >= 0:
            left = deadline - time.monotonic()
            if left <= 0:
                proc.kill()
                proc.wait()
                raise subprocess.TimeoutExpired(proc.args, timeout, bytes(out), bytes(err))
            writers = [in_write] if in_write >= 0 else []
            readable, writable, _ = select.select(list(readers), writers, [], left)
            for fd in readable:
                chunk = os.read(fd, 65536)
                if chunk:
                    readers[fd] += chunk
                else:
                    del readers[fd]
                    os.close(fd)
            if writable:
                try:
                    sent = os.write(in_write, data[:65536])
                except BrokenPipeError:
                    sent = len(data)
                data = data[sent:]
                if not data:
                    os.close(in_write)
                    in_write = -1
        try:
            code = proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
    finally:
        for fd in [*readers, in_write]:
            if fd >= 0:
                os.close(fd)
    return subprocess.CompletedProcess(proc.args, code, _text(out), _text(err))


def _text(data: bytes | bytearray) -> str:
    """Decode as ``subprocess.run(text=True)`` does (locale encoding, universal newlines)."""
    import locale

    text = bytes(data).decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")
