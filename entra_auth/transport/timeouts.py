"""The default time bounds of every HTTP request the library sends (sync and async alike).

A caller's ``timeout=`` (seconds, or what the HTTP library accepts) replaces them. The read
timeout bounds each wait for the server (requests and httpx apply it per socket read, not to
the whole response).
"""

from __future__ import annotations

__all__ = ["CONNECT_TIMEOUT", "MAX_RETRY_AFTER", "READ_TIMEOUT", "requests_timeout"]

CONNECT_TIMEOUT = 10.0  # seconds to open the TCP connection (TLS handshake included in httpx)
READ_TIMEOUT = 30.0  # seconds to wait for the server's next bytes
MAX_RETRY_AFTER = 5.0  # seconds: the most a GET's one retry waits for a Retry-After


def requests_timeout() -> tuple[float, float]:
    """The default as requests spells it: ``(connect, read)``."""
    return (CONNECT_TIMEOUT, READ_TIMEOUT)
