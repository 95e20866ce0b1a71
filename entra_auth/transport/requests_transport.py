"""Sync transports: a requests.Session (the default) and MSAL's duck-typed ``http_client``.

A caller's ``verify=`` is passed on every request, because requests lets REQUESTS_CA_BUNDLE
override ``Session.verify`` but not a per-request value.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from ..protocol.messages import HttpRequest, HttpResponse, SendError
from .timeouts import MAX_RETRY_AFTER, requests_timeout

__all__ = ["HttpClientTransport", "RequestsTransport"]


def _response(raw: Any) -> HttpResponse:
    status = getattr(raw, "status_code", None)
    if not isinstance(status, int):
        raise SendError("the http_client returned a response without an int status_code",
                             kind="other")
    text = getattr(raw, "text", "")
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    headers = getattr(raw, "headers", None) or {}
    try:
        lowered = {str(k).lower(): str(v) for k, v in dict(headers).items()}
    except (TypeError, ValueError):
        lowered = {}
    return HttpResponse(status, lowered, text if isinstance(text, str) else str(text or ""))


class RequestsTransport:
    """Send requests with a ``requests.Session`` (one retry on connection errors, as MSAL)."""

    def __init__(
        self,
        session: Any = None,
        *,
        verify: Any = True,
        proxies: Mapping[str, str] | None = None,
        timeout: Any = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        """``sleep`` waits out a GET's Retry-After before its one retry (default
        ``time.sleep``); it applies to the session made here, not to a given one."""
        import requests
        from requests.adapters import HTTPAdapter

        if session is None:
            session = requests.Session()
            # One retry: connects, and idempotent GETs (never a sent POST).
            adapter = HTTPAdapter(max_retries=_bounded_retry(sleep))
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self.session = session
        self.verify = verify
        self.proxies = dict(proxies) if proxies else None
        # requests waits forever without a timeout; default to the same bounds as httpx.
        self.timeout = timeout if timeout is not None else requests_timeout()

    def send(self, request: HttpRequest) -> HttpResponse:
        """Send one request; map requests' exceptions to :class:`SendError`."""
        import requests

        try:
            raw = self.session.request(
                request.method,
                request.url,
                data=dict(request.form) if request.form is not None else None,
                headers=dict(request.headers),
                verify=self.verify,
                proxies=self.proxies,
                timeout=request.timeout if request.timeout is not None else self.timeout,
            )
        except requests.exceptions.ConnectTimeout as exc:
            raise SendError(_cause(exc, request), kind="timeout", sent=False) from None
        except requests.exceptions.Timeout as exc:
            raise SendError(_cause(exc, request), kind="timeout") from None
        except requests.exceptions.SSLError as exc:
            raise SendError(_cause(exc, request), kind="other", sent=False) from None
        except requests.exceptions.ConnectionError as exc:
            raise SendError(_cause(exc, request), kind="connect") from None
        except requests.exceptions.RequestException as exc:
            raise SendError(_cause(exc, request), kind="other") from None
        return _response(raw)

    def close(self) -> None:
        """Close the session."""
        self.session.close()




@functools.lru_cache(maxsize=1)
def _bounded_retry_class() -> Any:
    from urllib3.util.retry import Retry

    class BoundedRetry(Retry):
        """urllib3 honours Retry-After on a 429/503 GET for up to 6 hours; cap the wait."""

        # The application's sleep (a subclass per transport sets it; Retry.new() keeps the
        # class); None: time.sleep, looked up when needed.
        wait: Callable[[float], None] | None = None

        def get_retry_after(self, response: Any) -> float | None:
            seconds = super().get_retry_after(response)
            return None if seconds is None else min(float(seconds), MAX_RETRY_AFTER)

        def sleep_for_retry(self, response: Any) -> bool:
            seconds = self.get_retry_after(response)
            if not seconds:
                return False
            (type(self).wait or time.sleep)(seconds)
            return True

    return BoundedRetry


def _bounded_retry(sleep: Callable[[float], None] | None = None) -> Any:
    # As HTTPAdapter(max_retries=1) (msal's setting), but with a bounded Retry-After wait.
    retry_class = _bounded_retry_class()
    if sleep is not None:
        retry_class = type("BoundedRetry", (retry_class,), {"wait": staticmethod(sleep)})
    return retry_class(total=1, redirect=None)


def _cause(exc: BaseException, request: HttpRequest) -> str:
    # "connection refused", "certificate verification failed for HOST ...": the flow adds
    # the method and URL.
    from .failures import describe

    return describe(exc, request.url).cause


class HttpClientTransport:
    """Adapt a user's MSAL-style ``http_client`` (``.post(url, params=, data=, headers=)``)."""

    def __init__(self, http_client: Any) -> None:
        if not (callable(getattr(http_client, "post", None))
                and callable(getattr(http_client, "get", None))):
            raise ValueError("http_client must have post() and get() methods")
        self.http_client = http_client

    def send(self, request: HttpRequest) -> HttpResponse:
        """Call the client's ``get``/``post``; any exception becomes a SendError."""
        parts = urlsplit(request.url)
        url = urlunsplit(parts._replace(query=""))
        params = dict(parse_qsl(parts.query, keep_blank_values=True)) or None
        kwargs: dict[str, Any] = {}
        if request.timeout is not None:
            kwargs["timeout"] = request.timeout
        try:
            if request.method == "POST":
                raw = self.http_client.post(
                    url, params=params, data=dict(request.form or {}),
                    headers=dict(request.headers), **kwargs,
                )
            else:
                raw = self.http_client.get(url, params=params, headers=dict(request.headers),
                                           **kwargs)
        except SendError:
            raise
        except Exception as exc:  # a user's client may raise anything
            raise SendError(_cause(exc, request), kind="other") from None
        return _response(raw)


def managed_identity_transport(
    endpoint: str, server_thumbprint: str | None, verify: Any = True
) -> RequestsTransport:
    """The transport a managed-identity client sends through when given no ``http_client``.

    A plain session: the flow does the retrying (an HTTPAdapter retry would multiply it,
    urllib3 retrying 429/503 with Retry-After on its own). With a server certificate
    thumbprint (Service Fabric) and default verification, the session is pinned to that
    certificate instead of checking it against the CA bundle.
    """
    import requests

    session = requests.Session()
    if server_thumbprint and verify is True:
        from .pinned_session import pinned_session

        session = pinned_session(endpoint, server_thumbprint)
        verify = False  # the thumbprint pin checks the certificate instead
    return RequestsTransport(session, verify=verify)

