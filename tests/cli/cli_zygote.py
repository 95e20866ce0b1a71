"""The server half of tests/cli/forkserver.py: run as ``python cli_zygote.py SOCKET``.

It imports the ``entra-auth`` command and everything its subcommands import, once, then listens
on the Unix socket ``SOCKET``. Each request is one ``SOCK_SEQPACKET`` message: a JSON header
(``argv``, ``env``, ``cwd``) with three file descriptors that become the command's stdin, stdout
and stderr. For each request it forks a supervisor, which forks the command, sends back
``{"pid": N}``, waits for it and sends ``{"exit": code}`` (negative for a signal, as
``subprocess`` reports it). The command process is a copy of a freshly started interpreter: it
gets the request's environment, working directory, standard streams and default signal handling,
then does what the console script does: ``raise SystemExit(main())``. The zygote exits when its
stdin reaches end of file (the test process that started it went away).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import json
import os
import selectors
import signal
import socket
import sys
from typing import Any

import entra_auth
from entra_auth import cli

# What the commands import, some of it only when they run: the subcommand modules, the public
# API (applications, caches, credentials) and the HTTP stack under it.
for _module, _help in cli._COMMANDS.values():
    importlib.import_module(_module)
for _name in entra_auth.__all__:
    getattr(entra_auth, _name)
for _module in ("entra_auth.transport.requests_transport", "requests", "certifi"):
    importlib.import_module(_module)


def _std_streams(env: dict[str, str]) -> None:
    """Standard streams as a new interpreter makes them for these descriptors and environment."""
    encoding, _, errors = env.get("PYTHONIOENCODING", "").partition(":")
    encoding = encoding or (sys.__stdout__.encoding if sys.__stdout__ else "utf-8")
    streams = {
        "stdin": io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "rb", closefd=False)),
                                  encoding=encoding, errors=errors or "strict"),
        "stdout": io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "wb", closefd=False)),
                                   encoding=encoding, errors=errors or "strict",
                                   line_buffering=os.isatty(1)),
        "stderr": io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "wb", closefd=False)),
                                   encoding=encoding, errors="backslashreplace",
                                   line_buffering=True),
    }
    for name, stream in streams.items():
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def _become_command(request: dict[str, Any], fds: list[int]) -> None:
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for fd in fds:
        if fd > 2:
            os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _std_streams(request["env"])
    sys.argv = list(request["argv"])


def _supervise(conn: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
    """In the supervisor: fork the command, report its pid and then its exit code."""
    pid = os.fork()
    if pid == 0:
        conn.close()
        _become_command(request, fds)
        raise SystemExit(cli.main(sys.argv[1:]))  # as the console script does
    for fd in fds:
        os.close(fd)
    with contextlib.suppress(OSError):  # the test may have gone; the command runs to its end
        conn.send(json.dumps({"pid": pid}).encode())
    _, status = os.waitpid(pid, 0)
    with contextlib.suppress(OSError):
        conn.send(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode())
    os._exit(0)


def serve(path: str) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(16)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(0, selectors.EVENT_READ)  # stdin: a pipe from the test process
    print("ready", flush=True)
    while True:
        for key, _ in selector.select(timeout=1.0):
            if key.fileobj == 0:
                if not os.read(0, 1024):
                    return  # the test process is gone
                continue
            conn, _ = listener.accept()
            message, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
            if os.fork() == 0:
                selector.close()
                listener.close()
                _supervise(conn, json.loads(message), fds)
            conn.close()
            for fd in fds:
                os.close(fd)
        while True:  # reap finished supervisors
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break


if __name__ == "__main__":
    gc.freeze()  # what is imported stays shared with the children, untouched by their collections
    serve(sys.argv[1])
