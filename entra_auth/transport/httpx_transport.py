"""The httpx transport for the async flow driver: ``httpx.AsyncClient`` (``entra_auth.aio``).

Maps httpx's exceptions to :class:`~entra_auth.protocol.messages.SendError` and
MSAL-style ``verify``/``proxies``/``timeout`` settings to httpx's (httpx >= 0.25). With a client
it creates, it retries as the sync transport's session does (urllib3 ``Retry(total=1)``): once,
on a connection that never reached the server (any method), and for a GET also on a read error
or timeout and on a 413/429/503 with ``Retry-After`` (waiting at most
:data:`~entra_auth.transport.timeouts.MAX_RETRY_AFTER`). A sent POST is never retried.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..protocol.messages import HttpRequest, HttpResponse, SendError
from .timeouts import CONNECT_TIMEOUT, MAX_RETRY_AFTER, READ_TIMEOUT

if TYPE_CHECKING:
    import httpx

__all__ = ["AsyncHttpxTransport"]

DEFAULT_TIMEOUT = READ_TIMEOUT  # kept for importers; see .timeouts
_RETRY_AFTER_STATUSES = frozenset({413, 429, 503})  # urllib3's RETRY_AFTER_STATUS_CODES
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


def _retry_after(raw: httpx.Response) -> float | None:
    """The seconds a 413/429/503's ``Retry-After`` asks for, bounded; None if it has none that
    urllib3 (the sync transport's retry) would read, and then there is no retry either."""
    value = raw.headers.get("retry-after")
    if raw.status_code not in _RETRY_AFTER_STATUSES or not value:
        return None
    from urllib3.exceptions import InvalidHeader  # requests' own; its rules for the header
    from urllib3.util.retry import Retry

    try:
        seconds = Retry(0).parse_retry_after(value)
    except InvalidHeader:
        return None
    return min(float(seconds), MAX_RETRY_AFTER)


def _verify(verify: Any) -> Any:
    # httpx 0.28 deprecates a CA-bundle path for verify=; hand it an SSLContext instead.
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return verify


def _client_kwargs(
    verify: Any, proxies: Mapping[str, str] | None, timeout: Any, transport_class: Any
) -> dict[str, Any]:
    import httpx

    verify = _verify(verify)
    kwargs: dict[str, Any] = {
        "verify": verify,
        "timeout": (timeout if timeout is not None
                    else httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)),
        "follow_redirects": False,
    }
    if proxies:
        # MSAL/requests style {"https": "http://proxy:3128"} -> httpx mounts per URL prefix.
        kwargs["mounts"] = {
            (scheme if scheme.endswith("://") else f"{scheme}://"): transport_class(
                proxy=url, verify=verify
            )
            for scheme, url in proxies.items()
        }
    return kwargs


def _response(raw: httpx.Response) -> HttpResponse:
    return HttpResponse(raw.status_code, {k.lower(): v for k, v in raw.headers.items()}, raw.text)


def _error(exc: Exception, url: str) -> SendError:
    import httpx

    from .failures import describe

    brief = describe(exc, url).cause  # the flow adds the method and URL
    if isinstance(exc, httpx.ConnectTimeout):
        return SendError(brief, kind="timeout", sent=False)
    if isinstance(exc, httpx.TimeoutException):
        return SendError(brief, kind="timeout")
    if isinstance(exc, httpx.ConnectError):
        return SendError(brief, kind="connect", sent=False)
    if isinstance(exc, (httpx.ReadError, httpx.RemoteProtocolError)):
        return SendError(brief, kind="read")
    return SendError(brief, kind="other")


def _send_kwargs(request: HttpRequest) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"headers": dict(request.headers)}
    if request.form is not None:
        kwargs["data"] = dict(request.form)
    if request.timeout is not None:
        kwargs["timeout"] = request.timeout
    return kwargs


class AsyncHttpxTransport:
    """Send flow requests with an ``httpx.AsyncClient`` (the caller's, or one we own)."""

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        verify: Any = True,
        proxies: Mapping[str, str] | None = None,
        timeout: Any = None,
        sleep: Callable[[float], Awaitable[Any]] | None = None,
        retry: bool = True,
    ) -> None:
        """``sleep`` waits out a GET's Retry-After before its one retry (default
        ``asyncio.sleep``). Retries apply to the client made here, not to a given one;
        ``retry=False``: none (managed identity, whose flow does its own retrying)."""
        import httpx

        self._sleep = sleep
        self._retries = 1 if client is None and retry else 0
        self.owns_client = client is None
        if client is None:
            client = httpx.AsyncClient(
                **_client_kwargs(verify, proxies, timeout, httpx.AsyncHTTPTransport)
            )
        elif not isinstance(client, httpx.AsyncClient):
            raise ValueError("http_client must be an httpx.AsyncClient for entra_auth.aio")
        self.client = client

    async def send(self, request: HttpRequest) -> HttpResponse:
        """Send one request (retried once as the module says); httpx's exceptions become
        :class:`SendError`."""
        import httpx

        retries = self._retries
        idempotent = request.method.upper() in _IDEMPOTENT
        while True:
            try:
                raw = await self.client.request(
                    request.method, request.url, **_send_kwargs(request))
            except httpx.HTTPError as exc:
                error = _error(exc, request.url)
                if retries and (not error.sent or idempotent):
                    retries -= 1
                    continue
                raise error from None
            wait = _retry_after(raw) if retries and idempotent else None
            if wait is None:
                return _response(raw)
            retries -= 1
            await (self._sleep or asyncio.sleep)(wait)

    async def aclose(self) -> None:
        """Close the client if this transport created it."""
        if self.owns_client:
            await self.client.aclose()
