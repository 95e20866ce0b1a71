"""Errors a protected web API answers with, and their ``WWW-Authenticate`` challenges.

RFC 6750 section 3 (``invalid_request``, ``invalid_token`` -> 401, ``insufficient_scope`` -> 403)
plus Entra's claims challenge (``insufficient_claims`` with base64 ``claims``) for CAE step-up.
Descriptions never contain the token or any value taken from it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..errors import EntraAuthError, InteractionRequiredError

__all__ = [
    "AuthResponse",
    "ClaimsChallengeError",
    "InsufficientScopeError",
    "InvalidTokenError",
    "MissingTokenError",
    "WebAuthError",
    "bearer_challenge",
    "response_for",
]


def _quote(value: str) -> str:
    # A quoted-string (RFC 9110 section 5.6.4) with no control characters.
    cleaned = "".join(c for c in value if c >= " " and c != "\x7f")
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def bearer_challenge(params: Mapping[str, str | None]) -> str:
    """Build a ``Bearer`` challenge from parameters (None values are left out).

    Args:
        params: Parameter names and values in order, e.g. ``{"error": "invalid_token"}``.

    Returns:
        The header value, e.g. ``Bearer realm="", error="invalid_token"``.
    """
    parts = [f"{name}={_quote(value)}" for name, value in params.items() if value is not None]
    return "Bearer " + ", ".join(parts) if parts else "Bearer"


@dataclass(frozen=True)
class AuthResponse:
    """What a web API sends back for an authentication failure: status, headers, JSON body."""

    status_code: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, str] = field(default_factory=dict)

    def json_bytes(self) -> bytes:
        """The body serialized as JSON."""
        return json.dumps(dict(self.body)).encode()


class WebAuthError(EntraAuthError):
    """An incoming request is not authorized; :attr:`status_code` and :meth:`response` say how
    to answer it."""

    status_code = 401

    def __init__(
        self,
        error: str,
        error_description: str | None = None,
        *,
        claims: str | None = None,
        scope: Sequence[str] | None = None,
    ) -> None:
        super().__init__(error, error_description, claims=claims)
        self.scope = list(scope or [])
        self.challenge_params: dict[str, str | None] = {}

    def www_authenticate(self) -> str:
        """The ``WWW-Authenticate`` header value for this failure."""
        params: dict[str, str | None] = {"realm": ""}
        params.update(self.challenge_params)
        params["error"] = self.error
        params["error_description"] = self.error_description
        if self.scope:
            params["scope"] = " ".join(self.scope)
        return bearer_challenge(params)

    def response(self) -> AuthResponse:
        """The status, headers and JSON body to answer the request with."""
        body = {"error": self.error}
        if self.error_description:
            body["error_description"] = self.error_description
        return AuthResponse(
            self.status_code, {"WWW-Authenticate": self.www_authenticate()}, body
        )


class MissingTokenError(WebAuthError):
    """The request carried no bearer token (RFC 6750 section 3.1: the challenge has no error)."""

    def __init__(self, error_description: str = "no bearer token in the request") -> None:
        super().__init__("unauthorized", error_description)

    def www_authenticate(self) -> str:
        params: dict[str, str | None] = {"realm": ""}
        params.update(self.challenge_params)
        return bearer_challenge(params)


class InvalidTokenError(WebAuthError):
    """The bearer token is malformed, expired, badly signed, or not meant for this API (401)."""

    def __init__(self, error_description: str) -> None:
        super().__init__("invalid_token", error_description)


class InsufficientScopeError(WebAuthError):
    """The token is valid but lacks every scope or app role the endpoint accepts (403)."""

    status_code = 403

    def __init__(self, error_description: str, scope: Sequence[str] = ()) -> None:
        super().__init__("insufficient_scope", error_description, scope=scope)


class ClaimsChallengeError(WebAuthError):
    """A downstream API asked for claims that only the caller's client app can obtain (401).

    The challenge carries the claims (base64), so the client re-acquires its token with them
    and retries: how Continuous Access Evaluation and step-up cross an API tier.
    """

    def __init__(self, claims: str, error_description: str | None = None) -> None:
        super().__init__(
            "insufficient_claims",
            error_description or "the downstream API requires claims the token lacks",
            claims=claims,
        )

    def www_authenticate(self) -> str:
        params: dict[str, str | None] = {"realm": ""}
        params.update(self.challenge_params)
        params["error"] = self.error
        params["error_description"] = self.error_description
        params["claims"] = base64.b64encode((self.claims or "").encode()).decode("ascii")
        return bearer_challenge(params)

    @classmethod
    def from_downstream(cls, exc: InteractionRequiredError) -> ClaimsChallengeError | None:
        """The challenge to send upstream for a failed downstream acquisition, if it has claims."""
        if not exc.claims:
            return None
        return cls(exc.claims)


def response_for(
    exc: BaseException, challenge_params: Mapping[str, str] | None = None
) -> AuthResponse | None:
    """The response for an authentication failure, or None if ``exc`` is not one.

    Handles :class:`WebAuthError` and an :class:`InteractionRequiredError` with claims (a
    downstream claims challenge that on-behalf-of could not satisfy).

    Args:
        exc: The exception a handler or a validation raised.
        challenge_params: Extra challenge parameters (``authorization_uri``, ``client_id``).
    """
    error: WebAuthError | None = None
    if isinstance(exc, WebAuthError):
        error = exc
    elif isinstance(exc, InteractionRequiredError):
        error = ClaimsChallengeError.from_downstream(exc)
    if error is None:
        return None
    if challenge_params:
        error.challenge_params.update(challenge_params)
    return error.response()
