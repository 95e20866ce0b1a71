"""The I/O-free core of the loopback redirect listener (RFC 8252 §7.3, OAuth 2.0 Form Post).

Parses one HTTP/1.1 request from bytes, decides whether it is the authorization response we
wait for (right path, Host and ``state``), and builds the single result page. The sync and the
asyncio listeners in :mod:`.listener` only move bytes; every decision is made here.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_HEAD_BYTES",
    "LoopbackHandler",
    "ParsedRequest",
    "Reply",
    "RequestReader",
    "RequestTooLarge",
    "too_large_reply",
]

MAX_HEAD_BYTES = 16 * 1024
MAX_BODY_BYTES = 64 * 1024
# An error_description is shown on the page; a longer one is cut so the page stays small.
_MAX_SHOWN_DESCRIPTION = 500


class RequestTooLarge(ValueError):
    """The request head or body exceeds the listener's limits, or is not well-formed HTTP."""


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    """One HTTP request as the listener sees it. Header names are lowercased."""

    method: str
    target: str
    headers: Mapping[str, str]
    body: bytes = b""

    def __repr__(self) -> str:
        # The target and body carry the authorization code: never show them.
        return f"ParsedRequest({self.method})"


@dataclass(frozen=True, slots=True)
class Reply:
    """What to send back, and the authorization response when this request completes the flow.

    ``auth_response`` is ``None`` for a rejected request: the listener keeps waiting.
    """

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    auth_response: dict[str, str] | None = None

    def to_bytes(self) -> bytes:
        """Serialize as an HTTP/1.1 response that closes the connection."""
        reason = _REASONS.get(self.status, "Error")
        lines = [f"HTTP/1.1 {self.status} {reason}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + self.body

    def __repr__(self) -> str:
        return f"Reply({self.status}, completes={self.auth_response is not None})"


_REASONS = {200: "OK", 400: "Bad Request", 405: "Method Not Allowed", 413: "Content Too Large"}

_SECURITY_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    # The page has no script, style sheet, image or frame of its own: forbid them all.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Connection": "close",
}


class RequestReader:
    """Accumulate bytes from one connection until a whole request has arrived.

    Only ``Content-Length`` bodies are accepted (browsers send form posts that way);
    a chunked or oversized request raises :class:`RequestTooLarge`.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._head: tuple[str, str, dict[str, str]] | None = None
        self._body_length = 0

    def feed(self, data: bytes) -> ParsedRequest | None:
        """Add received bytes; return the request once it is complete, else ``None``.

        Raises:
            RequestTooLarge: The request is malformed or over the size limits.
        """
        self._buffer += data
        if self._head is None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_HEAD_BYTES:
                    raise RequestTooLarge("request head too large")
                return None
            if end > MAX_HEAD_BYTES:
                raise RequestTooLarge("request head too large")
            self._head = _parse_head(bytes(self._buffer[:end]))
            del self._buffer[: end + 4]
            self._body_length = _body_length(self._head[2])
        if len(self._buffer) < self._body_length:
            return None
        method, target, headers = self._head
        return ParsedRequest(method, target, headers, bytes(self._buffer[: self._body_length]))


def _parse_head(raw: bytes) -> tuple[str, str, dict[str, str]]:
    try:
        text = raw.decode("iso-8859-1")
    except UnicodeDecodeError as exc:  # pragma: no cover - latin-1 decodes every byte
        raise RequestTooLarge("request head is not text") from exc
    request_line, *header_lines = text.split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise RequestTooLarge("malformed request line")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise RequestTooLarge("malformed header line")
        key = name.lower()
        if key in headers and key in ("content-length", "host"):
            raise RequestTooLarge("duplicate header")
        headers[key] = value.strip()
    return parts[0], parts[1], headers


def _body_length(headers: Mapping[str, str]) -> int:
    if "transfer-encoding" in headers:
        raise RequestTooLarge("chunked requests are not accepted")
    raw = headers.get("content-length", "0")
    if not raw.isdigit():
        raise RequestTooLarge("bad Content-Length")
    length = int(raw)
    if length > MAX_BODY_BYTES:
        raise RequestTooLarge("request body too large")
    return length


class LoopbackHandler:
    """Decide what one request to the redirect URI means.

    Args:
        port: The port the listener is bound to; the ``Host`` header must name it
            (a request for another host name is a DNS-rebinding attempt).
        expected_state: The ``state`` sent in the authorization request. Only a request
            carrying it completes the flow.
        path: The redirect URI's path.
    """

    def __init__(self, port: int, expected_state: str, path: str = "/") -> None:
        if not expected_state:
            raise ValueError("expected_state must be a non-empty string")
        self.port = port
        self.expected_state = expected_state
        self.path = path
        self.completed = False
        self._allowed_hosts = {
            f"localhost:{port}",
            f"127.0.0.1:{port}",
            f"[::1]:{port}",
        }

    def handle(self, request: ParsedRequest) -> Reply:
        """Return the reply to send, with ``auth_response`` set when the flow completes."""
        reply = self._decide(request)
        if reply.auth_response is not None:
            if self.completed:
                return _reject("This sign-in has already completed.")
            self.completed = True
        return reply

    def _decide(self, request: ParsedRequest) -> Reply:
        if request.headers.get("host", "").lower() not in self._allowed_hosts:
            return _reject("This address does not accept the request.")
        split = urlsplit(request.target)
        if split.path != self.path:
            return _reject("This address does not accept the request.")
        if request.method == "POST":
            content_type = request.headers.get("content-type", "").split(";")[0].strip()
            if content_type.lower() != "application/x-www-form-urlencoded":
                return _reject("The sign-in response was not a form post.")
            params = _parse_params(request.body.decode("utf-8", "replace"))
        elif request.method == "GET":
            params = _parse_params(split.query)
        else:
            return _reject("This address does not accept the request.", status=405)
        if params is None:
            return _reject("The sign-in response could not be read.")
        if params.get("state") != self.expected_state:
            # A forged or stale response: refuse it and keep waiting for the real one.
            return _reject("The sign-in response does not belong to this sign-in.")
        if "error" in params:
            return Reply(200, _error_page(params), _SECURITY_HEADERS, params)
        if params.get("code"):
            return Reply(200, _success_page(), _SECURITY_HEADERS, params)
        return _reject("The sign-in response carries neither a result nor an error.")


def _parse_params(encoded: str) -> dict[str, str] | None:
    try:
        pairs = parse_qsl(encoded, keep_blank_values=True, strict_parsing=False)
    except ValueError:
        return None
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            # A repeated parameter is ambiguous (which state? which code?): refuse it.
            return None
        params[name] = value
    return params


def _page(title: str, message: str, detail: str = "") -> bytes:
    body = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:3em auto;max-width:36em}</style>"
        f"</head><body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>{detail}"
        "</body></html>\n"
    )
    return body.encode("utf-8")


def _success_page() -> bytes:
    return _page(
        "Sign-in complete",
        "Authentication completed. You can close this window and return to the application.",
    )


def _error_page(params: Mapping[str, str]) -> bytes:
    error = params.get("error", "")
    description = params.get("error_description", "")
    if len(description) > _MAX_SHOWN_DESCRIPTION:
        description = description[:_MAX_SHOWN_DESCRIPTION] + "…"
    detail = f"<p>Error: <code id=\"error\">{html.escape(error)}</code></p>"
    if description:
        detail += f"<p id=\"error_description\">{html.escape(description)}</p>"
    return _page(
        "Sign-in failed",
        "The sign-in did not complete. You can close this window and return to the application.",
        detail,
    )


def _reject(message: str, status: int = 400) -> Reply:
    return Reply(status, _page("Request rejected", message), _SECURITY_HEADERS)


def too_large_reply() -> Reply:
    """The reply for a request :class:`RequestReader` refused."""
    return _reject("The request is malformed or too large.", status=400)
