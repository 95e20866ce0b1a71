"""Managed identity tokens as I/O-free flows: every source MSAL supports.

IMDS: ``GET {host}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=...`` with
``Metadata: true``; App Service: ``GET $IDENTITY_ENDPOINT?api-version=2019-08-01`` with
``X-IDENTITY-HEADER``; Service Fabric, Cloud Shell, Azure ML and Azure Arc (its challenge-file
handshake). The sources and their requests are in :mod:`.managed_identity_sources`; this module
is the flow that sends them: bounded retries on 429/5xx/transport errors, MSAL's cache layout.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from .managed_identity_sources import (
    IdentitySource,
    ManagedIdentityError,
    ManagedIdentityUnavailableError,
    identity_params,
    token_request,
)
from .messages import Flow, HttpRequest, HttpResponse, SendError, Sleep

__all__ = [
    "CACHE_ENVIRONMENT",
    "CACHE_REALM",
    "DEFAULT_IMDS_HOST",
    "IdentitySource",
    "ManagedIdentityError",
    "ManagedIdentityUnavailableError",
    "RetryPolicy",
    "SourceState",
    "acquire_token",
    "identity_params",
    "obtain_token",
    "parse_token_response",
    "token_request",
]

DEFAULT_IMDS_HOST = "http://169.254.169.254"
IMDS_PATH = "/metadata/identity/oauth2/token"
# Where MSAL files managed identity tokens, so caches stay interchangeable with msal's.
CACHE_ENVIRONMENT = "localhost"
CACHE_REALM = "managed_identity"
EXPIRY_MARGIN = 300  # a token with under five minutes left counts as expired

_SOURCE_NAMES = {"imds": "IMDS", "app_service": "the App Service identity endpoint",
                 "service_fabric": "the Service Fabric identity endpoint",
                 "cloud_shell": "the Cloud Shell identity endpoint",
                 "machine_learning": "the Azure ML identity endpoint",
                 "azure_arc": "the Azure Arc identity endpoint"}


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff for IMDS throttling and transient failures.

    Attributes:
        max_retries: Retries after the first attempt.
        backoff: The first delay in seconds; each next one doubles.
        max_delay: Cap on any single delay, including a server's ``Retry-After``.
        probe_timeout: Timeout of the very first request of a client: a failure there means
            no managed identity endpoint is reachable, reported at once without retrying.
        timeout: Timeout of every later request.
    """

    max_retries: int = 4
    backoff: float = 0.8
    max_delay: float = 20.0
    probe_timeout: float = 5.0
    timeout: float = 30.0

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        wait = float(self.backoff * (2 ** (attempt - 1)))
        server_wait = _number(retry_after)
        if server_wait is not None:
            wait = max(wait, float(server_wait))
        return min(wait, self.max_delay)


@dataclass
class SourceState:
    """What a client has learned about its source: whether the endpoint ever answered."""

    reachable: bool = False


def _retryable(kind: str, status: int) -> bool:
    if status == 429 or 500 <= status <= 599:
        return True
    # IMDS answers 404 while an identity is being assigned and 410 while it updates.
    return kind == "imds" and status in (404, 410)


def _number(value: Any) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError, OverflowError):
        return None


def parse_token_response(response: HttpResponse, now: float) -> dict[str, Any]:
    """Turn an IMDS or App Service reply into an MSAL-style result or error dict."""
    try:
        payload = json.loads(response.text) if response.text else None
    except (ValueError, RecursionError):
        payload = None
    if not isinstance(payload, dict):
        return {"error": "invalid_response", "error_description":
                f"The managed identity endpoint answered HTTP {response.status_code} "
                "with a body that is not a JSON object."}
    token = payload.get("access_token")
    if response.status_code == 200 and isinstance(token, str) and token:
        expires_in = _number(payload.get("expires_in"))
        if expires_in is None:
            expires_on = _number(payload.get("expires_on"))
            expires_in = expires_on - int(now) if expires_on is not None else None
        if expires_in is None or expires_in <= 0:
            return {"error": "invalid_response", "error_description":
                    "The managed identity endpoint sent a token without a usable lifetime."}
        result: dict[str, Any] = {
            "access_token": token, "token_type": str(payload.get("token_type") or "Bearer"),
            "expires_in": expires_in,
        }
        if payload.get("resource"):
            result["resource"] = str(payload["resource"])
        refresh_in = _number(payload.get("refresh_in"))
        if refresh_in is None and expires_in >= 7200:
            refresh_in = expires_in // 2  # refresh long-lived tokens half-way, as MSAL
        if refresh_in is not None:
            result["refresh_in"] = refresh_in
        return result
    error = payload.get("error")
    if isinstance(error, dict):  # some hosts nest {"error": {"code", "message"}}
        description = str(error.get("message") or "")
        error = error.get("code")
    else:
        description = str(payload.get("error_description") or payload.get("message") or "")
    if not isinstance(error, str) or not error:
        error = "invalid_request" if 400 <= response.status_code < 500 else "server_error"
    out: dict[str, Any] = {
        "error": error,
        "error_description": description or f"HTTP {response.status_code} from the managed "
                                            "identity endpoint",
        "status_code": response.status_code,
    }
    retry_after = response.header("retry-after")
    if retry_after:
        out["retry_after"] = retry_after
    return out


MAX_THROTTLE = 3600  # seconds: the longest a throttled answer is replayed (as MSAL)


def _throttle_key(request: HttpRequest) -> str:
    # msal's key shape for managed identity GETs: the endpoint and a hash of the parameters
    # (resource and identity; the per-request id is a header and does not count).
    endpoint, _, query = request.url.partition("?")
    form = repr(sorted((request.form or {}).items()))  # sources that POST their parameters
    digest = hashlib.sha256(f"{query}{form}".encode()).hexdigest()
    return f"REQ {endpoint} hash={digest} 429/5xx/Retry-After"


def _throttle_seconds(response: HttpResponse) -> int:
    """msal's rule: 429, 5xx or any Retry-After is replayed for Retry-After (else 5) s."""
    value = response.header("retry-after")
    if not (response.status_code == 429 or response.status_code >= 500 or value is not None):
        return 0
    seconds = _number(value) if value is not None else 5
    return max(0, min(MAX_THROTTLE, 5 if seconds is None else seconds))


def _replay(http_cache: MutableMapping[str, Any] | None, key: str,
            now: float) -> HttpResponse | None:
    if http_cache is None:
        return None
    try:
        entry = http_cache.get(key)
        if not isinstance(entry, dict):
            return None
        if float(entry["expires_at"]) <= now:
            http_cache.pop(key, None)
            return None
        return HttpResponse(int(entry["status"]), dict(entry["headers"]), str(entry["text"]))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # a corrupted or foreign entry: ask the endpoint


def _remember(http_cache: MutableMapping[str, Any] | None, key: str, response: HttpResponse,
              now: float) -> None:
    seconds = _throttle_seconds(response)
    if http_cache is None or not seconds:
        return
    # The http_cache is an optimisation: a misbehaving mapping must not fail a flow. Entries
    # are plain data, so a pickled or JSON-persisted http_cache stays loadable.
    with contextlib.suppress(TypeError, ValueError, RuntimeError):
        http_cache[key] = {"expires_at": now + seconds, "status": response.status_code,
                           "headers": dict(response.headers), "text": response.text}


def obtain_token(
    source: IdentitySource,
    identity: Mapping[str, Any],
    resource: str,
    *,
    policy: RetryPolicy,
    state: SourceState,
    clock: Callable[[], float],
    new_request_id: Callable[[], str],
    http_cache: MutableMapping[str, Any] | None = None,
    read_arc_key: Callable[[str], str] | None = None,
) -> Flow[dict[str, Any]]:
    """Request one token, retrying throttling and transient failures within ``policy``.

    With an ``http_cache`` (msal's throttling store), a final answer that was 429, 5xx or
    carried ``Retry-After`` is remembered for that long (5 s without the header, at most an
    hour), and the same request by any client sharing the store gets it back without I/O.
    ``read_arc_key`` reads the file an Azure Arc endpoint's challenge names (the caller's
    I/O, after checking the path).

    Raises:
        ManagedIdentityUnavailableError: the endpoint could not be reached on a client's
            first request, or never answered within the retries.
        ManagedIdentityError: an Azure Arc challenge that can't be answered.
    """
    key = _throttle_key(token_request(source, identity, resource, request_id=""))
    replayed = _replay(http_cache, key, clock())
    if replayed is not None:
        return parse_token_response(replayed, clock())
    attempt = 0
    arc_secret: str | None = None
    while True:
        probing = not state.reachable
        request = token_request(source, identity, resource, request_id=new_request_id(),
                                timeout=policy.probe_timeout if probing else policy.timeout)
        if arc_secret is not None:
            request = HttpRequest(request.method, request.url,
                                  {**request.headers, "Authorization": f"Basic {arc_secret}"},
                                  request.form, request.idempotent, request.timeout)
        try:
            response = yield request
        except SendError as exc:
            if probing or attempt >= policy.max_retries:
                where = _SOURCE_NAMES.get(source.kind, "the identity endpoint")
                raise ManagedIdentityUnavailableError(
                    f"no managed identity is available: {where} at {source.endpoint} "
                    f"did not answer ({exc.kind}: {str(exc)[:120]}). Outside Azure, use "
                    "another credential (see entra_auth.from_environment)."
                ) from None
            attempt += 1
            yield Sleep(policy.delay(attempt, None))
            continue
        assert isinstance(response, HttpResponse)
        state.reachable = True
        if source.kind == "azure_arc" and response.status_code == 401 and arc_secret is None:
            from .managed_identity_sources import arc_challenge_path

            path = arc_challenge_path(response)
            if read_arc_key is None:
                raise ManagedIdentityError("an Azure Arc challenge needs a key file reader")
            arc_secret = read_arc_key(path)
            continue
        if _retryable(source.kind, response.status_code) and attempt < policy.max_retries:
            attempt += 1
            yield Sleep(policy.delay(attempt, response.header("retry-after")))
            continue
        _remember(http_cache, key, response, clock())
        return parse_token_response(response, clock())


def cache_client_id(identity: Mapping[str, Any]) -> str | None:
    """The ``client_id`` msal files this identity's tokens under.

    msal 1.39 files a system-assigned identity's tokens under a null ``client_id`` (its
    documented ``SYSTEM_ASSIGNED_MANAGED_IDENTITY`` default never applies); we do the same so
    that caches stay interchangeable.
    """
    value = identity.get("Id")
    return str(value) if value else None


def _cached_entry(cache: Any, client_id: str | None, resource: str,
                  now: float) -> Mapping[str, Any] | None:
    query = {"client_id": client_id, "environment": CACHE_ENVIRONMENT, "realm": CACHE_REALM,
             "home_account_id": None}
    best: Mapping[str, Any] | None = None
    for entry in cache.search("AccessToken", target=[resource], query=query, now=now):
        if best is None or (_number(entry.get("expires_on")) or 0) > (
                _number(best.get("expires_on")) or 0):
            best = entry
    return best


def _from_cache(entry: Mapping[str, Any], now: float) -> dict[str, Any] | None:
    expires_on = _number(entry.get("expires_on"))
    if expires_on is None or expires_on - now < EXPIRY_MARGIN:
        return None
    result: dict[str, Any] = {
        "access_token": entry.get("secret"), "token_type": entry.get("token_type", "Bearer"),
        "expires_in": int(expires_on - now), "token_source": "cache",
    }
    refresh_on = _number(entry.get("refresh_on"))
    if refresh_on is not None:
        result["refresh_on"] = refresh_on
    return result


def acquire_token(
    cache: Any,
    source: IdentitySource,
    identity: Mapping[str, Any],
    resource: str,
    *,
    claims_challenge: str | None,
    policy: RetryPolicy,
    state: SourceState,
    clock: Callable[[], float],
    new_request_id: Callable[[], str],
    http_cache: MutableMapping[str, Any] | None = None,
    read_arc_key: Callable[[str], str] | None = None,
) -> Flow[dict[str, Any]]:
    """Cache first; else (or when due for refresh, or on a claims challenge) the endpoint.

    A failed refresh of a token that is still valid returns the cached token.
    """
    client_id = cache_client_id(identity)
    now = clock()
    cached: dict[str, Any] | None = None
    entry = _cached_entry(cache, client_id, resource, now)
    if entry is not None:
        cached = _from_cache(entry, now)
    fresh = cached is not None and (cached.get("refresh_on") is None
                                    or cached["refresh_on"] > now)
    if cached is not None and fresh and not claims_challenge:
        return cached
    try:
        result = yield from obtain_token(source, identity, resource, policy=policy,
                                         state=state, clock=clock,
                                         new_request_id=new_request_id,
                                         read_arc_key=read_arc_key, http_cache=http_cache)
    except ManagedIdentityUnavailableError:
        if cached is not None and not claims_challenge:
            return cached
        raise
    if "access_token" not in result:
        return cached if cached is not None and not claims_challenge else result
    now = clock()
    cache.add({
        "client_id": client_id, "scope": [resource],
        "token_endpoint": f"https://{CACHE_ENVIRONMENT}/{CACHE_REALM}",
        "response": result, "params": {}, "data": {},
    }, now=now)
    if "refresh_in" in result:
        result["refresh_on"] = int(now + result["refresh_in"])
    result["token_source"] = "identity_provider"
    return result

