"""Send one request from inside a flow, with MSAL's ``http_cache`` throttling rules.

Rules (MSAL's ThrottledHttpClient): a token POST answered 429, 5xx or with ``Retry-After`` is
replayed from the cache for min(Retry-After or 5, 3600) s; a POST answered 400 (not device-code
polling) for 60 s; a successful GET (discovery) for 24 h. Keys hash secrets, never store them.
In this process those durations run on the monotonic clock; an entry written by another process
is judged by the wall clock and dropped when stamped in the future (see :mod:`.deadlines`).
"""

from __future__ import annotations

import hashlib
from typing import Any

from . import deadlines
from .context import ClientContext, FlowError
from .messages import Flow, HttpRequest, HttpResponse, SendError

__all__ = ["send", "transport_error_result"]

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CAPACITY = 1024
RETRY_AFTER_MAX = 3600  # seconds
BAD_REQUEST_TTL = 60
DISCOVERY_TTL = 24 * 3600
FUTURE_SLACK = 5.0  # seconds of clock disagreement tolerated on another process's entry
_ACCOUNT_FIELDS = ("refresh_token", "code", "username", "user_id", "assertion", "device_code")


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _retry_after_key(request: HttpRequest) -> str:
    form = request.form or {}
    account = next((form[f] for f in _ACCOUNT_FIELDS if form.get(f)), "")
    return (
        f"POST {request.url} client_id={form.get('client_id')} "
        f"scope={form.get('scope')} hash={_hash(account)} 429/5xx/Retry-After"
    )


def _bad_request_key(request: HttpRequest) -> str:
    form = request.form or {}
    # Every field counts, client authentication included (as in MSAL): a corrected secret or
    # a rotated federated assertion is a new request, not a replay of the refused one. The
    # key holds only a hash, never the secret itself.
    return f"POST {request.url} hash={_hash(repr(sorted(form.items())))} 400"


def _get_key(request: HttpRequest) -> str:
    return f"GET {request.url} 2xx"


def retry_after_seconds(response: HttpResponse, default: int = 5) -> int:
    """Seconds to throttle per MSAL: 0 unless 429, 5xx or a Retry-After header."""
    value = response.header("retry-after")
    if not (response.status_code == 429 or response.status_code >= 500 or value is not None):
        return 0
    try:
        seconds = int(value) if value is not None else default
    except ValueError:
        seconds = default
    return max(0, min(RETRY_AFTER_MAX, seconds))


def _expired(entry: dict[str, Any], now: float, monotonic_now: float, max_ttl: float) -> bool:
    ours = deadlines.mark_expired(entry.get("monotonic"), monotonic_now)
    if ours is not None:
        return ours
    # Written by another process (a persisted http_cache) or an older version: the wall clock
    # decides, and an entry stamped in our future is dropped rather than trusted.
    expires_at = float(entry["expires_at"])
    stored_at = entry.get("stored_at")
    if stored_at is not None and float(stored_at) > now + FUTURE_SLACK:
        return True
    return expires_at <= now or expires_at - now > max_ttl + FUTURE_SLACK


def _lookup(
    ctx: ClientContext, key: str, now: float, monotonic_now: float, max_ttl: float
) -> HttpResponse | None:
    entry = ctx.http_cache.get(key)
    if not isinstance(entry, dict):
        return None
    try:
        if _expired(entry, now, monotonic_now, max_ttl):
            ctx.http_cache.pop(key, None)
            return None
        return HttpResponse(int(entry["status"]), dict(entry["headers"]), str(entry["text"]))
    except (KeyError, TypeError, ValueError):
        ctx.http_cache.pop(key, None)  # a corrupted persisted http_cache: ignore the entry
        return None


def _store(
    ctx: ClientContext, key: str, response: HttpResponse, now: float, monotonic_now: float,
    ttl: float,
) -> None:
    if ttl <= 0:
        return
    cache = ctx.http_cache
    try:
        if len(cache) >= CAPACITY:
            expired = [k for k, v in list(cache.items())
                       if not isinstance(v, dict) or float(v.get("expires_at", 0)) <= now]
            for k in expired or list(cache)[: CAPACITY // 4]:
                cache.pop(k, None)
        cache[key] = {
            "expires_at": now + ttl,
            "stored_at": now,
            "monotonic": deadlines.mark(monotonic_now, ttl),
            "status": response.status_code,
            "headers": dict(response.headers),
            "text": response.text,
        }
    except (TypeError, ValueError, RuntimeError):
        pass  # the http_cache is an optimisation; a misbehaving mapping must not fail a flow


def transport_error_result(
    request: HttpRequest, exc: SendError, correlation_id: str | None
) -> dict[str, Any]:
    """The error dict for a request that could not be completed.

    Its description names the method, the URL (without the query) and the cause, e.g.
    ``GET https://login.example/contoso/v2.0/.well-known/openid-configuration: connection
    refused``.
    """
    where = request.url.split("?", 1)[0]
    detail = str(exc)[:400] or f"{exc.kind} error"
    result: dict[str, Any] = {
        "error": "transport_error",
        "error_description": f"{request.method} {where}: {detail}",
    }
    if correlation_id:
        result["correlation_id"] = correlation_id
    return result


def send(ctx: ClientContext, request: HttpRequest, *, throttle: bool = True) -> Flow[HttpResponse]:
    """Yield ``request`` (unless a throttled answer is cached) and return the response.

    Raises:
        FlowError: the transport failed; its result is an error dict.
    """
    now, monotonic_now = ctx.clock(), ctx.monotonic_now()
    form = request.form or {}
    keys: list[tuple[str, float]] = []
    if throttle and request.method == "POST":
        keys = [(_retry_after_key(request), RETRY_AFTER_MAX)]
        if form.get("grant_type") != DEVICE_CODE_GRANT:
            keys.append((_bad_request_key(request), BAD_REQUEST_TTL))
    elif throttle and request.method == "GET":
        keys = [(_get_key(request), DISCOVERY_TTL)]
    for key, max_ttl in keys:
        cached = _lookup(ctx, key, now, monotonic_now, max_ttl)
        if cached is not None:
            return cached
    try:
        answer = yield request
    except SendError as exc:
        raise FlowError(
            transport_error_result(request, exc, request.headers.get("client-request-id"))
        ) from None
    if not isinstance(answer, HttpResponse):
        raise TypeError("the driver must send an HttpResponse for an HttpRequest")
    now, monotonic_now = ctx.clock(), ctx.monotonic_now()
    if throttle and request.method == "POST":
        ttl = retry_after_seconds(answer)
        if ttl:
            _store(ctx, keys[0][0], answer, now, monotonic_now, ttl)
        elif answer.status_code == 400 and len(keys) > 1:
            _store(ctx, keys[1][0], answer, now, monotonic_now, BAD_REQUEST_TTL)
    elif throttle and request.method == "GET" and 200 <= answer.status_code < 300:
        _store(ctx, keys[0][0], answer, now, monotonic_now, DISCOVERY_TTL)
    return answer
