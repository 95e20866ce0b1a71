"""pytest plugin for the msal-suite runs: loopback-only network, and a JSON report.

Loaded with ``-p msal_suite_plugin`` in the child pytest. Every connection or name lookup
for a host that is not loopback fails at once (msal's tests would otherwise reach
login.microsoftonline.com). The report (path in ``MSAL_SUITE_REPORT``) maps each test id to
its outcome, the first error line, and the msal internals it touched (with the shim).
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import sys
from typing import Any

import pytest

_connect = socket.socket.connect
_getaddrinfo = socket.getaddrinfo


def _loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host is not None and not _loopback(host):
        raise OSError(f"msal-suite network guard: {host} is not a loopback host")
    return _getaddrinfo(host, *args, **kwargs)


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if isinstance(address, tuple) and not _loopback(address[0]):
        raise OSError(f"msal-suite network guard: {address[0]} is not a loopback host")
    return _connect(self, address)


socket.getaddrinfo = _guarded_getaddrinfo  # type: ignore[assignment]
socket.socket.connect = _guarded_connect  # type: ignore[method-assign]

_report: dict[str, dict[str, Any]] = {}


def _accesses() -> list[tuple[str, str]] | None:
    shim = sys.modules.get("msal")
    found = getattr(shim, "ACCESSES", None) if shim is not None else None
    return found if isinstance(found, list) else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: Any) -> Any:
    accesses = _accesses()
    if accesses is not None:
        accesses.clear()
    yield
    accesses = _accesses()
    entry = _report.setdefault(item.nodeid, {})
    entry["internals"] = sorted({f"{kind} {name}" for kind, name in accesses or []})


def _first_error_line(report: pytest.TestReport) -> str:
    lines = [line for line in report.longreprtext.splitlines() if line.startswith("E ")]
    return (lines[0][1:].strip() if lines else report.longreprtext[-200:])[:300]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Also sees unittest subTest reports: a failed subtest fails the test.
    entry = _report.setdefault(report.nodeid, {})
    if report.failed:
        if entry.get("outcome") != "failed":
            entry["error"] = _first_error_line(report)
        entry["outcome"] = "failed"
    elif entry.get("outcome") == "failed":
        return
    elif report.skipped:
        entry["outcome"] = "skipped"
    elif report.when == "call" and type(report) is pytest.TestReport:
        entry["outcome"] = "passed"


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _report[report.nodeid] = {"outcome": "collection error",
                                  "error": str(report.longrepr)[-300:]}


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = os.environ.get("MSAL_SUITE_REPORT")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(_report, f, indent=1, sort_keys=True)
