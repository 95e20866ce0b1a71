"""FastAPI/Starlette integration: a dependency that authenticates the caller, and error handlers.

``Depends(entra.caller(scopes=[...]))`` validates the bearer token (keys fetched without
blocking the loop) and returns a :class:`Caller`; :meth:`FastAPIEntraAuth.init_app` turns a
downstream claims challenge raised by a handler into a 401 claims challenge for the client.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from .._extras import missing_extra

try:
    from fastapi import FastAPI, HTTPException, Request
    from starlette.responses import JSONResponse, Response
except ImportError as exc:  # the fastapi extra is not installed
    raise missing_extra(__name__, "FastAPI", "fastapi", exc) from exc

from ..errors import InteractionRequiredError
from .api import Caller, WebApi
from .decorator import current_caller, requires_auth
from .errors import WebAuthError

__all__ = ["FastAPIEntraAuth", "current_caller"]


class FastAPIEntraAuth:
    """Entra token protection for a FastAPI (or Starlette) application.

    Example::

        entra = FastAPIEntraAuth(api, app)

        @app.get("/me")
        async def me(caller: Caller = Depends(entra.caller(scopes=["access_as_user"]))):
            async with httpx.AsyncClient(auth=caller.auth) as client:
                return (await client.get(GRAPH_ME)).json()
    """

    def __init__(self, api: WebApi, app: FastAPI | None = None) -> None:
        """Wrap ``api``; with ``app``, also install the error handlers (:meth:`init_app`)."""
        self.api = api
        self._installed = False
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any) -> None:
        """Answer :class:`WebAuthError` and downstream claims challenges with 401/403."""
        app.add_exception_handler(WebAuthError, self._handle)
        app.add_exception_handler(InteractionRequiredError, self._handle)
        self._installed = True

    async def _handle(self, request: Request, exc: Exception) -> Response:
        response = self.api.error_response(exc)
        if response is None:
            # An interaction error without claims: the API's own configuration is at fault.
            return JSONResponse({"error": "downstream_unavailable"}, status_code=502)
        return JSONResponse(dict(response.body), response.status_code, dict(response.headers))

    def caller(
        self,
        scopes: Iterable[str] | None = None,
        roles: Iterable[str] | None = None,
    ) -> Callable[[Request], Awaitable[Caller]]:
        """A dependency returning the authenticated :class:`Caller` (else 401/403).

        Args:
            scopes: Accept tokens with any of these delegated scopes.
            roles: Accept tokens with any of these app roles.
        """
        scope_list = list(scopes) if scopes is not None else None
        role_list = list(roles) if roles is not None else None
        api = self.api

        async def authenticated_caller(request: Request) -> Caller:
            try:
                caller = await api.authenticate_async(
                    request.headers.get("authorization"), scopes=scope_list, roles=role_list)
            except WebAuthError as exc:
                if self._installed:
                    raise  # answered by _handle, with the plain RFC 6750 error body
                response = api.error_response(exc)
                assert response is not None
                raise HTTPException(response.status_code, detail=dict(response.body),
                                    headers=dict(response.headers)) from None
            request.state.entra_caller = caller
            return caller

        return authenticated_caller

    def requires_auth(
        self,
        scopes: Iterable[str] | None = None,
        roles: Iterable[str] | None = None,
    ) -> Callable[[Any], Any]:
        """A decorator for handlers that take a ``request: Request`` argument; the handler gets
        the caller from :func:`current_caller` (FastAPI would read a ``caller`` parameter as a
        query parameter, so nothing is injected)."""
        return requires_auth(self.api, scopes=scopes, roles=roles, inject=None)
