"""Values exchanged between the I/O-free protocol core and the drivers that do the I/O.

A *flow* is a generator that yields :class:`HttpRequest` or :class:`Sleep` values and receives
an :class:`HttpResponse` (for a request) or ``None`` (for a sleep). A transport failure is thrown
into the flow as :class:`TransportError`, so the flow decides what it means (error dict, retry).
The flow's return value is the result. Modelled on httpx's ``Auth.auth_flow`` and on h11.
An application-level flow (:data:`AppFlow`) may also yield :class:`InFlight` and :class:`Shared`
to share one token request among concurrent callers (single-flight, run by the driver).
"""

from __future__ import annotations

from collections.abc import Generator, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, Union

__all__ = [
    "AppFlow",
    "Flow",
    "HttpRequest",
    "HttpResponse",
    "InFlight",
    "Shared",
    "Sleep",
    "TransportError",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One HTTP request a flow wants sent.

    ``url`` is absolute with any query string already encoded. ``form`` is an
    ``application/x-www-form-urlencoded`` body (``None`` for a request without a body).
    ``idempotent`` tells a driver whether it may retry the request on a read error
    (token POSTs are not: a code or refresh token may already have been redeemed).
    ``timeout`` (seconds) overrides the transport's default for this request (IMDS probes).
    """

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] | None = None
    idempotent: bool = False
    timeout: float | None = None

    def __repr__(self) -> str:
        # Never show the form: it carries secrets, codes and refresh tokens.
        return f"HttpRequest({self.method} {self.url.split('?', 1)[0]})"


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """One HTTP response handed back to a flow. Header names are lowercased."""

    status_code: int
    headers: Mapping[str, str] = field(default_factory=dict)
    text: str = ""

    def header(self, name: str, default: str | None = None) -> str | None:
        """Return a header value by case-insensitive name."""
        return self.headers.get(name.lower(), default)

    def __repr__(self) -> str:
        return f"HttpResponse({self.status_code})"


@dataclass(frozen=True, slots=True)
class Sleep:
    """Ask the driver to wait ``seconds`` (time.sleep or asyncio.sleep) and then send ``None``."""

    seconds: float


class TransportError(Exception):
    """A request could not be completed: connection refused/reset, timeout, TLS failure.

    Thrown into the flow by the driver. ``kind`` is one of ``"connect"``, ``"timeout"``,
    ``"read"`` or ``"other"``; ``sent`` is True when the request may have reached the server.
    """

    def __init__(self, message: str, *, kind: str = "other", sent: bool = True) -> None:
        super().__init__(message)
        self.kind = kind
        self.sent = sent


Flow = Generator[Union[HttpRequest, Sleep], Union[HttpResponse, None], T]


@dataclass(frozen=True, slots=True)
class InFlight:
    """Ask the driver whether a :class:`Shared` flow for ``key`` is running; it sends a bool."""

    key: Hashable


@dataclass(frozen=True, slots=True)
class Shared:
    """Ask the driver to run ``flow`` once per ``key`` among concurrent callers.

    The driver sends back the flow's result (a follower gets a shallow copy of a dict), or
    raises what it raised. The flow should end errors as values (see ``app_flows.guard``).
    """

    key: Hashable
    flow: AppFlow[Any]


# A flow that may also ask for single-flight sharing; every Flow is an AppFlow.
AppFlow = Generator[Union[HttpRequest, Sleep, InFlight, Shared], Any, T]
