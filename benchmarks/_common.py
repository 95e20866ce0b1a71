"""Shared pieces of the side-by-side benchmarks: timing, canned Entra replies, cache documents.

Both libraries get the same inputs: one serialized MSAL-schema cache deserialized into each,
and one in-process ``http_client`` that answers discovery and token requests with canned
JSON (no network). Times are medians of interleaved rounds, measured in one process.
"""

from __future__ import annotations

import base64
import gc
import json
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
HOST = "login.microsoftonline.com"
AUTHORITY = f"https://{HOST}/{TENANT}"
TOKEN_ENDPOINT = f"{AUTHORITY}/oauth2/v2.0/token"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "bench-secret"
SCOPES = ["User.Read"]
# What Entra records for a Graph user token asked for with SCOPES: the reserved OIDC scopes
# come back in the reply's "scope", so the cached target is a superset of the request.
GRAPH_TARGET = "User.Read email openid profile"
APP_SCOPES = ["https://graph.microsoft.com/.default"]
# Both libraries read the wall clock (no fixed "now"), so caches are built relative to it.
HOUR = 3600


# -- timing -------------------------------------------------------------------------------

@dataclass
class Timing:
    """Median seconds per call of one contender, with the samples behind it."""

    median: float
    samples: list[float] = field(default_factory=list)


Clock = Callable[[], float]
# CPU time of this process: on a machine shared with other jobs, being descheduled does not
# count, so single-threaded in-process measurements stay comparable from run to run.
CPU_TIME: Clock = time.process_time
WALL_TIME: Clock = time.perf_counter


def _batch_time(fn: Callable[[], object], calls: int, clock: Clock) -> float:
    start = clock()
    for _ in range(calls):
        fn()
    return clock() - start


def calls_per_batch(fn: Callable[[], object], min_batch_s: float, max_calls: int = 1 << 16,
                    clock: Clock = CPU_TIME) -> int:
    """How many calls of ``fn`` make a batch of at least ``min_batch_s`` (doubling search)."""
    calls = 1
    while calls < max_calls:
        if _batch_time(fn, calls, clock) >= min_batch_s:
            return calls
        calls *= 2
    return calls


def interleaved(
    contenders: dict[str, Callable[[], object]],
    *,
    rounds: int,
    min_batch_s: float,
    warmup: int = 3,
    clock: Clock = CPU_TIME,
) -> dict[str, Timing]:
    """Time each contender in alternating rounds; return median seconds per call.

    Each contender is called ``warmup`` times first, then a batch size is chosen so that a
    batch lasts at least ``min_batch_s``. Every round times one batch of each contender in
    turn (so machine noise hits all of them alike). The garbage collector is paused during
    a batch, as :mod:`timeit` does. ``clock`` is the process's CPU time by default (for
    code that does no I/O and runs in one thread), or :data:`WALL_TIME`.
    """
    sizes: dict[str, int] = {}
    for name, fn in contenders.items():
        for _ in range(warmup):
            fn()
        sizes[name] = calls_per_batch(fn, min_batch_s, clock=clock)
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            gc.collect()
            gc.disable()
            try:
                samples[name].append(_batch_time(fn, sizes[name], clock) / sizes[name])
            finally:
                gc.enable()
    return {name: Timing(statistics.median(s), s) for name, s in samples.items()}


# -- canned Entra replies -----------------------------------------------------------------

def b64url_json(data: dict[str, Any]) -> str:
    """Unpadded base64url of compact JSON (client_info, JWT segments)."""
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def id_token(uid: str) -> str:
    """An unsigned id_token for user ``uid`` (neither library checks the signature)."""
    now = int(time.time())
    claims = {"aud": CLIENT_ID, "iss": f"https://{HOST}/{TENANT}/v2.0", "iat": now,
              "nbf": now, "exp": now + HOUR, "oid": f"oid-{uid}", "sub": f"sub-{uid}",
              "tid": TENANT, "preferred_username": f"{uid}@contoso.com", "ver": "2.0"}
    return f"{b64url_json({'alg': 'none', 'typ': 'JWT'})}.{b64url_json(claims)}.c2ln"


def openid_configuration(authority: str = AUTHORITY) -> dict[str, Any]:
    """The tenant's OIDC discovery document."""
    return {
        "token_endpoint": f"{authority}/oauth2/v2.0/token",
        "authorization_endpoint": f"{authority}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{authority}/oauth2/v2.0/devicecode",
        "issuer": f"https://{HOST}/{TENANT}/v2.0",
        "jwks_uri": f"https://{HOST}/{TENANT}/discovery/v2.0/keys",
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
    }


class CannedResponse:
    """The slice of ``requests.Response`` that msal and entra_auth read from an http_client."""

    def __init__(self, status_code: int, body: dict[str, Any]) -> None:
        self.status_code = status_code
        self.text = json.dumps(body)
        self.headers = {"Content-Type": "application/json"}

    def json(self) -> Any:
        """The body, parsed."""
        return json.loads(self.text)

    def raise_for_status(self) -> None:
        """Raise on 4xx/5xx, as requests does."""
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}")


def token_response(form: dict[str, Any]) -> dict[str, Any]:
    """Entra's reply to a token POST: an app token, or a user's tokens (the user is read
    from the refresh token, ``rt-{uid}``)."""
    scope = form.get("scope", "")
    if form.get("grant_type") == "client_credentials":
        return {"token_type": "Bearer", "expires_in": HOUR, "ext_expires_in": HOUR,
                "access_token": "app-at-fresh", "scope": scope}
    uid = str(form.get("refresh_token", "rt-user0")).removeprefix("rt-")
    return {
        "token_type": "Bearer", "expires_in": HOUR, "ext_expires_in": HOUR,
        "scope": " ".join([s for s in scope.split() if s not in
                           {"openid", "profile", "offline_access"}] + ["profile openid email"]),
        "access_token": f"at-{uid}-fresh", "refresh_token": f"rt-{uid}",
        "id_token": id_token(uid),
        "client_info": b64url_json({"uid": uid, "utid": TENANT}),
    }


class CannedEntra:
    """An MSAL-style ``http_client`` (``.get``/``.post``) answering with canned Entra JSON.

    ``latency`` seconds are slept in each token POST, to model the network while callers
    race. ``token_posts`` counts token requests (thread-safe).
    """

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.token_posts = 0
        self._lock = threading.Lock()

    def get(self, url: str, params: Any = None, headers: Any = None, **_: Any) -> CannedResponse:
        """Answer OIDC and instance discovery."""
        path = urlsplit(url).path
        if path.endswith("/discovery/instance"):
            return CannedResponse(200, {
                "tenant_discovery_endpoint":
                    f"{AUTHORITY}/v2.0/.well-known/openid-configuration",
                "metadata": [{"preferred_network": HOST, "preferred_cache": HOST,
                              "aliases": [HOST]}]})
        if path.endswith("/.well-known/openid-configuration"):
            tenant = path.split("/")[1]
            return CannedResponse(200, openid_configuration(f"https://{HOST}/{tenant}"))
        return CannedResponse(404, {"error": "not_found"})

    def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None,
             **_: Any) -> CannedResponse:
        """Answer a token POST after ``latency`` seconds."""
        with self._lock:
            self.token_posts += 1
        if self.latency:
            time.sleep(self.latency)
        return CannedResponse(200, token_response(dict(data or {})))

    def close(self) -> None:
        """Nothing to close (msal calls this)."""


# -- MSAL-schema cache documents ----------------------------------------------------------

def uid_of(index: int) -> str:
    """The benchmark's name of user ``index``."""
    return f"user{index:06d}"


def account_of(index: int) -> dict[str, Any]:
    """User ``index``'s account dict, as ``get_accounts()`` returns it in both libraries."""
    uid = uid_of(index)
    return {"home_account_id": f"{uid}.{TENANT}", "environment": HOST, "realm": TENANT,
            "local_account_id": f"oid-{uid}", "username": f"{uid}@contoso.com",
            "authority_type": "MSSTS", "account_source": "authorization_code"}


def cache_document(users: int, *, at_ttl: int = HOUR, target: str = GRAPH_TARGET) -> str:
    """An MSAL unified-schema cache for ``users`` users of one app, serialized.

    Each user has an access token for ``target`` valid ``at_ttl`` seconds from now, a
    refresh token, an id token, an account, as ``msal`` writes after an auth-code sign-in.
    """
    now = int(time.time())
    ats: dict[str, Any] = {}
    rts: dict[str, Any] = {}
    ids: dict[str, Any] = {}
    accounts: dict[str, Any] = {}
    for i in range(users):
        uid = uid_of(i)
        home = f"{uid}.{TENANT}"
        prefix = f"{home}-{HOST}".lower()
        ats[f"{prefix}-accesstoken-{CLIENT_ID}-{TENANT}-{target}".lower()] = {
            "credential_type": "AccessToken", "secret": f"at-{uid}", "home_account_id": home,
            "environment": HOST, "client_id": CLIENT_ID, "target": target, "realm": TENANT,
            "token_type": "Bearer", "cached_at": str(now), "expires_on": str(now + at_ttl),
            "extended_expires_on": str(now + at_ttl)}
        rts[f"{prefix}-refreshtoken-{CLIENT_ID}--{target}".lower()] = {
            "credential_type": "RefreshToken", "secret": f"rt-{uid}", "home_account_id": home,
            "environment": HOST, "client_id": CLIENT_ID, "target": target,
            "last_modification_time": str(now)}
        ids[f"{prefix}-idtoken-{CLIENT_ID}-{TENANT}-".lower()] = {
            "credential_type": "IdToken", "secret": id_token(uid), "home_account_id": home,
            "environment": HOST, "realm": TENANT, "client_id": CLIENT_ID}
        accounts[f"{prefix}-{TENANT}".lower()] = account_of(i)
    return json.dumps({
        "AccessToken": ats, "RefreshToken": rts, "IdToken": ids, "Account": accounts,
        "AppMetadata": {f"appmetadata-{HOST}-{CLIENT_ID}": {
            "client_id": CLIENT_ID, "environment": HOST}},
    })


# -- formatting ---------------------------------------------------------------------------

def fmt_time(seconds: float) -> str:
    """A duration with a readable unit."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"

