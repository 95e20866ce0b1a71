"""The blocking and asyncio loopback listeners over real sockets."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable

import entra_netguard
import pytest
import requests

from entra_auth.interactive.listener import AsyncLoopbackListener, LoopbackListener

STATE = "state-abc"
CODE = "0.AAAA-the-authorization-code"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _post(port: int, data: dict[str, str], host: str = "localhost") -> requests.Response:
    return requests.post(f"http://{host}:{port}/", data=data, timeout=5)


def _in_thread(target: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    box: list[object] = []
    thread = threading.Thread(target=lambda: box.append(target()), daemon=True)
    thread.start()
    return thread, box


def _wait_closed(port: int) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return True
        time.sleep(0.02)
    return False


def test_listener_binds_loopback_ephemeral_port_and_localhost_redirect_uri() -> None:
    with LoopbackListener() as listener:
        assert listener.port > 0
        assert listener.redirect_uri == f"http://localhost:{listener.port}"
        assert listener._server.getsockname()[0] == "127.0.0.1"


def test_listener_uses_the_given_port() -> None:
    port = _free_port()
    with LoopbackListener(port) as listener:
        assert listener.port == port
        assert listener.redirect_uri == f"http://localhost:{port}"


def test_a_port_in_use_is_a_clear_value_error() -> None:
    with LoopbackListener() as first, pytest.raises(ValueError, match="Can't listen"):
        LoopbackListener(first.port)


def test_form_post_completes_serves_one_page_and_closes() -> None:
    listener = LoopbackListener()
    port = listener.port
    thread, box = _in_thread(lambda: listener.wait_for_auth_response(STATE, timeout=10))
    response = _post(port, {"code": CODE, "state": STATE})
    thread.join(5)
    assert box == [{"code": CODE, "state": STATE}]
    assert response.status_code == 200
    assert "Sign-in complete" in response.text
    assert CODE not in response.text
    assert _wait_closed(port)


def test_forged_state_and_wrong_path_do_not_complete_the_flow() -> None:
    listener = LoopbackListener()
    port = listener.port
    thread, box = _in_thread(lambda: listener.wait_for_auth_response(STATE, timeout=10))
    forged = _post(port, {"code": "attacker-code", "state": "forged"})
    wrong_path = requests.get(f"http://localhost:{port}/favicon.ico", timeout=5)
    rebinding = _post(port, {"code": CODE, "state": STATE}, host="127.0.0.1")
    assert forged.status_code == 400
    assert wrong_path.status_code == 400
    assert rebinding.status_code == 200  # 127.0.0.1 is an accepted Host too
    thread.join(5)
    assert box == [{"code": CODE, "state": STATE}]


def test_wrong_host_header_is_rejected() -> None:
    listener = LoopbackListener()
    port = listener.port
    thread, box = _in_thread(lambda: listener.wait_for_auth_response(STATE, timeout=10))
    rebound = requests.post(
        f"http://127.0.0.1:{port}/",
        data={"code": CODE, "state": STATE},
        headers={"Host": f"attacker.example:{port}"},
        timeout=5,
    )
    assert rebound.status_code == 400
    _post(port, {"error": "access_denied", "state": STATE})
    thread.join(5)
    assert box == [{"error": "access_denied", "state": STATE}]


def test_idle_and_garbage_connections_do_not_block_the_real_response() -> None:
    listener = LoopbackListener()
    port = listener.port
    thread, box = _in_thread(lambda: listener.wait_for_auth_response(STATE, timeout=10))
    idle = socket.create_connection(("127.0.0.1", port))  # like a browser's preconnect
    garbage = socket.create_connection(("127.0.0.1", port))
    garbage.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
    assert garbage.recv(100).startswith(b"HTTP/1.1 400")
    garbage.close()
    response = _post(port, {"code": CODE, "state": STATE})
    thread.join(5)
    idle.close()
    assert response.status_code == 200
    assert box == [{"code": CODE, "state": STATE}]


def test_timeout_returns_none_and_closes() -> None:
    # A fake monotonic clock: the deadline is 10.3; at 10.29 the listener still serves
    # (waiting 0.01 s on its sockets), at 10.31 it gives up.
    readings = iter([10.0, 10.29, 10.31])
    read: list[float] = []

    def clock() -> float:
        read.append(next(readings))
        return read[-1]

    listener = LoopbackListener(clock=clock)
    assert listener.wait_for_auth_response(STATE, timeout=0.3) is None
    assert read == [10.0, 10.29, 10.31]  # not before the clock passed the deadline
    assert _wait_closed(listener.port)


def test_not_reachable_on_other_addresses() -> None:
    with LoopbackListener() as listener:
        # The whole of 127/8 reaches "lo" on Linux: a 0.0.0.0 listener answers 127.0.0.2,
        # one bound to 127.0.0.1 only does not.
        with socket.socket() as probe:
            probe.settimeout(2)
            assert probe.connect_ex(("127.0.0.2", listener.port)) != 0
        # The suite's network guard lets this test try the machine's own addresses.
        with entra_netguard.allow_own_addresses():
            for address in _non_loopback_ipv4_addresses():
                with socket.socket() as probe:
                    probe.settimeout(2)
                    assert probe.connect_ex((address, listener.port)) != 0, address
            for address in _non_loopback_ipv6_addresses():
                with socket.socket(socket.AF_INET6) as probe6:
                    probe6.settimeout(2)
                    assert probe6.connect_ex((address, listener.port, 0, 0)) != 0, address
        # The control: the same port is reachable on 127.0.0.1 and ::1 (both loopback).
        with socket.create_connection(("127.0.0.1", listener.port), timeout=2):
            pass
        with socket.create_connection(("::1", listener.port), timeout=2):
            pass


def _non_loopback_ipv6_addresses() -> list[str]:
    """This machine's global and unique-local IPv6 addresses (Linux's table)."""
    found = []
    with open("/proc/net/if_inet6") as table:
        for line in table:
            raw, scope = line.split()[0], int(line.split()[3], 16)
            if scope == 0:  # global scope (link-local needs a zone; ::1 is host scope)
                found.append(":".join(raw[i:i + 4] for i in range(0, 32, 4)))
    return found


def _non_loopback_ipv4_addresses() -> list[str]:
    # Read from the interfaces, sending nothing (the network guard's helper).
    return [a for a in entra_netguard.own_addresses() if ":" not in a]


# ---- asyncio listener


async def _async_post(port: int, body: str, host: str = "localhost") -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            f"POST / HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}"
        ).encode()
    )
    await writer.drain()
    data = await reader.read()
    writer.close()
    return data


def test_async_listener_rejects_forgery_then_completes_and_closes() -> None:
    async def scenario() -> tuple[dict[str, str] | None, bytes, bytes, int]:
        listener = await AsyncLoopbackListener.start()
        assert listener.redirect_uri == f"http://localhost:{listener.port}"
        waiting = asyncio.create_task(listener.wait_for_auth_response(STATE, timeout=10))
        forged = await _async_post(listener.port, "code=evil&state=forged")
        real = await _async_post(listener.port, f"code={CODE}&state={STATE}")
        return await waiting, forged, real, listener.port

    result, forged, real, port = asyncio.run(scenario())
    assert result == {"code": CODE, "state": STATE}
    assert forged.startswith(b"HTTP/1.1 400")
    assert real.startswith(b"HTTP/1.1 200")
    assert CODE.encode() not in real
    assert _wait_closed(port)


def test_async_listener_timeout_returns_none() -> None:
    async def scenario() -> tuple[dict[str, str] | None, int]:
        listener = await AsyncLoopbackListener.start()
        idle = await asyncio.open_connection("127.0.0.1", listener.port)
        result = await listener.wait_for_auth_response(STATE, timeout=0.3)
        idle[1].close()
        return result, listener.port

    result, port = asyncio.run(scenario())
    assert result is None
    assert _wait_closed(port)


def test_async_listener_binds_loopback_only_and_reports_busy_ports() -> None:
    async def scenario() -> None:
        listener = await AsyncLoopbackListener.start()
        try:
            with socket.socket() as probe:
                probe.settimeout(2)
                assert probe.connect_ex(("127.0.0.2", listener.port)) != 0
            with pytest.raises(ValueError, match="Can't listen"):
                await AsyncLoopbackListener.start(listener.port)
        finally:
            await listener.aclose()

    asyncio.run(scenario())


def test_a_listener_serves_one_sign_in_only() -> None:
    listener = LoopbackListener()
    assert listener.wait_for_auth_response(STATE, timeout=0.05) is None
    with pytest.raises(RuntimeError, match="create a new one"):
        listener.wait_for_auth_response(STATE, timeout=0.05)

    async def scenario() -> None:
        async_listener = await AsyncLoopbackListener.start()
        assert await async_listener.wait_for_auth_response(STATE, timeout=0.05) is None
        with pytest.raises(RuntimeError, match="create a new one"):
            await async_listener.wait_for_auth_response(STATE, timeout=0.05)

    asyncio.run(scenario())


def test_async_request_before_the_state_is_known_is_answered_once_it_is() -> None:
    async def scenario() -> tuple[dict[str, str] | None, bytes]:
        listener = await AsyncLoopbackListener.start()
        early = asyncio.create_task(_async_post(listener.port, f"code={CODE}&state={STATE}"))
        await asyncio.sleep(0.05)  # the request is read and held: no state yet
        assert not early.done()
        result = await listener.wait_for_auth_response(STATE, timeout=5)
        return result, await early

    result, page = asyncio.run(scenario())
    assert result == {"code": CODE, "state": STATE}
    assert page.startswith(b"HTTP/1.1 200")


def test_async_close_releases_held_requests() -> None:
    async def scenario() -> bytes:
        listener = await AsyncLoopbackListener.start()
        early = asyncio.create_task(_async_post(listener.port, f"code={CODE}&state={STATE}"))
        await asyncio.sleep(0.05)
        await listener.aclose()
        return await asyncio.wait_for(early, 5)

    assert asyncio.run(scenario()) == b""
