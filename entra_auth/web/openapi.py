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


class EntraOpenApi:
    """The OpenAPI security scheme of a :class:`WebApi` and Swagger UI's OAuth settings.

    Used by :class:`~entra_auth.web.fastapi.FastAPIEntraAuth`; ``scheme`` is a FastAPI
    ``OAuth2AuthorizationCodeBearer`` (``auto_error=False``: entra_auth answers a missing or
    bad token itself, with RFC 6750 challenges).
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

    def configure_swagger_ui(self, app: Any) -> None:
        """Point ``app``'s Swagger UI at Entra (when a ``swagger_client_id`` was given)."""
        if self.swagger_client_id is None:
            return
        # One dict, updated in place when caller() adds scopes: FastAPI reads it per request.
        app.swagger_ui_init_oauth = self._init_oauth
        self._init_oauth.update(self.swagger_init_oauth())


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
