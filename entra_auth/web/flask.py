"""Flask integration: protect views with a validated Entra token and on-behalf-of access.

``FlaskEntraAuth(api, app).requires_auth(scopes=[...])`` decorates a view; failures become 401/403
responses with ``WWW-Authenticate``, and a downstream claims challenge becomes a 401 claims
challenge for the caller's client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..errors import missing_extra

try:
    import flask
except ImportError as exc:  # the flask extra is not installed
    raise missing_extra(__name__, "Flask", "flask", exc) from exc

from .api import Caller, WebApi
from .decorator import current_caller, requires_auth
from .errors import AuthResponse, WebAuthError

__all__ = ["FlaskEntraAuth", "current_caller"]


def _flask_response(response: AuthResponse) -> flask.Response:
    return flask.Response(
        response.json_bytes(), status=response.status_code, headers=dict(response.headers),
        mimetype="application/json",
    )


def _authorization(args: tuple[Any, ...], kwargs: Any) -> str | None:
    return flask.request.headers.get("Authorization")


class FlaskEntraAuth:
    """Entra token protection for a Flask application.

    Example::

        entra = FlaskEntraAuth(api, app)

        @app.get("/me")
        @entra.requires_auth(scopes=["access_as_user"])
        def me(caller):
            return requests.get(GRAPH_ME, auth=caller.auth).json()
    """

    def __init__(self, api: WebApi, app: flask.Flask | None = None) -> None:
        """Wrap ``api``; with ``app``, also register the error handler (see :meth:`init_app`)."""
        self.api = api
        if app is not None:
            self.init_app(app)

    def init_app(self, app: flask.Flask) -> None:
        """Answer a :class:`WebAuthError` raised anywhere in ``app`` with its 401/403 response."""
        app.register_error_handler(WebAuthError, self._handle)

    def _handle(self, exc: WebAuthError) -> flask.Response:
        response = self.api.error_response(exc)
        assert response is not None
        return _flask_response(response)

    def requires_auth(
        self,
        scopes: Iterable[str] | None = None,
        roles: Iterable[str] | None = None,
        *,
        inject: str | None = "caller",
    ) -> Callable[[Any], Any]:
        """Decorate a view: validate the bearer token and require a scope or app role.

        Args:
            scopes: Accept tokens with any of these delegated scopes.
            roles: Accept tokens with any of these app roles.
            inject: The view receives the :class:`Caller` as this keyword argument when it
                declares it; it is also available from :func:`current_caller` and
                ``flask.g.entra_caller``.

        Returns:
            The decorator.
        """
        def remember(args: tuple[Any, ...], kwargs: Any) -> str | None:
            flask.g.pop("entra_caller", None)
            return _authorization(args, kwargs)

        decorator = requires_auth(
            self.api, scopes=scopes, roles=roles, authorization=remember, inject=inject,
            on_error=_flask_response,
        )

        def apply(view: Any) -> Any:
            return decorator(_store_in_g(view))

        return apply


def _store_in_g(view: Any) -> Any:
    import wrapt

    @wrapt.decorator
    def wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: Any) -> Any:
        caller: Caller = current_caller()
        flask.g.entra_caller = caller
        return wrapped(*args, **kwargs)

    return wrapper(view)
