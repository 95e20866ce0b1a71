"""The suite-wide network guard (tests/conftest.py): loopback only, in-process and in children."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
from collections.abc import Iterator

import entra_netguard
import pytest


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP listener on every IPv4 address: a connect would succeed if the guard allowed it."""
    server = socket.create_server(("0.0.0.0", 0))
    yield server.getsockname()[1]
    server.close()


def _blocked(call: object) -> list[str]:
    with pytest.raises(entra_netguard.BlockedConnectionError, match="network guard"):
        call()  # type: ignore[operator]
    found = entra_netguard.take_violations()  # consumed here, so this test itself passes
    assert found, "the guard raised but did not record the violation"
    return found


def test_blocks_the_metadata_address() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with sock:
        assert "169.254.169.254" in _blocked(lambda: sock.connect(("169.254.169.254", 80)))[0]
        _blocked(lambda: sock.connect_ex(("169.254.169.254", 80)))
    _blocked(lambda: socket.create_connection(("169.254.169.254", 80), timeout=1))


def test_blocks_this_machines_own_address(listener: int) -> None:
    addresses = entra_netguard.own_addresses()
    assert addresses, "this machine has no non-loopback address to try"
    for address in addresses:
        _blocked(lambda a=address: socket.create_connection((a, listener), timeout=1))
    # Tests that prove a listener is NOT reachable there may opt in, for those addresses only.
    with entra_netguard.allow_own_addresses():
        socket.create_connection((addresses[0], listener), timeout=5).close()
        _blocked(lambda: socket.create_connection(("169.254.169.254", 80), timeout=1))
    _blocked(lambda: socket.create_connection((addresses[0], listener), timeout=1))


def test_blocks_asyncio_and_http_clients() -> None:
    import requests

    async def connect() -> None:
        await asyncio.open_connection("169.254.169.254", 80)

    _blocked(lambda: asyncio.run(connect()))
    with pytest.raises(requests.ConnectionError):
        requests.get("http://169.254.169.254/metadata", timeout=1)
    assert entra_netguard.take_violations()


def test_allows_loopback_v4_and_v6_and_unix(tmp_path: object) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        socket.create_connection(("127.0.0.1", server.getsockname()[1]), timeout=5).close()
        socket.create_connection(("localhost", server.getsockname()[1]), timeout=5).close()
    with socket.create_server(("127.0.0.2", 0)) as server:  # all of 127.0.0.0/8
        socket.create_connection(("127.0.0.2", server.getsockname()[1]), timeout=5).close()
    with socket.create_server(("::1", 0), family=socket.AF_INET6) as server:
        socket.create_connection(("::1", server.getsockname()[1]), timeout=5).close()
    path = f"{tmp_path}/s"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(path)
        server.listen()
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(path)
    assert entra_netguard.take_violations() == []


def test_subprocesses_get_the_guard_and_report_to_the_run() -> None:
    code = (
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('169.254.169.254', 80), timeout=1)\n"
        "except ConnectionRefusedError as exc:\n"
        "    print('BLOCKED', exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.startswith("BLOCKED network guard"), out.stdout + out.stderr
    found = entra_netguard.take_violations()  # the child's record reached this process
    assert any("169.254.169.254" in line for line in found), found
    assert not any(str(__import__("os").getpid()) in line.split(":")[0] for line in found)


def test_a_swallowed_violation_is_recorded() -> None:
    # code under test that treats any network failure as "not available"
    with contextlib.suppress(OSError):
        socket.create_connection(("10.255.255.1", 443), timeout=1)
    assert entra_netguard.take_violations(), "a caught violation must still be recorded"


def test_a_test_whose_code_connects_out_fails_even_if_it_catches_the_error(
    pytester: pytest.Pytester,
) -> None:
    from pathlib import Path

    pytester.makeconftest((Path(__file__).parent / "conftest.py").read_text())
    pytester.makepyfile(test_inner="""
import socket

def test_out():
    try:
        socket.create_connection(("169.254.169.254", 80), timeout=1)
    except OSError:
        pass

def test_loopback_only():
    with socket.create_server(("127.0.0.1", 0)) as server:
        socket.create_connection(server.getsockname(), timeout=5).close()
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*network guard: blocked a connect to ('169.254.169.254', 80)*"])
