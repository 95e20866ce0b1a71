"""FastAPI/Starlette integration: a dependency that authenticates the caller, and error handlers.

``Depends(entra.caller(scopes=[...]))`` validates the bearer token (keys fetched without
blocking the loop) and returns a :class:`Caller`; :meth:`FastAPIEntraAuth.init_app` turns a
downstream claims challenge raised by a handler into a 401 claims challenge for the client.
The OpenAPI document declares Entra as an OAuth2 authorization-code (PKCE) scheme, so Swagger
UI's "Authorize" signs a developer in (:mod:`entra_auth.web.openapi`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from ..errors import missing_extra

try:
    from fastapi import FastAPI, HTTPException, Request
    from starlette.responses import JSONResponse, Response
except ImportError as exc:  # the fastapi extra is not installed
    raise missing_extra(__name__, "FastAPI", "fastapi", exc) from exc

from ..errors import InteractionRequiredError
from .api import Caller, WebApi
from .decorator import current_caller, requires_auth
from .errors import WebAuthError
from .openapi import EntraOpenApi, serve_swagger_ui

__all__ = ["EntraOpenApi", "FastAPIEntraAuth", "current_caller", "serve_swagger_ui"]


class FastAPIEntraAuth:
    """Entra token protection for a FastAPI (or Starlette) application.

    Example::

        entra = FastAPIEntraAuth(api, app)

        @app.get("/me")
        async def me(caller: Caller = Depends(entra.caller(scopes=["access_as_user"]))):
            async with httpx.AsyncClient(auth=caller.auth) as client:
                return (await client.get(GRAPH_ME)).json()
    """

    def __init__(
        self,
        api: WebApi,
        app: FastAPI | None = None,
        *,
        scopes: Mapping[str, str] | None = None,
        swagger_client_id: str | None = None,
        app_id_uri: str | None = None,
    ) -> None:
        """Wrap ``api``; with ``app``, also install the error handlers (:meth:`init_app`).

        Args:
            api: The protected API.
            app: The FastAPI application (or call :meth:`init_app` later).
            scopes: The API's delegated scopes for the OpenAPI security scheme, short name
                (``access_as_user``) or full (``api://<id>/access_as_user``) to description.
                Scopes named in :meth:`caller` are added too.
            swagger_client_id: The client id Swagger UI signs in with (a registration with
                a single-page-application redirect URI ``https://<host>/docs/oauth2-redirect``);
                sets ``app.swagger_ui_init_oauth`` (PKCE, the scopes pre-selected).
            app_id_uri: The API's application ID URI (default ``api://<client id>``).
        """
        self.api = api
        self.openapi = EntraOpenApi(api, scopes=scopes, swagger_client_id=swagger_client_id,
                                    app_id_uri=app_id_uri)
        self._installed = False
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any) -> None:
        """Answer :class:`WebAuthError` and downstream claims challenges with 401/403, and
        configure Swagger UI's sign-in when ``swagger_client_id`` was given."""
        app.add_exception_handler(WebAuthError, self._handle)
        app.add_exception_handler(InteractionRequiredError, self._handle)
        self.openapi.install(app)
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

        # Declared in the OpenAPI document (init_app adds the requirement to every operation
        # depending on this): the operation needs an Entra token with these scopes, which
        # Swagger UI's "Authorize" gets. Nothing is added to the per-request work.
        self.openapi.document(authenticated_caller, scope_list or [])
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
