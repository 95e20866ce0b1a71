"""Drive I/O-free flows by hand: a fixed clock, seeded randomness, scripted responses."""

from __future__ import annotations

import json
import random
from collections.abc import Generator
from typing import Any

from entra_auth.cache import TokenCache
from entra_auth.protocol.authority import parse_authority
from entra_auth.protocol.context import ClientContext
from entra_auth.protocol.discovery import AuthorityMetadata
from entra_auth.protocol.messages import HttpRequest, HttpResponse, Sleep

NOW = 1_700_000_000.0
TENANT = "contoso.onmicrosoft.com"
AUTHORITY = f"https://login.microsoftonline.com/{TENANT}"


class Clock:
    """A wall clock (``now``) and a monotonic clock that follows it except across ``step()``."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now
        self._stepped = 0.0

    def __call__(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now - self._stepped

    def step(self, seconds: float) -> None:
        """Step the wall clock (NTP, a user, a VM resume) without time passing."""
        self.now += seconds
        self._stepped += seconds


def make_ctx(**overrides: Any) -> ClientContext:
    rng = random.Random(7)
    clock = overrides.pop("clock", None) or Clock()
    values: dict[str, Any] = {
        "client_id": "client-1",
        "cache": TokenCache(),
        "clock": clock,
        "monotonic": getattr(clock, "monotonic", clock),
        "random_bytes": lambda n: bytes(rng.randrange(256) for _ in range(n)),
    }
    values.update(overrides)
    return ClientContext(**values)


def metadata(authority: str = AUTHORITY) -> AuthorityMetadata:
    auth = parse_authority(authority)
    return AuthorityMetadata(
        authority=auth,
        authorization_endpoint=f"{auth.url}/oauth2/v2.0/authorize",
        token_endpoint=f"{auth.url}/oauth2/v2.0/token",
        device_authorization_endpoint=f"{auth.url}/oauth2/v2.0/devicecode",
        issuer=f"{auth.url}/v2.0",
        realm=auth.tenant,
    )


def json_response(body: object, status: int = 200, **headers: str) -> HttpResponse:
    return HttpResponse(status, {"content-type": "application/json", **headers}, json.dumps(body))


def b64(obj: object) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def id_token(**claims: Any) -> str:
    return f"{b64({'alg': 'none'})}.{b64(claims)}.sig"


def token_body(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "token_type": "Bearer",
        "scope": "User.Read openid profile offline_access",
        "expires_in": 3600,
        "ext_expires_in": 3600,
        "access_token": "AT-1",
        "refresh_token": "RT-1",
        "client_info": b64({"uid": "uid", "utid": "utid"}),
        "id_token": id_token(oid="oid", sub="sub", preferred_username="alice@contoso.com",
                             tid="utid"),
    }
    body.update(extra)
    return body


class Driver:
    """Step a flow: ``req = d.start()``, ``req = d.send(resp)``; ``d.result`` when done."""

    def __init__(self, flow: Generator[Any, Any, Any]) -> None:
        self.flow = flow
        self.result: Any = None
        self.done = False

    def _step(self, fn: Any, *args: Any) -> HttpRequest | Sleep | None:
        try:
            return fn(*args)  # type: ignore[no-any-return]
        except StopIteration as stop:
            self.done = True
            self.result = stop.value
            return None

    def start(self) -> Any:
        return self._step(next, self.flow)

    def send(self, value: Any) -> Any:
        return self._step(self.flow.send, value)

    def throw(self, exc: BaseException) -> Any:
        return self._step(self.flow.throw, exc)
