"""Say why a request failed, in words a user can act on: "connection refused", "certificate
verification failed for HOST ...", "timed out waiting for the reply".

Works on requests', urllib3's, httpx's and the standard library's exceptions by walking their
causes, without importing any HTTP library. Messages hold no URL query, header or body.
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["CA_HINT", "Failure", "describe", "request_failure"]

# The library's advice for an untrusted certificate; the CLI swaps in its own option.
CA_HINT = (
    "to trust a private CA (the emulator's, a TLS-inspecting proxy's), pass its PEM file "
    "as verify='/path/to/ca.pem'"
)
_MAX_CHAIN = 24

_ERRNO_CAUSES = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset by the server",
    errno.ECONNABORTED: "connection aborted",
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ETIMEDOUT: "timed out connecting",
}


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a request failed.

    Attributes:
        kind: ``"connect"``, ``"timeout"``, ``"read"``, ``"tls"`` or ``"other"``.
        cause: A short lowercase phrase, e.g. ``"connection refused"``.
        certificate: The server's certificate could not be verified.
    """

    kind: str
    cause: str
    certificate: bool = False


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it wraps: causes, contexts, urllib3 ``reason``s, exception args."""
    seen: set[int] = set()
    todo = [exc]
    while todo and len(seen) < _MAX_CHAIN:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        reason = getattr(current, "reason", None)
        nested = [current.__cause__, current.__context__, reason, *current.args]
        todo.extend(e for e in nested if isinstance(e, BaseException))


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def describe(exc: BaseException, url: str = "") -> Failure:
    """Classify a failed request's exception.

    Args:
        exc: What the HTTP library (or a user's ``http_client``) raised.
        url: The request's URL, to name the host in a certificate failure.
    """
    host = urlsplit(url).hostname or "the server"
    chain = list(_chain(exc))
    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(e):
            detail = getattr(e, "verify_message", None) or _cert_detail(str(e))
            why = f" ({detail})" if detail else ""
            return Failure(
                "tls", f"certificate verification failed for {host}{why}; {CA_HINT}", True)
    top = _names(exc)
    if "ProxyError" in top:
        return Failure("connect", f"proxy error: {_short(chain[-1])}")
    for e in chain:
        # Exact class names: urllib3's NewConnectionError subclasses ConnectTimeoutError, and
        # requests reports urllib3's read timeout after a retry as a ConnectionError.
        name = type(e).__name__
        if name in ("ConnectTimeout", "ConnectTimeoutError"):
            return Failure("timeout", "timed out connecting")
        if name in ("ReadTimeout", "WriteTimeout", "PoolTimeout", "ReadTimeoutError"):
            return Failure("timeout", "timed out waiting for the reply")
    for e in chain:
        if isinstance(e, socket.gaierror) or "NameResolutionError" in _names(e):
            return Failure("connect", f"could not resolve host {host}")
        if isinstance(e, OSError) and e.errno in _ERRNO_CAUSES:
            kind = "read" if e.errno in (errno.ECONNRESET, errno.ECONNABORTED) else "connect"
            return Failure(kind, _ERRNO_CAUSES[e.errno])
        if isinstance(e, ConnectionRefusedError):
            return Failure("connect", "connection refused")
        if isinstance(e, ConnectionResetError):
            return Failure("read", "connection reset by the server")
        if _names(e) & {"RemoteDisconnected", "RemoteProtocolError"}:
            return Failure("read", "the server closed the connection without a reply")
        if isinstance(e, (TimeoutError, socket.timeout)):
            return Failure("timeout", "timed out")
    for e in chain:
        if isinstance(e, ssl.SSLError):
            return Failure("tls", f"TLS handshake failed: {_short(e)}")
    if "Refused" in str(exc) or "refused" in str(exc):
        return Failure("connect", "connection refused")
    if isinstance(exc, ConnectionError) or top & {"ConnectError", "ConnectionError"}:
        return Failure("connect", f"could not connect: {_short(exc)}")
    return Failure("other", _short(exc))


def request_failure(method: str, url: str, exc: BaseException) -> str:
    """``"GET https://host/path: connection refused"`` (the query string is left out)."""
    return f"{method} {url.split('?', 1)[0]}: {describe(exc, url).cause}"


def _cert_detail(text: str) -> str:
    # "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate
    # (_ssl.c:1006)" -> "self-signed certificate"
    _, _, rest = text.partition("certificate verify failed:")
    return rest.split("(_ssl.c", 1)[0].strip().rstrip("')\"").strip()


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text[:160]}" if text != type(exc).__name__ else text
