"""Network guard for the test suite: sockets may connect to loopback (127.0.0.0/8, ::1) only.

Installed by ``tests/conftest.py`` in the pytest process and, through the ``sitecustomize``
beside this file (on ``PYTHONPATH``), in every Python subprocess the tests start. A blocked
connect raises :class:`BlockedConnectionError` (an ``OSError``, so the code under test sees a
network failure) *and* is recorded, so a test fails even when its code swallows the error
(e.g. an IMDS probe falling back). Subprocesses append their records to the file named by
``ENTRA_NETGUARD_LOG``; the pytest process reads it after each test phase.

What it cannot see: C extensions that open sockets without Python's ``socket`` module,
programs that are not Python, and Pythons started with ``-I``/``-E`` or an ``env=`` without
``PYTHONPATH`` (they skip ``sitecustomize``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import struct
import sys
import threading
from collections.abc import Iterator
from typing import Any

__all__ = [
    "BlockedConnectionError",
    "allow_own_addresses",
    "allowed",
    "install",
    "own_addresses",
    "take_violations",
    "unguarded_env",
]

LOG_ENV = "ENTRA_NETGUARD_LOG"
_lock = threading.Lock()
_violations: list[str] = []
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo
_LOCAL_FAMILIES = {getattr(socket, name) for name in ("AF_UNIX", "AF_NETLINK")
                   if hasattr(socket, name)}


_allow_own = 0  # > 0 inside allow_own_addresses()


class BlockedConnectionError(ConnectionRefusedError):
    """A test tried to connect outside loopback."""


def own_addresses() -> list[str]:
    """This machine's non-loopback interface addresses, IPv4 and global IPv6, in their
    compressed form (read locally, no traffic)."""
    found: list[str] = []
    if sys.platform.startswith("linux"):
        import fcntl

        for _, name in socket.if_nameindex():
            probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:  # SIOCGIFADDR
                packed = fcntl.ioctl(probe.fileno(), 0x8915,
                                     struct.pack("256s", name[:15].encode()))
            except OSError:
                continue
            finally:
                probe.close()
            found.append(socket.inet_ntoa(packed[20:24]))
    with contextlib.suppress(OSError):
        for info in _real_getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(str(info[4][0]))
    with contextlib.suppress(OSError), open("/proc/net/if_inet6") as table:
        for line in table:
            fields = line.split()
            if len(fields) > 3 and int(fields[3], 16) == 0:  # global scope
                found.append(str(ipaddress.IPv6Address(int(fields[0], 16))))
    return sorted({a for a in found if not a.startswith("127.")})


@contextlib.contextmanager
def allow_own_addresses() -> Iterator[list[str]]:
    """Allow connects to this machine's own interface addresses (for tests proving a listener
    is *not* reachable on them); everything else stays blocked. Yields the addresses."""
    global _allow_own
    addresses = own_addresses()
    _allow_own += 1
    try:
        yield addresses
    finally:
        _allow_own -= 1


def _loopback(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _compressed(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        return host


def allowed(family: int, address: Any) -> bool:
    """Whether a connect to ``address`` stays on this host's loopback (or a local socket)."""
    if family in _LOCAL_FAMILIES:
        return True
    if family not in (socket.AF_INET, socket.AF_INET6):
        return False
    if not isinstance(address, tuple) or not address:
        return False
    host = address[0]
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if _loopback(host):
        return True
    if _allow_own and _compressed(host) in own_addresses():
        return True
    # A host name: every address it resolves to must be loopback.
    try:
        infos = _real_getaddrinfo(host, None, family)
    except OSError:
        return False
    return bool(infos) and all(_loopback(str(info[4][0])) for info in infos)


def _record(family: int, address: Any) -> BlockedConnectionError:
    message = (f"network guard: blocked a connect to {address!r} (family {family}); tests may "
               "only connect to 127.0.0.0/8 and ::1")
    with _lock:
        _violations.append(f"pid {os.getpid()}: {message}")
    path = os.environ.get(LOG_ENV)
    if path and os.getpid() != _installed_pid:
        try:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(f"pid {os.getpid()}: {message}\n")
        except OSError:
            pass
    return BlockedConnectionError(message)


def _connect(self: socket.socket, address: Any) -> None:
    if not allowed(self.family, address):
        raise _record(self.family, address)
    return _real_connect(self, address)


def _connect_ex(self: socket.socket, address: Any) -> int:
    if not allowed(self.family, address):
        raise _record(self.family, address)
    return _real_connect_ex(self, address)


_installed_pid = -1


def install(*, parent: bool) -> None:
    """Patch ``socket.socket.connect``/``connect_ex`` (``create_connection``, ``ssl``,
    ``asyncio``, ``http.client``, urllib3 and httpx all connect through them)."""
    global _installed_pid
    if parent:
        _installed_pid = os.getpid()
    socket.socket.connect = _connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]


def take_violations() -> list[str]:
    """Return and forget the violations recorded so far (this process and subprocesses)."""
    with _lock:
        found = list(_violations)
        _violations.clear()
    path = os.environ.get(LOG_ENV)
    if path and os.getpid() == _installed_pid:
        try:
            with open(path, "r+", encoding="utf-8") as fh:
                found += [line.rstrip("\n") for line in fh if line.strip()]
                fh.seek(0)
                fh.truncate()
        except FileNotFoundError:
            pass
    return found


def unguarded_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """A copy of the environment without the guard, for package installation steps only
    (pip and build talking to the PyPI registry, which the machine allows)."""
    env = dict(os.environ if environ is None else environ)
    here = os.path.dirname(os.path.abspath(__file__))
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep)
             if p and os.path.abspath(p) != here]
    if parts:
        env["PYTHONPATH"] = os.pathsep.join(parts)
    else:
        env.pop("PYTHONPATH", None)
    env.pop(LOG_ENV, None)
    return env
