"""Protect web APIs with Entra ID: validate incoming tokens, call downstream APIs on-behalf-of.

Framework integrations live in :mod:`entra_auth.web.flask`, :mod:`entra_auth.web.fastapi` and
:mod:`entra_auth.web.django`; plain WSGI/ASGI middleware in :mod:`entra_auth.web.wsgi` /
:mod:`entra_auth.web.asgi`.
See docs/web-apis.md.
"""

from __future__ import annotations

from .api import Caller, WebApi, bearer_token
from .asgi import EntraAsgiMiddleware
from .decorator import current_caller, find_authorization, requires_auth
from .errors import (
    AuthResponse,
    ClaimsChallengeError,
    InsufficientScopeError,
    InvalidTokenError,
    MissingTokenError,
    WebAuthError,
)
from .keys import SigningKeys
from .validation import TokenValidator, ValidatedToken
from .wsgi import EntraWsgiMiddleware

__all__ = [
    "AuthResponse",
    "Caller",
    "ClaimsChallengeError",
    "EntraAsgiMiddleware",
    "EntraWsgiMiddleware",
    "InsufficientScopeError",
    "InvalidTokenError",
    "MissingTokenError",
    "SigningKeys",
    "TokenValidator",
    "ValidatedToken",
    "WebApi",
    "WebAuthError",
    "bearer_token",
    "current_caller",
    "find_authorization",
    "requires_auth",
]
