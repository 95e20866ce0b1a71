"""WSGI middleware (PEP 3333): only requests with a valid Entra token reach the application.

The :class:`Caller` is put in ``environ["entra_auth.caller"]``; a downstream claims challenge
the application raises (before it starts its response) becomes a 401 claims challenge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..errors import InteractionRequiredError
from .api import WebApi
from .decorator import reset_current_caller, set_current_caller
from .errors import AuthResponse, WebAuthError

__all__ = ["CALLER_KEY", "EntraWsgiMiddleware"]

CALLER_KEY = "entra_auth.caller"
_REASONS = {401: "401 Unauthorized", 403: "403 Forbidden"}

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class EntraWsgiMiddleware:
    """Wrap a WSGI application so that every request (but ``exempt_paths``) is authenticated."""

    def __init__(
        self,
        app: WsgiApp,
        api: WebApi,
        *,
        scopes: Iterable[str] | None = None,
        roles: Iterable[str] | None = None,
        exempt_paths: Iterable[str] = (),
    ) -> None:
        """Protect ``app``.

        Args:
            app: The WSGI application.
            api: Validates tokens and makes on-behalf-of calls.
            scopes: Accept tokens with any of these delegated scopes.
            roles: Accept tokens with any of these app roles.
            exempt_paths: Paths served without authentication (e.g. ``/health``).
        """
        self.app = app
        self.api = api
        self.scopes = list(scopes) if scopes is not None else None
        self.roles = list(roles) if roles is not None else None
        self.exempt_paths = frozenset(exempt_paths)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") in self.exempt_paths:
            return self.app(environ, start_response)
        try:
            caller = self.api.authenticate(
                environ.get("HTTP_AUTHORIZATION"), scopes=self.scopes, roles=self.roles)
        except WebAuthError as exc:
            return self._deny(exc, start_response)
        environ[CALLER_KEY] = caller
        token = set_current_caller(caller)
        try:
            # Materialize the body so that errors raised while producing it are caught here.
            return list(self.app(environ, start_response))
        except InteractionRequiredError as exc:
            if self.api.error_response(exc) is None:
                raise
            return self._deny(exc, start_response)
        finally:
            reset_current_caller(token)

    def _deny(self, exc: Exception, start_response: StartResponse) -> list[bytes]:
        response = self.api.error_response(exc)
        assert response is not None
        return _send(response, start_response)


def _send(response: AuthResponse, start_response: StartResponse) -> list[bytes]:
    body = response.json_bytes()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    headers += list(response.headers.items())
    start_response(_REASONS.get(response.status_code, str(response.status_code)), headers)
    return [body]
