"""ASGI middleware (HTTP scopes): only requests with a valid Entra token reach the application.

The :class:`Caller` is put in ``scope["state"]["entra_caller"]`` (Starlette's
``request.state.entra_caller``) and ``scope["entra_auth.caller"]``; a downstream claims
challenge the application raises before its response starts becomes a 401 claims challenge.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from ..errors import InteractionRequiredError
from .api import WebApi
from .decorator import reset_current_caller, set_current_caller
from .errors import AuthResponse, WebAuthError

__all__ = ["CALLER_KEY", "EntraAsgiMiddleware"]

CALLER_KEY = "entra_auth.caller"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class EntraAsgiMiddleware:
    """Wrap an ASGI application so that every HTTP request (but ``exempt_paths``) is
    authenticated; other scope types (lifespan, websocket) pass through."""

    def __init__(
        self,
        app: AsgiApp,
        api: WebApi,
        *,
        scopes: Iterable[str] | None = None,
        roles: Iterable[str] | None = None,
        exempt_paths: Iterable[str] = (),
    ) -> None:
        """Protect ``app`` (arguments as for ``EntraWsgiMiddleware``)."""
        self.app = app
        self.api = api
        self.scopes = list(scopes) if scopes is not None else None
        self.roles = list(roles) if roles is not None else None
        self.exempt_paths = frozenset(exempt_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http" or scope.get("path", "") in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope.get("headers") or []:
            if name.lower() == b"authorization":
                header = value.decode("latin-1")
                break
        try:
            caller = await self.api.authenticate_async(
                header, scopes=self.scopes, roles=self.roles)
        except WebAuthError as exc:
            await self._deny(exc, send)
            return
        scope[CALLER_KEY] = caller
        scope.setdefault("state", {})["entra_caller"] = caller
        started = False

        async def tracking_send(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            if message.get("type") == "http.response.start":
                started = True
            await send(message)

        token = set_current_caller(caller)
        try:
            await self.app(scope, receive, tracking_send)
        except InteractionRequiredError as exc:
            if started or self.api.error_response(exc) is None:
                raise
            await self._deny(exc, send)
        finally:
            reset_current_caller(token)

    async def _deny(self, exc: Exception, send: Send) -> None:
        response = self.api.error_response(exc)
        assert response is not None
        await _send(response, send)


async def _send(response: AuthResponse, send: Send) -> None:
    body = response.json_bytes()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode("latin-1"), v.encode("latin-1"))
                for k, v in response.headers.items()]
    await send({"type": "http.response.start", "status": response.status_code,
                "headers": headers})
    await send({"type": "http.response.body", "body": body})
