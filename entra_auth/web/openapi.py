"""OpenAPI for an Entra-protected FastAPI app: the OAuth2 scheme, and Swagger UI served locally.

The scheme is OAuth2 authorization code (with PKCE in Swagger UI) against the configured
authority's v2.0 endpoints, listing the API's scopes (``api://<id>/<scope>``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from fastapi.security import OAuth2AuthorizationCodeBearer

from .api import WebApi

__all__ = ["SCHEME_NAME", "EntraOpenApi", "serve_swagger_ui"]

SCHEME_NAME = "EntraID"

_AUTH_RESPONSES = {
    "401": "No valid bearer token (missing, malformed, expired, wrong audience or issuer), "
           "or a downstream API's claims challenge for the client (error=insufficient_claims).",
    "403": "The token lacks the required scope or app role (error=insufficient_scope).",
}
_CHALLENGE_HEADER = {"WWW-Authenticate": {
    "description": "RFC 6750 Bearer challenge naming the authorization_uri and client_id.",
    "schema": {"type": "string"},
}}


class EntraOpenApi:
    """The OpenAPI security scheme of a :class:`WebApi` and Swagger UI's OAuth settings.

    Used by :class:`~entra_auth.web.fastapi.FastAPIEntraAuth`. ``scheme`` is a FastAPI
    ``OAuth2AuthorizationCodeBearer``, but it is not a dependency: :meth:`install` adds it to
    the generated document, with a requirement on each operation that depends on a
    :meth:`document`-ed callable, so requests pay nothing for the documentation (and
    entra_auth keeps answering missing or bad tokens with its own RFC 6750 challenges).
    """

    def __init__(
        self,
        api: WebApi,
        *,
        scopes: Mapping[str, str] | None = None,
        swagger_client_id: str | None = None,
        app_id_uri: str | None = None,
    ) -> None:
        authority = api.validator.authority.rstrip("/")
        self.app_id_uri = (app_id_uri or f"api://{api.validator.client_id}").rstrip("/")
        self.swagger_client_id = swagger_client_id
        self.scheme = OAuth2AuthorizationCodeBearer(
            authorizationUrl=f"{authority}/oauth2/v2.0/authorize",
            tokenUrl=f"{authority}/oauth2/v2.0/token",
            scopes={},
            scheme_name=SCHEME_NAME,
            description="Microsoft Entra ID: sign in (authorization code with PKCE) for a "
                        "token with the API's scopes.",
            auto_error=False,
        )
        self._init_oauth: dict[str, Any] = {}
        self._documented: dict[Any, list[str]] = {}  # dependency -> its full scopes
        for name, description in (scopes or {}).items():
            self._scopes()[self.full_scope(name)] = description

    def _scopes(self) -> dict[str, str]:
        model: Any = self.scheme.model
        found: dict[str, str] = model.flows.authorizationCode.scopes
        return found

    def full_scope(self, scope: str) -> str:
        """``api://<id>/<scope>`` for a short scope name; a full one unchanged."""
        return scope if "/" in scope else f"{self.app_id_uri}/{scope}"

    def add_scopes(self, scopes: Iterable[str]) -> list[str]:
        """List ``scopes`` in the scheme (if not yet); their full names."""
        full = [self.full_scope(s) for s in scopes]
        known = self._scopes()
        for name in full:
            known.setdefault(name, "")
        if self._init_oauth:
            self._init_oauth.update(self.swagger_init_oauth())
        return full

    @property
    def scopes(self) -> list[str]:
        """Every scope the scheme lists (full names)."""
        return list(self._scopes())

    def swagger_init_oauth(self) -> dict[str, Any]:
        """Swagger UI's ``initOAuth`` settings: the client id, PKCE, the scopes pre-selected."""
        return {
            "clientId": self.swagger_client_id,
            "usePkceWithAuthorizationCodeGrant": True,
            "scopes": " ".join(self.scopes),
        }

    def document(self, dependency: Any, scopes: Iterable[str]) -> None:
        """Operations depending on ``dependency`` require the scheme with ``scopes``."""
        self._documented[dependency] = self.add_scopes(scopes)

    def requirement(self, dependant: Any) -> list[str] | None:
        """The scopes an operation's dependency tree requires, or None (not protected)."""
        found: list[str] | None = None
        pending = [dependant]
        while pending:
            current = pending.pop()
            scopes = self._documented.get(current.call)
            if scopes is not None:
                found = found or []
                found += [s for s in scopes if s not in found]
            pending.extend(current.dependencies)
        return found

    def install(self, app: Any) -> None:
        """Add the scheme and the operations' requirements to ``app``'s OpenAPI document,
        and point its Swagger UI at Entra (when a ``swagger_client_id`` was given)."""
        generate = app.openapi

        def openapi() -> dict[str, Any]:
            if app.openapi_schema:
                return app.openapi_schema  # type: ignore[no-any-return]
            schema: dict[str, Any] = generate()
            self.add_to(schema, app.routes)
            app.openapi_schema = schema
            return schema

        app.openapi = openapi
        if self.swagger_client_id is not None:
            # One dict, updated in place when caller() adds scopes: FastAPI reads it per request.
            app.swagger_ui_init_oauth = self._init_oauth
            self._init_oauth.update(self.swagger_init_oauth())

    def add_to(self, schema: dict[str, Any], routes: Iterable[Any]) -> None:
        """Add the scheme and per-operation requirements to a generated OpenAPI document."""
        from fastapi.encoders import jsonable_encoder

        paths = schema.get("paths") or {}
        used = False
        for route in routes:
            dependant = getattr(route, "dependant", None)
            operations = paths.get(getattr(route, "path_format", None)) or {}
            scopes = self.requirement(dependant) if dependant is not None else None
            if scopes is None:
                continue
            for method in getattr(route, "methods", None) or ():
                operation = operations.get(method.lower())
                if operation is None:  # include_in_schema=False, or HEAD
                    continue
                security = operation.setdefault("security", [])
                security.append({SCHEME_NAME: scopes})
                responses = operation.setdefault("responses", {})
                for status, description in _AUTH_RESPONSES.items():
                    responses.setdefault(status, {"description": description,
                                                  "headers": _CHALLENGE_HEADER})
                used = True
        if used:
            schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
            schemes[SCHEME_NAME] = jsonable_encoder(
                self.scheme.model, by_alias=True, exclude_none=True)


def serve_swagger_ui(
    app: Any,
    assets: str | Path,
    *,
    docs_url: str = "/docs",
    static_url: str = "/docs/assets",
) -> None:
    """Serve Swagger UI from local files instead of FastAPI's default CDN.

    ``assets`` is a directory holding ``swagger-ui-bundle.js`` and ``swagger-ui.css``, e.g.
    ``swagger_ui_bundle.swagger_ui_path`` (PyPI ``swagger-ui-bundle``) or npm
    ``swagger-ui-dist``'s folder. Replaces ``app``'s docs page (keeping its OAuth settings)
    and serves the OAuth2 redirect page Swagger UI's sign-in returns to.

    Raises:
        FileNotFoundError: ``assets`` has no ``swagger-ui-bundle.js``.
    """
    from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
    from starlette.requests import Request
    from starlette.responses import HTMLResponse
    from starlette.staticfiles import StaticFiles

    folder = Path(assets)
    if not (folder / "swagger-ui-bundle.js").is_file():
        raise FileNotFoundError(f"no swagger-ui-bundle.js in {folder}")
    redirect_url = app.swagger_ui_oauth2_redirect_url or f"{docs_url}/oauth2-redirect"
    app.router.routes[:] = [r for r in app.router.routes
                            if getattr(r, "path", None) not in (docs_url, redirect_url)]

    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + app.openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{static_url}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{static_url}/swagger-ui.css",
            swagger_favicon_url=f"{root}{static_url}/favicon-32x32.png",
            oauth2_redirect_url=root + redirect_url,
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    async def redirect(request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    app.add_route(docs_url, docs, include_in_schema=False)
    app.add_route(redirect_url, redirect, include_in_schema=False)
    app.mount(static_url, StaticFiles(directory=str(folder)), name="swagger-ui-assets")
