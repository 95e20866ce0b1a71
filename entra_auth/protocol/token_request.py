"""Build token-endpoint POSTs the way MSAL does and parse replies robustly.

RFC 6749 sections 4-6 (token request/response), with Entra's client_info (MSAL's
``client_info=1``) and MSAL's request headers. A reply we can't understand becomes an error dict.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from .context import ClientContext, FlowError
from .id_token import IdTokenError, decode_id_token_claims
from .messages import Flow, HttpRequest, HttpResponse
from .pkce import uuid4
from .throttling import send

__all__ = [
    "error_result",
    "get_json",
    "parse_token_response",
    "post_token",
    "request_headers",
]


def request_headers(ctx: ClientContext, correlation_id: str) -> dict[str, str]:
    """MSAL's headers for a request to the identity provider."""
    headers = {
        "Accept": "application/json",
        "x-ms-lib-capability": "retry-after, h429",
        "client-request-id": correlation_id,
    }
    headers.update(ctx.telemetry_headers)
    return headers


def error_result(
    error: str, description: str, correlation_id: str | None = None, **extra: Any
) -> dict[str, Any]:
    """An MSAL-style error dict."""
    result: dict[str, Any] = {"error": error, "error_description": description}
    if correlation_id:
        result["correlation_id"] = correlation_id
    result.update(extra)
    return result


def _load_json(response: HttpResponse) -> object:
    try:
        return json.loads(response.text) if response.text.strip() else None
    except (ValueError, RecursionError):  # RecursionError: hostile, deeply nested JSON
        return None


def _describe_body(response: HttpResponse) -> str:
    text = response.text.strip()
    if not text:
        return "an empty body"
    ctype = (response.header("content-type") or "").split(";")[0].strip()
    if text.startswith("<") or "html" in ctype:
        return "an HTML page instead of JSON"
    if text[0] in "{[":
        return "malformed or truncated JSON"
    return f"a body that is not JSON (content-type {ctype or 'unknown'})"


def _http_error(response: HttpResponse, what: str, correlation_id: str | None) -> dict[str, Any]:
    status = response.status_code
    extra: dict[str, Any] = {}
    retry = response.header("retry-after")
    hint = ""
    if retry is not None:
        extra["retry_after"] = retry
        hint = f"; the server asks to retry after {retry} seconds"
    if status == 429:
        error = "too_many_requests"
    elif status >= 500:
        error = "server_error" if status != 503 else "temporarily_unavailable"
    else:
        error = "invalid_response"
    return error_result(
        error,
        f"The {what} answered HTTP {status} with {_describe_body(response)}{hint}",
        correlation_id,
        **extra,
    )


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, (str, float)):
        try:
            return int(float(value))
        except (ValueError, OverflowError):  # OverflowError: "1e999", JSON Infinity
            return None
    return None


def parse_token_response(
    response: HttpResponse, correlation_id: str | None, *, what: str = "token endpoint"
) -> dict[str, Any]:
    """Turn a token-endpoint reply into a result dict (success or MSAL-style error).

    Never raises for a malformed reply: it becomes ``{"error": ..., "error_description": ...}``.
    Success results get ``id_token_claims`` and ``token_source``.
    """
    body = _load_json(response)
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        result = dict(body)
        if not isinstance(result.get("error_description"), str):
            result["error_description"] = (
                f"The {what} answered HTTP {response.status_code} with error {body['error']!r}"
            )
        result.setdefault("correlation_id", correlation_id)
        retry = response.header("retry-after")
        if retry is not None:
            result.setdefault("retry_after", retry)
        return result
    if response.status_code >= 400 or (response.status_code >= 300 and body is None):
        return _http_error(response, what, correlation_id)
    if not isinstance(body, dict):
        if body is None:
            return _http_error(response, what, correlation_id)
        return error_result(
            "invalid_response",
            f"The {what} answered with a JSON {type(body).__name__}, not an object",
            correlation_id,
        )
    return _check_success(body, correlation_id, what)


def _check_success(body: dict[str, Any], correlation_id: str | None, what: str) -> dict[str, Any]:
    result = dict(body)
    if "error" in result:  # e.g. "error": null; callers test `"error" in result`
        return error_result(
            "invalid_response", f"The {what} sent an error that is not a string", correlation_id
        )
    if not isinstance(result.get("access_token"), str) and not isinstance(
        result.get("id_token"), str
    ):
        return error_result(
            "invalid_response",
            f"The {what} answered without an access_token or id_token",
            correlation_id,
        )
    for field in ("expires_in", "ext_expires_in", "refresh_in"):
        if field in result:
            number = _as_int(result[field])
            if number is None:
                return error_result(
                    "invalid_response", f"The {what} sent a non-numeric {field}", correlation_id
                )
            result[field] = number
    for field in ("refresh_token", "scope", "token_type", "client_info", "foci"):
        if field in result and not isinstance(result[field], str):
            return error_result(
                "invalid_response", f"The {what} sent a {field} that is not a string",
                correlation_id,
            )
    if isinstance(result.get("id_token"), str):
        try:
            result["id_token_claims"] = decode_id_token_claims(result["id_token"])
        except IdTokenError as exc:
            return error_result("invalid_response", f"The {what} sent {exc}", correlation_id)
    result["token_source"] = "identity_provider"
    return result


def post_token(
    ctx: ClientContext,
    token_endpoint: str,
    grant_type: str,
    fields: Mapping[str, str | None],
    *,
    scopes: list[str] | None,
    claims: str | None = None,
    correlation_id: str | None = None,
    authenticate: bool = True,
    throttle: bool = True,
    audience: str | None = None,
) -> Flow[tuple[dict[str, Any], dict[str, str]]]:
    """POST a token request and return (parsed result, the form that was sent).

    The form is returned so the cache event can record it (MSAL's ``data``). ``audience``
    is the client assertion's ``aud`` (the central token endpoint, also for regional calls).
    """
    correlation_id = correlation_id or uuid4(ctx.random_bytes)
    form: dict[str, str | None] = {
        "client_id": ctx.client_id,
        "grant_type": grant_type,
        "client_info": "1",
    }
    form.update(fields)
    if scopes:
        form["scope"] = " ".join(sorted(set(scopes)))
    if claims:
        form["claims"] = claims
    if authenticate and ctx.client_auth is not None:
        try:
            form.update(
                ctx.client_auth.form_fields(
                    audience or token_endpoint, ctx.clock(), uuid4(ctx.random_bytes)
                )
            )
        except FlowError:
            raise
        except Exception as exc:  # a user's assertion callable may raise anything
            raise FlowError(
                error_result(
                    "invalid_client",
                    f"Could not build the client credential: {type(exc).__name__}",
                    correlation_id,
                )
            ) from None
    clean = {k: v for k, v in form.items() if v}
    request = HttpRequest(
        "POST", token_endpoint, request_headers(ctx, correlation_id), clean, idempotent=False
    )
    response = yield from send(ctx, request, throttle=throttle)
    return parse_token_response(response, correlation_id), clean


def get_json(
    ctx: ClientContext,
    url: str,
    params: Mapping[str, str] | None = None,
    *,
    what: str,
    correlation_id: str | None = None,
) -> Flow[tuple[HttpResponse, object]]:
    """GET a JSON document (discovery, user realm); return the response and parsed body.

    The body is ``None`` when it is not JSON; transport failures raise :class:`FlowError`.
    """
    correlation_id = correlation_id or uuid4(ctx.random_bytes)
    if params:
        url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
    headers = {"Accept": "application/json", "client-request-id": correlation_id}
    headers.update(ctx.telemetry_headers)
    response = yield from send(ctx, HttpRequest("GET", url, headers, None, idempotent=True))
    return response, _load_json(response)
