"""Django integration: a middleware and view decorators protecting views with Entra tokens.

``settings.ENTRA_AUTH = {"API": "myproject.auth.api"}`` names the :class:`WebApi`;
``EntraAuthMiddleware`` authenticates requests and answers failures and downstream claims
challenges (401/403 with ``WWW-Authenticate``); ``requires_auth`` protects single views (scopes,
app roles, app-only or delegated callers). On-behalf-of goes through ``request.entra_caller.auth``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings  # type: ignore[import-untyped]
from django.core.exceptions import ImproperlyConfigured  # type: ignore[import-untyped]
from django.http import HttpRequest, HttpResponse  # type: ignore[import-untyped]
from django.utils.deprecation import MiddlewareMixin  # type: ignore[import-untyped]
from django.utils.module_loading import import_string  # type: ignore[import-untyped]

from ..errors import InteractionRequiredError
from .api import Caller, WebApi
from .decorator import current_caller
from .decorator import requires_auth as _requires_auth
from .errors import AuthResponse, InsufficientScopeError

__all__ = [
    "EntraAuthMiddleware",
    "caller_kind_error",
    "configured_api",
    "current_caller",
    "django_response",
    "requires_auth",
]

SETTING = "ENTRA_AUTH"


def _options() -> dict[str, Any]:
    options = getattr(settings, SETTING, None)
    if not isinstance(options, dict):
        raise ImproperlyConfigured(f"settings.{SETTING} must be a dict with an 'API' entry")
    return options


def configured_api() -> WebApi:
    """The :class:`WebApi` that ``settings.ENTRA_AUTH["API"]`` names.

    The entry is a ``WebApi``, a dotted path to one (looked up on every call, so a module
    attribute may be replaced), or a callable returning one.

    Raises:
        ImproperlyConfigured: The setting is missing or names no ``WebApi``.
    """
    value = _options().get("API")
    if isinstance(value, str):
        try:
            value = import_string(value)
        except ImportError as exc:
            raise ImproperlyConfigured(f"settings.{SETTING}['API']: {exc}") from None
    if not isinstance(value, WebApi) and callable(value):
        value = value()
    if not isinstance(value, WebApi):
        raise ImproperlyConfigured(f"settings.{SETTING}['API'] must name a WebApi")
    return value


def django_response(response: AuthResponse) -> HttpResponse:
    """A Django ``HttpResponse`` for a 401/403 :class:`AuthResponse`."""
    return HttpResponse(response.json_bytes(), status=response.status_code,
                        headers=dict(response.headers), content_type="application/json")


def _downstream_unavailable() -> HttpResponse:
    # A downstream failure without claims: the API's own configuration or Entra is at fault,
    # nothing the caller can do (as the FastAPI integration answers).
    return HttpResponse(b'{"error": "downstream_unavailable"}', status=502,
                        content_type="application/json")


def caller_kind_error(caller: Caller, app_only: bool | None) -> InsufficientScopeError | None:
    """The 403 for a caller of the wrong kind: ``app_only=True`` admits only application
    (client credentials) tokens, ``False`` only delegated (user) tokens, None both."""
    if app_only is None or caller.token.is_app_only == app_only:
        return None
    wanted = "an application (app-only)" if app_only else "a delegated (user)"
    return InsufficientScopeError(f"this endpoint accepts only {wanted} token")


def _request_of(args: tuple[Any, ...]) -> Any:
    # Function views get the request first; methods (method_decorator) too, after binding.
    for value in args:
        if isinstance(value, HttpRequest):
            return value
    return None


def _authorization(args: tuple[Any, ...], kwargs: Any) -> str | None:
    request = _request_of(args)
    if request is None:
        return None
    found = request.headers.get("Authorization")
    return found if isinstance(found, str) else None


def requires_auth(
    scopes: Iterable[str] | None = None,
    roles: Iterable[str] | None = None,
    *,
    app_only: bool | None = None,
    api: WebApi | None = None,
    inject: str | None = "caller",
) -> Callable[[Any], Any]:
    """Decorate a Django view (sync or ``async def``): validate the bearer token, then require
    a scope or app role and the kind of caller.

    Example::

        @requires_auth(scopes=["access_as_user"], app_only=False)
        def me(request, caller):
            return JsonResponse(requests.get(GRAPH_ME, auth=caller.auth).json())

    Failures are answered with 401/403 and ``WWW-Authenticate``; a downstream claims challenge
    the view raises (``InteractionRequiredError`` with claims) with a 401 claims challenge.
    For class-based views use ``django.utils.decorators.method_decorator``.

    Args:
        scopes: Accept tokens with any of these delegated scopes.
        roles: Accept tokens with any of these app roles.
        app_only: True: only application tokens; False: only delegated (user) tokens.
        api: The :class:`WebApi`; default :func:`configured_api` (read at the first request).
        inject: Pass the :class:`Caller` as this keyword argument when the view declares it.
            It is also ``request.entra_caller`` and :func:`current_caller`.

    Returns:
        The decorator.
    """
    import wrapt

    scope_list = list(scopes) if scopes is not None else None
    role_list = list(roles) if roles is not None else None

    def decorate(view: Any) -> Any:
        built: list[Any] = []

        def checked(target: WebApi) -> Any:
            @wrapt.decorator
            def kind_and_request(wrapped: Any, instance: Any, args: tuple[Any, ...],
                                 kwargs: Any) -> Any:
                caller = current_caller()
                error = caller_kind_error(caller, app_only)
                if error is not None:
                    response = target.error_response(error)
                    assert response is not None
                    answer = django_response(response)
                    return _returning(answer) if inspect.iscoroutinefunction(wrapped) else answer
                request = _request_of(args)
                if request is not None:
                    request.entra_caller = caller
                return wrapped(*args, **kwargs)

            return _requires_auth(
                target, scopes=scope_list, roles=role_list, authorization=_authorization,
                inject=inject, on_error=django_response,
            )(kind_and_request(view))

        def protected() -> Any:
            if not built:
                built.append(checked(api if api is not None else configured_api()))
            return built[0]

        if inspect.iscoroutinefunction(view):
            @functools.wraps(view)
            async def async_view(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await protected()(*args, **kwargs)
                except InteractionRequiredError:
                    return _downstream_unavailable()

            return async_view

        @functools.wraps(view)
        def sync_view(*args: Any, **kwargs: Any) -> Any:
            try:
                return protected()(*args, **kwargs)
            except InteractionRequiredError:  # one with claims became a 401 already
                return _downstream_unavailable()

        return sync_view

    return decorate


async def _returning(value: Any) -> Any:
    return value


class EntraAuthMiddleware(MiddlewareMixin):  # type: ignore[misc]
    """Authenticate every request but exempt paths, and answer auth failures in views.

    Configured by ``settings.ENTRA_AUTH``:

    - ``API`` (required): the :class:`WebApi` (see :func:`configured_api`);
    - ``SCOPES`` / ``ROLES``: require any of these of every request (default: a valid token);
    - ``APP_ONLY``: True/False admits only application/delegated tokens (default: both);
    - ``EXEMPT_PATHS``: paths (exact, or a prefix ending in ``/``) served without a token;
      their ``request.entra_caller`` is None;
    - ``REQUIRED``: False lets requests without an ``Authorization`` header through
      (``request.entra_caller`` None; protect views with :func:`requires_auth`). A header
      that is present must still be valid.

    A ``WebAuthError`` or a downstream claims challenge (``InteractionRequiredError`` with
    claims) raised by a view becomes its 401/403 answer; one without claims a 502.
    """

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        """Validate the request's token; answer 401/403 when it fails."""
        request.entra_caller = None
        options = _options()
        path = request.path_info
        for exempt in options.get("EXEMPT_PATHS") or ():
            if path == exempt or (exempt.endswith("/") and path.startswith(exempt)):
                return None
        header = request.headers.get("Authorization")
        if not header and options.get("REQUIRED", True) is False:
            return None
        api = configured_api()
        try:
            caller = api.authenticate(header, scopes=options.get("SCOPES"),
                                      roles=options.get("ROLES"))
            error = caller_kind_error(caller, options.get("APP_ONLY"))
            if error is not None:
                raise error
        except Exception as exc:
            response = api.error_response(exc)
            if response is None:
                raise
            return django_response(response)
        request.entra_caller = caller
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Answer an auth failure or a downstream claims challenge raised by a view."""
        response = configured_api().error_response(exception)
        if response is not None:
            return django_response(response)
        if isinstance(exception, InteractionRequiredError):
            return _downstream_unavailable()
        return None
