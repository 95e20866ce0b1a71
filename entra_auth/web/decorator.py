"""``requires_auth``: a framework-neutral decorator protecting a handler (built with wrapt).

Works on functions, methods and ``async def`` handlers and keeps their signatures. It reads the
``Authorization`` header, validates the token, hands the handler a :class:`Caller` (keyword
argument and :func:`current_caller`), and turns a downstream claims challenge into a 401.
"""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..errors import InteractionRequiredError
from .api import Caller, WebApi
from .errors import AuthResponse, ClaimsChallengeError, WebAuthError

__all__ = ["current_caller", "find_authorization", "requires_auth"]

_current: contextvars.ContextVar[Caller | None] = contextvars.ContextVar(
    "entra_auth_caller", default=None
)

HeaderGetter = Callable[[tuple[Any, ...], Mapping[str, Any]], "str | None"]
ErrorHandler = Callable[[AuthResponse], Any]


def current_caller() -> Caller:
    """The :class:`Caller` of the request being handled (in a ``requires_auth`` handler).

    Raises:
        LookupError: Called outside a protected handler.
    """
    caller = _current.get()
    if caller is None:
        raise LookupError("no authenticated caller: not inside a requires_auth handler")
    return caller


def find_authorization(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str | None:
    """Find the ``Authorization`` header in a handler's arguments.

    Looks for a request-like argument (Starlette/FastAPI, Flask/werkzeug, requests, httpx,
    anything with a ``headers`` mapping) or a WSGI environ dict.
    """
    for value in (*args, *kwargs.values()):
        headers = getattr(value, "headers", None)
        if headers is not None and callable(getattr(headers, "get", None)):
            found = headers.get("authorization") or headers.get("Authorization")
            return found if isinstance(found, str) else None
        if isinstance(value, dict) and "wsgi.version" in value:
            found = value.get("HTTP_AUTHORIZATION")
            return found if isinstance(found, str) else None
    return None


def requires_auth(
    api: WebApi,
    *,
    scopes: Iterable[str] | None = None,
    roles: Iterable[str] | None = None,
    authorization: HeaderGetter = find_authorization,
    inject: str | None = "caller",
    on_error: ErrorHandler | None = None,
) -> Callable[[Any], Any]:
    """Protect a handler: only callers with a valid token (and a required scope/role) get in.

    Args:
        api: The protected API (validator and on-behalf-of application).
        scopes: Accept tokens with any of these delegated scopes.
        roles: Accept tokens with any of these app roles.
        authorization: Gets the ``Authorization`` header from the handler's ``(args, kwargs)``;
            default: :func:`find_authorization`.
        inject: Pass the :class:`Caller` as this keyword argument when the handler declares
            it (None: never); it is also available from :func:`current_caller`.
        on_error: Turns an :class:`AuthResponse` (401/403 with ``WWW-Authenticate``) into the
            handler's return value; default: raise the :class:`WebAuthError`.

    Returns:
        The decorator.
    """
    import wrapt

    scope_list = list(scopes) if scopes is not None else None
    role_list = list(roles) if roles is not None else None

    def fail(exc: WebAuthError) -> Any:
        if on_error is None:
            exc.challenge_params.update(api.challenge_params)
            raise exc
        response = api.error_response(exc)
        assert response is not None
        return on_error(response)

    def arguments(wrapped: Any, caller: Caller, kwargs: dict[str, Any]) -> dict[str, Any]:
        if inject and _accepts(wrapped, inject):
            return {**kwargs, inject: caller}
        return kwargs

    @wrapt.decorator
    def wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        header = authorization(args, kwargs)
        if inspect.iscoroutinefunction(wrapped):
            return _call_async(wrapped, header, args, kwargs)
        try:
            caller = api.authenticate(header, scopes=scope_list, roles=role_list)
        except WebAuthError as exc:
            return fail(exc)
        token = _current.set(caller)
        try:
            return wrapped(*args, **arguments(wrapped, caller, kwargs))
        except InteractionRequiredError as exc:
            challenge = ClaimsChallengeError.from_downstream(exc)
            if challenge is None:
                raise
            return fail(challenge)
        finally:
            _current.reset(token)

    async def _call_async(
        wrapped: Any, header: str | None, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        try:
            caller = await api.authenticate_async(header, scopes=scope_list, roles=role_list)
        except WebAuthError as exc:
            return fail(exc)
        token = _current.set(caller)
        try:
            return await wrapped(*args, **arguments(wrapped, caller, kwargs))
        except InteractionRequiredError as exc:
            challenge = ClaimsChallengeError.from_downstream(exc)
            if challenge is None:
                raise
            return fail(challenge)
        finally:
            _current.reset(token)

    return wrapper


def _accepts(function: Any, name: str) -> bool:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def set_current_caller(caller: Caller | None) -> contextvars.Token[Caller | None]:
    """Make ``caller`` the :func:`current_caller` (for framework integrations)."""
    return _current.set(caller)


def reset_current_caller(token: contextvars.Token[Caller | None]) -> None:
    """Undo :func:`set_current_caller`."""
    _current.reset(token)
