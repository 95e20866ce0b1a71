"""Device authorization grant: request a user code, then poll the token endpoint.

RFC 8628 sections 3.1-3.5 (``authorization_pending``, ``slow_down`` adds 5 s). The caller aborts
a poll by setting ``flow["expires_at"] = 0``; the poll notices within a second.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any

from .. import deadlines
from ..claims import merge_claims
from ..context import ClientContext
from ..discovery import AuthorityMetadata
from ..messages import Flow, HttpRequest, Sleep
from ..pkce import uuid4
from ..throttling import send
from ..token_request import error_result, parse_token_response, request_headers
from .common import obtain

__all__ = ["DEVICE_CODE_GRANT", "initiate", "poll"]

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
RETRIABLE = ("authorization_pending", "slow_down")
DEFAULT_INTERVAL = 5
DEFAULT_EXPIRES_IN = 1800


def _device_endpoint(metadata: AuthorityMetadata) -> str:
    if metadata.device_authorization_endpoint:
        return metadata.device_authorization_endpoint
    # Entra's discovery document omits it for some clouds; the path is fixed.
    return metadata.token_endpoint.rsplit("/token", 1)[0] + "/devicecode"


def initiate(
    ctx: ClientContext,
    metadata: AuthorityMetadata,
    scopes: list[str],
    *,
    claims_challenge: str | None = None,
    extra: dict[str, str] | None = None,
) -> Flow[dict[str, Any]]:
    """POST the device authorization request; return MSAL's flow dict (or an error dict)."""
    correlation_id = uuid4(ctx.random_bytes)
    form: dict[str, str | None] = {"client_id": ctx.client_id, "scope": " ".join(sorted(scopes))}
    form["claims"] = merge_claims(claims_challenge, ctx.client_capabilities)
    form.update(extra or {})
    request = HttpRequest(
        "POST",
        _device_endpoint(metadata),
        request_headers(ctx, correlation_id),
        {k: v for k, v in form.items() if v},
    )
    response = yield from send(ctx, request)
    try:
        body = json.loads(response.text)
    except (ValueError, RecursionError):
        body = None
    if not (isinstance(body, dict) and isinstance(body.get("user_code"), str)
            and isinstance(body.get("device_code"), str)):
        result = parse_token_response(response, correlation_id, what="device code endpoint")
        if "error" not in result:
            result = error_result(
                "invalid_response",
                "The device code endpoint answered without a user_code and device_code",
                correlation_id,
            )
        return result
    flow = dict(body)
    flow["interval"] = _positive_int(body.get("interval"), DEFAULT_INTERVAL)
    expires_in = _positive_int(body.get("expires_in"), DEFAULT_EXPIRES_IN)
    flow["expires_in"] = expires_in
    flow["expires_at"] = ctx.clock() + expires_in
    # The poll's real bound: monotonic, so a wall-clock step neither ends a valid poll nor
    # stretches an expired one. Tied to the expires_at value, so a caller's edit still wins.
    flow["_deadline"] = [flow["expires_at"], deadlines.mark(ctx.monotonic_now(), expires_in)]
    if not isinstance(body.get("message"), str) or not body["message"].strip():
        where = body.get("verification_uri") or body.get("verification_url") or "the sign-in page"
        flow["message"] = (
            f"To sign in, use a web browser to open the page {where} and enter the code "
            f"{body['user_code']} to authenticate."
        )
    flow.setdefault("scope", list(scopes))
    flow["_correlation_id"] = correlation_id
    flow["claims_challenge"] = claims_challenge
    return flow


def _positive_int(value: object, default: int) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, (int, float, str)):
        try:
            number = int(float(value))
        except (ValueError, OverflowError):
            return default
        return number if number >= 0 else default
    return default


def poll(
    ctx: ClientContext,
    metadata: AuthorityMetadata,
    flow: MutableMapping[str, Any],
    *,
    claims_challenge: str | None = None,
) -> Flow[dict[str, Any]]:
    """Poll until the user finishes, the code expires, or the caller zeroes ``expires_at``.

    Raises:
        ValueError: ``flow`` is not a device flow dict (no ``device_code``).
    """
    if not isinstance(flow, MutableMapping) or not isinstance(flow.get("device_code"), str):
        raise ValueError('flow must be the dict returned by initiate_device_flow() '
                         '(it needs a "device_code"); check "user_code" in it first')
    raw_scope = flow.get("scope")
    scopes = (list(raw_scope) if isinstance(raw_scope, list)
              else str(raw_scope or "").split())
    claims = merge_claims(claims_challenge or flow.get("claims_challenge"),
                          ctx.client_capabilities)
    correlation_id = flow.get("_correlation_id")
    while True:
        result = yield from obtain(
            ctx,
            metadata,
            DEVICE_CODE_GRANT,
            {"device_code": flow["device_code"]},
            scopes=None,
            event_scopes=scopes,
            claims=claims,
            correlation_id=correlation_id if isinstance(correlation_id, str) else None,
        )
        error = result.get("error")
        if error not in RETRIABLE:
            return result
        if error == "slow_down":
            flow["interval"] = _seconds(flow.get("interval"), DEFAULT_INTERVAL) + 5
        waited = 0.0
        interval = _seconds(flow.get("interval"), DEFAULT_INTERVAL)
        while True:
            if _expired(ctx, flow):
                return result
            if waited >= interval:
                break
            step = min(1.0, interval - waited)
            yield Sleep(step)
            waited += step


def _seconds(value: object, default: float) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return float(_positive_int(value, int(default)))


def _expired(ctx: ClientContext, flow: MutableMapping[str, Any]) -> bool:
    expires_at = flow.get("expires_at", 0)
    if not isinstance(expires_at, (int, float)) or isinstance(expires_at, bool):
        return True
    deadline = flow.get("_deadline")
    if isinstance(deadline, (list, tuple)) and len(deadline) == 2 and deadline[0] == expires_at:
        ours = deadlines.mark_expired(deadline[1], ctx.monotonic_now())
        if ours is not None:
            return ours
    # The caller changed expires_at (0 aborts, as in MSAL), or the flow came from elsewhere.
    return bool(expires_at < ctx.clock())
