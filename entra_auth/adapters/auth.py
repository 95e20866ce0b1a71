"""``EntraAuth``: bearer tokens from an Entra application for requests and httpx (sync and async).

Attaches tokens silently, refreshes ahead of expiry, answers Continuous Access Evaluation
claims challenges once, replaces a token a resource rejects (once per token), and falls back
to a configured device-code or browser sign-in.
Token requests go through the application's own transport, never the decorated session.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator, Callable, Generator, Mapping, Sequence
from typing import Any, Literal

import httpx
import requests
import requests.auth
from requests.cookies import extract_cookies_to_jar
from requests.utils import rewind_body

from ..errors import EntraAuthError, TransportFailure
from ..protocol.client_app import AsyncConfidentialApp, ClientApp, SyncConfidentialApp
from ..protocol.messages import NeedToken, ResponseInfo, SendWithToken
from ..transport.driver import Done, resume, start
from ._acquire import AccountSpec, Fallback, TokenSource
from ._flow import FIRST_TOKEN, challenge_flow, may_be_challenge
from ._provider import TokenProvider, default_prompt
from .policy import DestinationPolicy

__all__ = ["EntraAuth"]

_FALLBACK_METHODS = {"device": "initiate_device_flow", "interactive": "acquire_token_interactive"}


class EntraAuth(httpx.Auth, requests.auth.AuthBase):
    """Authenticate requests and httpx requests with tokens from an Entra client application.

    One object serves ``requests.Session.auth``, ``httpx.Client(auth=...)`` and
    ``httpx.AsyncClient(auth=...)`` (the last with an ``entra_auth.aio`` application, or a
    sync one whose calls then run in a worker thread).

    Example::

        app = entra_auth.PublicClientApplication(CLIENT_ID, authority=AUTHORITY)
        session = requests.Session()
        session.auth = EntraAuth(app, scopes=["User.Read"], fallback="device")
        session.get("https://graph.microsoft.com/v1.0/me")
    """

    def __init__(
        self,
        app: ClientApp,
        scopes: Sequence[str],
        *,
        account: AccountSpec = None,
        fallback: Fallback | None = None,
        prompt: Callable[[str], None] | None = None,
        allowed_hosts: Sequence[str] | None = None,
        interactive_kwargs: Mapping[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
        _source: TokenSource | None = None,
    ) -> None:
        """Wrap ``app`` to authenticate requests for ``scopes``.

        Args:
            app: A ``PublicClientApplication`` or ``ConfidentialClientApplication`` (from
                ``entra_auth``, ``entra_auth.aio`` or ``msal``).
            scopes: The scopes to request, e.g. ``["User.Read"]`` or
                ``["https://graph.microsoft.com/.default"]``.
            account: Whose token to use: an account dict from ``get_accounts()``, a username,
                or a callable returning either. Default: the single cached account for a
                public app; app-only (client credentials) tokens for a confidential app.
            fallback: What to do when no token can be had silently: ``"device"`` (device
                code; instructions go to ``prompt``), ``"interactive"`` (the system browser),
                or None to raise :class:`~entra_auth.errors.InteractionRequiredError`.
            prompt: Receives the device-code message. Default: print to stderr.
            allowed_hosts: Hosts that may receive the token (``host``, ``host:port`` or
                ``*.domain``). Default: the host of the scopes' resource.
            interactive_kwargs: Extra keyword arguments for ``acquire_token_interactive``.
            clock: Seconds since the epoch; tests pass a fake clock.

        Raises:
            TypeError: ``scopes`` is a string rather than a list.
            ValueError: No scopes, scopes Entra would refuse (a resource URL such as
                ``https://graph.microsoft.com``, ``.default`` mixed with other scopes, scopes
                of two resources: the message says what to pass), an unknown ``fallback``, a
                fallback the app can't run, or scopes from which no host can be derived (pass
                ``allowed_hosts``).
        """
        if isinstance(scopes, str):
            raise TypeError("scopes must be a list of strings, e.g. ['User.Read']")
        scope_list = [s for s in scopes if isinstance(s, str) and s.strip()]
        if not scope_list or len(scope_list) != len(list(scopes)):
            raise ValueError("scopes must be a non-empty list of non-empty strings")
        _check_scope_shape(scope_list)
        if fallback is not None:
            if fallback not in _FALLBACK_METHODS:
                raise ValueError("fallback must be 'device', 'interactive' or None")
            if not hasattr(app, _FALLBACK_METHODS[fallback]):
                raise ValueError(
                    f"fallback={fallback!r} needs a public client application "
                    f"(this app has no {_FALLBACK_METHODS[fallback]})"
                )
        if _source is None:
            confidential = hasattr(app, "acquire_token_for_client")
            kind: Literal["user", "app"] = "app" if confidential and account is None else "user"
            _source = TokenSource(
                kind,
                account=account,
                fallback=fallback,
                interactive_kwargs=dict(interactive_kwargs or {}),
            )
        self._policy = DestinationPolicy.for_scopes(scope_list, allowed_hosts)
        self._provider = TokenProvider(
            app, scope_list, _source, prompt=prompt or default_prompt, clock=clock
        )

    @classmethod
    def on_behalf_of(
        cls,
        app: SyncConfidentialApp | AsyncConfidentialApp,
        user_assertion: str,
        scopes: Sequence[str],
        *,
        allowed_hosts: Sequence[str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> EntraAuth:
        """Call a downstream API on behalf of the user whose token a web API received.

        Args:
            app: A ``ConfidentialClientApplication`` (sync or ``entra_auth.aio``).
            user_assertion: The access token the web API was called with.
            scopes: The downstream API's scopes.
            allowed_hosts: As for :class:`EntraAuth`.
            clock: As for :class:`EntraAuth`.

        Raises:
            ValueError: ``app`` is not a confidential client or the assertion is empty.
        """
        if not hasattr(app, "acquire_token_on_behalf_of"):
            raise ValueError("on-behalf-of needs a ConfidentialClientApplication")
        if not isinstance(user_assertion, str) or not user_assertion:
            raise ValueError("user_assertion must be the incoming access token (a string)")
        source = TokenSource("obo", user_assertion=user_assertion)
        return cls(app, scopes, allowed_hosts=allowed_hosts, clock=clock, _source=source)

    def __repr__(self) -> str:
        return f"EntraAuth(scopes={self._provider.scopes!r}, source={self._provider.source.kind})"

    @property
    def allowed_hosts(self) -> str:
        """The hosts that may receive tokens, as configured or derived from the scopes."""
        return self._policy.description

    def get_token(self) -> str:
        """Return the access token this adapter would attach (acquiring one if needed).

        For transports the adapter doesn't plug into (websockets, gRPC metadata...).

        Raises:
            InteractionRequiredError: No token can be had silently and no fallback is set.
            TokenRequestError: The identity provider refused the request.
            TransportFailure: The token request did not complete (its method, URL and cause
                are in the message).
            TypeError: The application is an ``entra_auth.aio`` one: use
                ``await get_token_async()``.
        """
        return self._token_sync(NeedToken())

    async def get_token_async(self) -> str:
        """The asyncio twin of :meth:`get_token` (shares acquisitions across tasks)."""
        return await self._token_async(NeedToken())

    def invalidate(self) -> None:
        """Drop the token the adapter holds (a resource refused it).

        The next acquisition bypasses the application's cached access token once: the user's
        refresh token is redeemed, or an app-only / on-behalf-of token requested anew.
        """
        self._provider.invalidate()

    # -- token acquisition, with errors mapped to entra_auth.errors ---------------------------

    def _token_sync(self, need: NeedToken, challenged: Any = None) -> str:
        try:
            return self._provider.token_sync(need.claims, need.rejected, need.force)
        except Exception as exc:
            _raise_mapped(exc, challenged)
            raise

    async def _token_async(self, need: NeedToken, challenged: Any = None) -> str:
        try:
            return await self._provider.token_async(need.claims, need.rejected, need.force)
        except Exception as exc:
            _raise_mapped(exc, challenged)
            raise

    # -- a request's first steps, inline: most requests never need the rest ----------------
    # (policy check, token, send; challenge_flow is built only on a 401)

    def _first_token_sync(self, url: str) -> str:
        self._policy.check(url)
        return self._token_sync(FIRST_TOKEN)

    async def _first_token_async(self, url: str) -> str:
        self._policy.check(url)
        return await self._token_async(FIRST_TOKEN)

    # -- requests ---------------------------------------------------------------------------

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if not isinstance(r, requests.PreparedRequest):
            raise TypeError("EntraAuth is called by requests with a PreparedRequest")
        url = r.url or ""
        token = self._first_token_sync(url)
        r.headers["Authorization"] = f"Bearer {token}"
        hook = _RequestsHook(self, url, token, _requests_replayable(r))
        r.register_hook("response", hook)  # type: ignore[no-untyped-call]
        return r

    # -- httpx ------------------------------------------------------------------------------

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        url, replayable = str(request.url), _httpx_replayable(request)
        token = self._first_token_sync(url)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if not may_be_challenge(response.status_code):
            return
        flow = challenge_flow(url, token, _httpx_info(response), replayable)
        step = start(flow)
        while not isinstance(step, Done):
            if isinstance(step, NeedToken):
                value: str | ResponseInfo = self._token_sync(step, response)
            else:
                request.headers["Authorization"] = f"Bearer {step.token}"
                response = yield request
                value = _httpx_info(response)
            step = resume(flow, value)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        url, replayable = str(request.url), _httpx_replayable(request)
        token = await self._first_token_async(url)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if not may_be_challenge(response.status_code):
            return
        flow = challenge_flow(url, token, _httpx_info(response), replayable)
        step = start(flow)
        while not isinstance(step, Done):
            if isinstance(step, NeedToken):
                value: str | ResponseInfo = await self._token_async(step, response)
            else:
                request.headers["Authorization"] = f"Bearer {step.token}"
                response = yield request
                value = _httpx_info(response)
            step = resume(flow, value)


class _RequestsHook:
    """The response hook of one request: answers a claims challenge by re-sending once."""

    def __init__(self, auth: EntraAuth, url: str, token: str, replayable: bool) -> None:
        self.auth = auth
        self.url = url
        self.token = token
        self.replayable = replayable
        self.done = False

    def __call__(self, r: requests.Response, **kwargs: Any) -> requests.Response:
        if self.done or r.is_redirect:
            # Redirects are followed by the session; the final response comes here again.
            return r
        if not may_be_challenge(r.status_code):
            self.done = True
            return r
        flow = challenge_flow(self.url, self.token, _requests_info(r), self.replayable)
        send = start(flow)
        if isinstance(send, NeedToken):
            send = resume(flow, self.auth._token_sync(send, r))
        if not isinstance(send, SendWithToken):  # Done: nothing to answer, or nothing to re-send
            self.done = True
            return r
        # Release the connection before re-sending, as requests' digest auth does.
        _ = r.content
        r.close()
        prepared = r.request.copy()
        body: object = prepared.body
        if body is not None and not isinstance(body, (bytes, str)):
            rewind_body(prepared)
        jar = prepared._cookies  # type: ignore[attr-defined]
        extract_cookies_to_jar(jar, r.request, r.raw)  # type: ignore[no-untyped-call]
        prepared.prepare_cookies(jar)
        prepared.headers["Authorization"] = f"Bearer {send.token}"
        retried: requests.Response = r.connection.send(prepared, **kwargs)
        retried.history.append(r)
        retried.request = prepared
        self.done = True
        resume(flow, _requests_info(retried))  # the flow ends: a second 401 goes to the caller
        return retried


def _requests_info(r: requests.Response) -> ResponseInfo:
    return ResponseInfo(r.status_code, r.headers.get("www-authenticate"), r.request.url or "")


def _httpx_info(response: httpx.Response) -> ResponseInfo:
    return ResponseInfo(
        response.status_code, response.headers.get_list("www-authenticate"), str(response.url)
    )


def _requests_replayable(r: requests.PreparedRequest) -> bool:
    body: object = r.body
    if body is None or isinstance(body, (bytes, str)):
        return True
    # A file-like body whose position requests recorded can be rewound; a generator can't.
    return hasattr(body, "seek") and isinstance(getattr(r, "_body_position", None), int)


def _httpx_replayable(request: httpx.Request) -> bool:
    stream = request.stream
    # In-memory content (bytes, json, form) and already-read requests are ByteStreams;
    # multipart streams seek their files back; generators raise StreamConsumed on a re-send.
    return isinstance(stream, httpx.ByteStream) or type(stream).__name__ == "MultipartStream"


def _foreign_failure(exc: Exception) -> TransportFailure:
    """A TransportFailure for what the application raised (msal lets requests' exceptions
    through): ``METHOD URL: cause`` for a recognised network failure, else only the type
    (an unknown exception's text might hold a secret)."""
    from ..transport.failures import describe, request_failure

    failure = describe(exc)
    if failure.kind == "other":
        return TransportFailure(
            "token_request_failed", f"{type(exc).__name__} while acquiring a token")
    request: Any = None
    with contextlib.suppress(Exception):  # httpx raises when an exception has no request
        request = getattr(exc, "request", None)
    method, url = getattr(request, "method", None), getattr(request, "url", None)
    if isinstance(method, str) and url is not None:
        return TransportFailure("transport_error", request_failure(method, str(url), exc))
    return TransportFailure("transport_error", f"token request failed: {failure.cause}")


def _raise_mapped(exc: Exception, challenged: Any) -> None:
    """Re-raise an acquisition failure as an entra_auth error, chained to the 401 it answered."""
    if isinstance(exc, (TypeError, ValueError)) and not isinstance(exc, EntraAuthError):
        return  # the caller's misuse: let it through as is
    error = exc
    if not isinstance(exc, EntraAuthError):
        error = _foreign_failure(exc)
    if challenged is None:
        if error is exc:
            return
        raise error from exc
    cause: Exception
    if isinstance(challenged, httpx.Response):
        cause = httpx.HTTPStatusError(
            "401 from the resource", request=challenged.request, response=challenged
        )
    else:
        cause = requests.HTTPError("401 from the resource", response=challenged)
    raise error from cause


def _check_scope_shape(scopes: list[str]) -> None:
    """Refuse, at construction, scopes Entra is sure to refuse at the first request."""
    from ..protocol.scope_shape import scope_shape_problem

    problem = scope_shape_problem(scopes)
    if problem is not None:
        raise ValueError(f"scopes {scopes!r}: {problem}")
