"""The one flow vocabulary: values exchanged between I/O-free flows and the drivers that do I/O.

A *flow* is a generator that yields messages and receives their answers; its return value is
the result. Modelled on httpx's ``Auth.auth_flow`` and on h11. The drivers are
:func:`entra_auth.transport.driver.run_sync` and :func:`~entra_auth.transport.driver.run_async`
(and, for a flow whose step must be done by someone else, ``start``/``resume`` there).

=====================  ====================================  ==================================
Message                Yielded by                            Answer sent back
=====================  ====================================  ==================================
:class:`HttpRequest`   protocol flows (grants, discovery,    :class:`HttpResponse` from the
                       managed identity, JWKS)               transport; on failure
                                                             :class:`SendError` is *thrown* in
:class:`Sleep`         retry / device-code polling flows     ``None`` after time.sleep or
                                                             asyncio.sleep
:class:`InFlight`      application flows (single-flight)     ``bool``: a shared flow for the
                                                             key is running
:class:`Shared`        application flows (single-flight)     the shared flow's result (run once
                                                             per key among concurrent callers)
:class:`AppCall`       flows over an MSAL-like application   the method's return value (sync:
                       (adapters' ``acquire_flow``, Azure    called; async: awaited, or a sync
                       credentials, interactive, CLI)        app's method run in a thread)
:class:`ShowMessage`   ``acquire_flow`` (device code)        ``None`` after the prompt callback
:class:`ForgetToken`   ``acquire_flow`` (a rejected token,   ``None`` after the token is removed
                       msal application)                     from ``app.token_cache``
:class:`NeedToken`     the adapters' ``challenge_flow``      an access token ``str`` (from the
                                                             adapter's token provider)
:class:`SendWithToken` the adapters' ``challenge_flow``      :class:`ResponseInfo` of the
                                                             response requests/httpx got
=====================  ====================================  ==================================

The drivers answer every message but the last two: ``NeedToken``/``SendWithToken`` are answered
by the requests hook and the httpx ``auth_flow``, which step the flow with
``driver.start``/``driver.resume`` because httpx's ``auth_flow`` must ``yield`` the request
itself.

:class:`SendError` is internal to flows and drivers; what a caller sees for a failed request
is the public :class:`entra_auth.errors.TransportFailure` (or an MSAL-style error dict).
"""

from __future__ import annotations

from collections.abc import Generator, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, Union

__all__ = [
    "AppCall",
    "AppFlow",
    "Flow",
    "ForgetToken",
    "HttpRequest",
    "HttpResponse",
    "InFlight",
    "NeedToken",
    "ResponseInfo",
    "SendError",
    "SendWithToken",
    "Shared",
    "ShowMessage",
    "Sleep",
    "app_call",
]

T = TypeVar("T")


# -- HTTP and time: answered by the drivers' transport and sleep ------------------------------


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


class SendError(Exception):
    """An :class:`HttpRequest` could not be completed: connection refused/reset, timeout, TLS.

    Internal: a transport raises it and the driver *throws* it into the flow, which decides
    what it means (an error dict, a retry). It never reaches a caller as is: the public
    exception for a failed request is :class:`entra_auth.errors.TransportFailure` (the
    adapters and credentials raise it; the MSAL-style methods return
    ``{"error": "transport_error"}``).

    ``kind`` is one of ``"connect"``, ``"timeout"``, ``"read"`` or ``"other"``; ``sent`` is
    True when the request may have reached the server.
    """

    def __init__(self, message: str, *, kind: str = "other", sent: bool = True) -> None:
        super().__init__(message)
        self.kind = kind
        self.sent = sent


Flow = Generator[Union[HttpRequest, Sleep], Union[HttpResponse, None], T]


# -- single-flight: answered by the drivers' flights table ------------------------------------


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


# -- calls on an MSAL-like application: answered by the drivers given ``app=`` -----------------


@dataclass(frozen=True, slots=True)
class AppCall:
    """Call ``method`` on the application and send back what it returns.

    A sync driver calls it; the async driver awaits a coroutine method and runs a sync
    application's method in a worker thread (the event loop never blocks).
    """

    method: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        # Arguments include user assertions and device flows: never show them.
        return f"AppCall({self.method})"


@dataclass(frozen=True, slots=True)
class ShowMessage:
    """Show ``text`` (device-code instructions) with the driver's prompt; ``None`` comes back."""

    text: str


@dataclass(frozen=True, slots=True)
class ForgetToken:
    """Remove this access token from the application's token cache (it was rejected).

    For msal applications, whose ``acquire_token_for_client`` can't be told to bypass their
    cache. The driver does nothing for an application without an editable ``token_cache``.
    """

    token: str

    def __repr__(self) -> str:
        return "ForgetToken(...)"


def app_call(method: str, *args: Any, **kwargs: Any) -> AppFlow[Any]:
    """A flow of one :class:`AppCall`, returning the method's result (for callers that make a
    single call, such as the CLI and interactive sign-in)."""
    return (yield AppCall(method, args, kwargs))


# -- one request through the auth adapters: answered by requests' hook / httpx's auth_flow ----


@dataclass(frozen=True, slots=True)
class NeedToken:
    """Get an access token; ``claims``/``rejected`` are set when answering a challenge.

    ``force`` asks for a token other than ``rejected`` from past the application's cached
    access token (the resource refused ``rejected`` without a claims challenge).
    """

    claims: str | None = None
    rejected: str | None = None
    force: bool = False


@dataclass(frozen=True, slots=True)
class SendWithToken:
    """Send the request again with ``Authorization: Bearer <token>``; a
    :class:`ResponseInfo` comes back."""

    token: str

    def __repr__(self) -> str:
        return "SendWithToken(...)"


@dataclass(frozen=True, slots=True)
class ResponseInfo:
    """What the adapters' challenge flow needs to know about a response."""

    status_code: int
    www_authenticate: str | Iterable[str] | None
    url: str


AppFlow = Generator[
    Union[HttpRequest, Sleep, InFlight, Shared, AppCall, ShowMessage, ForgetToken], Any, T
]
"""A flow that may yield any message the drivers answer; every :data:`Flow` is an AppFlow."""
