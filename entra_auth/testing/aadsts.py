"""Entra-shaped OAuth 2.0 errors (RFC 6749 §5.2 plus Entra's AADSTS fields).

An endpoint raises :class:`EntraError`; the server renders it as Entra does: ``error``,
``error_description`` starting ``AADSTS<n>:``, ``error_codes``, ``timestamp``, ``trace_id``,
``correlation_id`` (echoing ``client-request-id``), ``error_uri``, and optional ``suberror``
and ``claims``.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

__all__ = ["EntraError", "error_body", "missing_parameter"]


class EntraError(Exception):
    """An error the emulator answers with, in Entra's shape.

    Args:
        status: HTTP status (400 for most, 401 for client authentication failures).
        error: The OAuth error code, e.g. ``invalid_grant``.
        code: The AADSTS number, e.g. ``70008``.
        message: Human text after ``AADSTS<code>: `` (never secrets or tokens).
        suberror: Optional Entra ``suberror`` (e.g. ``bad_token``, ``consent_required``).
        claims: Optional claims challenge JSON to return with the error.
        headers: Extra response headers (e.g. ``Retry-After``).
    """

    def __init__(
        self,
        status: int,
        error: str,
        code: int,
        message: str,
        *,
        suberror: str | None = None,
        claims: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{error}: AADSTS{code}: {message}")
        self.status = status
        self.error = error
        self.code = code
        self.message = message
        self.suberror = suberror
        self.claims = claims
        self.headers = headers or {}


def missing_parameter(name: str) -> EntraError:
    """The error Entra gives for a required request parameter that is absent or empty."""
    return EntraError(
        400, "invalid_request", 900144,
        f"The request body must contain the following parameter: '{name}'.",
    )


def error_body(
    err: EntraError, *, correlation_id: str, trace_id: str, now: float, base_url: str
) -> dict[str, Any]:
    """Render an error as Entra's JSON body."""
    stamp = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
    timestamp = stamp.strftime("%Y-%m-%d %H:%M:%SZ")
    body: dict[str, Any] = {
        "error": err.error,
        "error_description": (
            f"AADSTS{err.code}: {err.message} Trace ID: {trace_id} "
            f"Correlation ID: {correlation_id} Timestamp: {timestamp}"
        ),
        "error_codes": [err.code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"{base_url}/error?code={err.code}",
    }
    if err.suberror:
        body["suberror"] = err.suberror
    if err.claims:
        body["claims"] = err.claims
    return body


def new_trace_id() -> str:
    """A fresh trace id (Entra's ``x-ms-request-id``)."""
    return str(uuid.uuid4())
