"""The loopback listener holds its port on 127.0.0.1 and [::1]: a browser that tries ::1 first
(the redirect URI says ``localhost``) reaches it, and another local process can't squat [::1]."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest
import requests

from entra_auth.interactive.listener import AsyncLoopbackListener, LoopbackListener

from .net import listening_addresses

STATE = "dual-stack-state"


def test_a_browser_on_ipv6_loopback_completes_the_sign_in() -> None:
    listener = LoopbackListener()
    assert listener.redirect_uri == f"http://localhost:{listener.port}"  # as apps register
    box: list[object] = []
    thread = threading.Thread(
        target=lambda: box.append(listener.wait_for_auth_response(STATE, timeout=10)))
    thread.start()
    reply = requests.get(f"http://[::1]:{listener.port}/?code=c0de&state={STATE}",
                         headers={"Host": f"localhost:{listener.port}"}, timeout=5)
    thread.join(10)
    assert reply.status_code == 200
    assert box == [{"code": "c0de", "state": STATE}]
    assert listening_addresses(listener.port) == []  # closed on both addresses


def test_a_squatted_ipv6_port_is_refused_not_shared() -> None:
    with socket.socket(socket.AF_INET6) as squatter:
        squatter.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        squatter.bind(("::1", 0))
        squatter.listen(1)
        port = squatter.getsockname()[1]
        with pytest.raises(ValueError, match="Can't listen on localhost"):
            LoopbackListener(port)

        async def start() -> None:
            await AsyncLoopbackListener.start(port)

        with pytest.raises(ValueError, match="Can't listen on localhost"):
            asyncio.run(start())
        assert listening_addresses(port) == ["::1"]  # our 127.0.0.1 socket was released


def test_the_async_listener_answers_on_ipv6() -> None:
    async def scenario() -> dict[str, str] | None:
        listener = await AsyncLoopbackListener.start()
        waiting = asyncio.create_task(listener.wait_for_auth_response(STATE, timeout=10))
        reader, writer = await asyncio.open_connection("::1", listener.port)
        writer.write(f"GET /?code=c0de&state={STATE} HTTP/1.1\r\n"
                     f"Host: localhost:{listener.port}\r\n\r\n".encode())
        await writer.drain()
        assert (await reader.read()).startswith(b"HTTP/1.1 200")
        writer.close()
        return await waiting

    assert asyncio.run(scenario()) == {"code": "c0de", "state": STATE}
