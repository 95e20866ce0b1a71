"""Loopback listeners for the authorization response (RFC 8252 §7.3): blocking and asyncio.

Both bind the loopback interface only (never 0.0.0.0): 127.0.0.1 and, where IPv6 is
available, [::1] on the same port, since the redirect URI says ``localhost`` and a browser may
try ``::1`` first (another local process must not be able to hold it). They serve exactly one
result page, and close once the flow completes, fails, or times out. They only move bytes:
:mod:`.loopback_core` decides.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import selectors
import socket
import sys
import time
from collections.abc import Callable

from .loopback_core import LoopbackHandler, Reply, RequestReader, RequestTooLarge, too_large_reply

__all__ = ["LOOPBACK_HOST", "LOOPBACK_HOST_V6", "AsyncLoopbackListener", "LoopbackListener"]

LOOPBACK_HOST = "127.0.0.1"
LOOPBACK_HOST_V6 = "::1"
# IPv6 missing on this machine (no ::1, or no AF_INET6): listen on 127.0.0.1 alone.
_NO_IPV6 = frozenset({errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL, errno.EPROTONOSUPPORT})
_PORT_ATTEMPTS = 16
# Browsers open speculative connections they may never use; cap how many we keep.
_MAX_CONNECTIONS = 32
_SEND_TIMEOUT = 5.0

logger = logging.getLogger(__name__)


def _bind_error(port: int, exc: OSError) -> ValueError:
    return ValueError(f"Can't listen on localhost:{port} ({exc.strerror or exc}); "
                      "try port=None.")


def _listen(family: socket.AddressFamily, host: str, port: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if sys.platform != "win32":
            # Lets a fixed port be reused while an old connection is in TIME_WAIT. (On
            # Windows the option would let another process steal the port, so not there.)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        sock.listen(16)
    except BaseException:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def bind_loopback(port: int | None) -> list[socket.socket]:
    """Listening sockets on 127.0.0.1 and [::1] (when IPv6 is available), on one port.

    With ``port`` None or 0, a port free on both addresses is picked.

    Raises:
        ValueError: The port can't be bound on one of the addresses (in use, or privileged).
    """
    for _ in range(1 if port else _PORT_ATTEMPTS):
        try:
            v4 = _listen(socket.AF_INET, LOOPBACK_HOST, port or 0)
        except OSError as exc:
            raise _bind_error(port or 0, exc) from exc
        chosen: int = v4.getsockname()[1]
        if not socket.has_ipv6:  # pragma: no cover - Python built without IPv6
            return [v4]
        try:
            v6 = _listen(socket.AF_INET6, LOOPBACK_HOST_V6, chosen)
        except OSError as exc:
            if exc.errno in _NO_IPV6:
                return [v4]
            v4.close()
            if port:  # someone else holds [::1]:port, where a browser may connect first
                raise _bind_error(port, exc) from exc
            continue  # that ephemeral port is taken on ::1: try another one
        return [v4, v6]
    raise _bind_error(0, OSError(errno.EADDRINUSE, "no port is free on both 127.0.0.1 and ::1"))


def _redirect_uri(port: int) -> str:
    # Entra registers "http://localhost" for desktop apps and accepts any port on it.
    return f"http://localhost:{port}"


class LoopbackListener:
    """A blocking, single-use listener on ``127.0.0.1`` and ``[::1]`` (same port).

    Args:
        port: The port to bind; ``None`` or 0 picks a free ephemeral port.
        clock: Monotonic seconds that ``timeout`` is measured on (tests pass a fake one).

    Raises:
        ValueError: The port can't be bound (in use, or privileged).
    """

    def __init__(
        self, port: int | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._servers = bind_loopback(port)
        self._server = self._servers[0]  # the IPv4 socket
        self.port: int = self._server.getsockname()[1]
        self._closed = False

    @property
    def redirect_uri(self) -> str:
        """The redirect URI to put in the authorization request."""
        return _redirect_uri(self.port)

    def wait_for_auth_response(
        self, expected_state: str, timeout: float | None = None, *, path: str = "/"
    ) -> dict[str, str] | None:
        """Serve requests until one carries ``expected_state``, then close.

        Args:
            expected_state: The ``state`` of the authorization request.
            timeout: Seconds to wait; ``None`` waits indefinitely.
            path: The redirect URI's path.

        Returns:
            The authorization response parameters (``code`` or ``error``, ``state``, ...),
            or ``None`` when ``timeout`` passed first.
        """
        if self._closed:
            raise RuntimeError("This listener is closed; create a new one for each sign-in")
        handler = LoopbackHandler(self.port, expected_state, path)
        deadline = None if timeout is None else self._clock() + timeout
        selector = selectors.DefaultSelector()
        readers: dict[socket.socket, RequestReader] = {}
        try:
            for server in self._servers:
                selector.register(server, selectors.EVENT_READ)
            while True:
                remaining = None if deadline is None else deadline - self._clock()
                if remaining is not None and remaining <= 0:
                    logger.info("No authorization response arrived within the timeout")
                    return None
                for key, _ in selector.select(remaining):
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if sock in self._servers:
                        self._accept(sock, selector, readers)
                        continue
                    result = self._read(sock, readers, handler, selector)
                    if result is not None:
                        return result
        finally:
            for conn in readers:
                conn.close()
            selector.close()
            self.close()

    def _accept(
        self,
        server: socket.socket,
        selector: selectors.BaseSelector,
        readers: dict[socket.socket, RequestReader],
    ) -> None:
        try:
            conn, _ = server.accept()
        except (BlockingIOError, InterruptedError):
            return
        if len(readers) >= _MAX_CONNECTIONS:
            oldest = next(iter(readers))
            selector.unregister(oldest)
            del readers[oldest]
            oldest.close()
        conn.setblocking(False)
        readers[conn] = RequestReader()
        selector.register(conn, selectors.EVENT_READ)

    def _read(
        self,
        conn: socket.socket,
        readers: dict[socket.socket, RequestReader],
        handler: LoopbackHandler,
        selector: selectors.BaseSelector,
    ) -> dict[str, str] | None:
        try:
            data = conn.recv(65536)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            data = b""
        reply: Reply | None = None
        if data:
            try:
                request = readers[conn].feed(data)
            except RequestTooLarge:
                reply = too_large_reply()
            else:
                if request is None:
                    return None
                reply = handler.handle(request)
        selector.unregister(conn)
        readers.pop(conn)
        if reply is not None:
            _send_blocking(conn, reply.to_bytes())
        conn.close()
        return None if reply is None else reply.auth_response

    def close(self) -> None:
        """Stop listening. Safe to call more than once."""
        if not self._closed:
            self._closed = True
            for server in self._servers:
                server.close()

    def __enter__(self) -> LoopbackListener:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _send_blocking(conn: socket.socket, data: bytes) -> None:
    try:
        conn.settimeout(_SEND_TIMEOUT)
        conn.sendall(data)
        # Half-close, so the browser sees the whole page before the connection goes.
        conn.shutdown(socket.SHUT_WR)
    except OSError:
        logger.debug("The browser went away before the result page was sent")


class AsyncLoopbackListener:
    """The asyncio twin of :class:`LoopbackListener`; create it with :meth:`start`."""

    def __init__(self) -> None:
        self._servers: list[asyncio.Server] = []
        self._handler: LoopbackHandler | None = None
        self._handler_set = asyncio.Event()
        self._result: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
        self._writers: set[asyncio.StreamWriter] = set()
        self._closed = False
        self.port = 0

    @classmethod
    async def start(cls, port: int | None = None) -> AsyncLoopbackListener:
        """Bind ``127.0.0.1`` and ``[::1]`` (one port) and start accepting connections.

        Args:
            port: The port to bind; ``None`` or 0 picks a free ephemeral port.

        Raises:
            ValueError: The port can't be bound.
        """
        self = cls()
        sockets = bind_loopback(port)
        self.port = sockets[0].getsockname()[1]
        try:
            for sock in sockets:
                self._servers.append(await asyncio.start_server(self._on_client, sock=sock))
        except OSError as exc:
            for sock in sockets:
                sock.close()
            await self.aclose()
            raise _bind_error(self.port, exc) from exc
        return self

    @property
    def redirect_uri(self) -> str:
        """The redirect URI to put in the authorization request."""
        return _redirect_uri(self.port)

    async def wait_for_auth_response(
        self, expected_state: str, timeout: float | None = None, *, path: str = "/"
    ) -> dict[str, str] | None:
        """Serve requests until one carries ``expected_state``, then close.

        Same contract as :meth:`LoopbackListener.wait_for_auth_response`.
        """
        if self._closed:
            raise RuntimeError("This listener is closed; create a new one for each sign-in")
        self._handler = LoopbackHandler(self.port, expected_state, path)
        self._handler_set.set()
        try:
            return await asyncio.wait_for(asyncio.shield(self._result), timeout)
        except asyncio.TimeoutError:
            logger.info("No authorization response arrived within the timeout")
            return None
        finally:
            await self.aclose()

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._writers) >= _MAX_CONNECTIONS:
            writer.close()
            return
        self._writers.add(writer)
        try:
            reply = await self._read_request(reader)
            if reply is None:
                return
            writer.write(reply.to_bytes())
            await asyncio.wait_for(writer.drain(), _SEND_TIMEOUT)
            if writer.can_write_eof():
                writer.write_eof()
            if reply.auth_response is not None and not self._result.done():
                self._result.set_result(reply.auth_response)
        except (OSError, asyncio.TimeoutError):
            logger.debug("The browser went away before the result page was sent")
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _read_request(self, reader: asyncio.StreamReader) -> Reply | None:
        request_reader = RequestReader()
        while True:
            data = await reader.read(65536)
            if not data:
                return None
            try:
                request = request_reader.feed(data)
            except RequestTooLarge:
                return too_large_reply()
            if request is not None:
                break
        # A request can arrive between binding and learning the state: hold it until then.
        await self._handler_set.wait()
        if self._handler is None:  # closed before anyone waited for a response
            return None
        return self._handler.handle(request)

    async def aclose(self) -> None:
        """Stop listening and drop open connections. Safe to call more than once."""
        self._closed = True
        self._handler_set.set()  # release requests held until the state was known
        servers, self._servers = self._servers, []
        for server in servers:
            server.close()
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()
        if not self._result.done():
            self._result.cancel()
