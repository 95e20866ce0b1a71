"""requires_auth (wrapt) on functions, methods and coroutines; WSGI and ASGI middleware served
for real on loopback."""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
from collections.abc import Iterable, MutableMapping
from typing import Any

import pytest
import requests
from fastapi import FastAPI, Request

from entra_auth.errors import InteractionRequiredError
from entra_auth.protocol.www_authenticate import find_claims_challenge
from entra_auth.testing import Emulator
from entra_auth.web import (
    AuthResponse,
    Caller,
    ClaimsChallengeError,
    EntraAsgiMiddleware,
    EntraWsgiMiddleware,
    InsufficientScopeError,
    MissingTokenError,
    WebApi,
    current_caller,
    requires_auth,
)
from entra_auth.web.fastapi import FastAPIEntraAuth
from entra_auth.web.wsgi import CALLER_KEY

from .conftest import ALICE, user_token, validator
from .servers import AsgiServer, WsgiServer

CLAIMS = '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}'


class FakeRequest:
    """A request-shaped value (what a framework hands a handler), not a server stand-in."""

    def __init__(self, token: str | None) -> None:
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}


def test_decorated_function_keeps_its_signature_and_gets_the_caller(emu: Emulator) -> None:
    api = WebApi(validator(emu))

    @requires_auth(api, scopes=["access_as_user"])
    def handler(request: FakeRequest, caller: Caller, limit: int = 5) -> tuple[str | None, int]:
        """Doc."""
        assert current_caller() is caller
        return caller.token.username, limit

    assert list(inspect.signature(handler).parameters) == ["request", "caller", "limit"]
    assert handler.__name__ == "handler" and handler.__doc__ == "Doc."
    assert handler(FakeRequest(user_token(emu)), limit=2) == (ALICE, 2)
    with pytest.raises(LookupError):
        current_caller()
    with pytest.raises(MissingTokenError) as caught:
        handler(FakeRequest(None))
    assert caught.value.www_authenticate().startswith('Bearer realm=""')
    assert "authorization_uri=" in caught.value.www_authenticate()


def test_decorated_method_and_on_error(emu: Emulator) -> None:
    api = WebApi(validator(emu))

    class Resource:
        prefix = "user:"

        @requires_auth(api, scopes=["Data.Write"], on_error=lambda r: r)
        def write(self, request: FakeRequest) -> str:
            return self.prefix + current_caller().token.tenant_id

        @requires_auth(api, scopes=["access_as_user"], inject=None)
        def read(self, request: FakeRequest, caller: Any = "untouched") -> str:
            return f"{self.prefix}{caller}:{current_caller().token.username}"

    token = user_token(emu)
    denied = Resource().write(FakeRequest(token))
    assert isinstance(denied, AuthResponse) and denied.status_code == 403
    assert 'error="insufficient_scope"' in denied.headers["WWW-Authenticate"]
    assert Resource().read(FakeRequest(token)) == f"user:untouched:{ALICE}"


def test_decorated_coroutine(emu: Emulator) -> None:
    api = WebApi(validator(emu))

    @requires_auth(api, roles=["Data.Read.All"], scopes=["access_as_user"])
    async def handler(request: FakeRequest, caller: Caller) -> str | None:
        await asyncio.sleep(0)
        return caller.token.object_id

    @requires_auth(api, scopes=["Data.Write"])
    async def forbidden(request: FakeRequest) -> None:
        raise AssertionError("not reached")

    assert inspect.iscoroutinefunction(handler)
    token = user_token(emu)
    assert asyncio.run(handler(FakeRequest(token))) == emu.user(ALICE).object_id
    with pytest.raises(InsufficientScopeError):
        asyncio.run(forbidden(FakeRequest(token)))


def test_downstream_claims_challenge_becomes_a_401_with_the_claims(emu: Emulator) -> None:
    api = WebApi(validator(emu))

    @requires_auth(api)
    def handler(request: FakeRequest) -> None:
        raise InteractionRequiredError("invalid_grant", "revoked", claims=CLAIMS)

    @requires_auth(api)
    def no_claims(request: FakeRequest) -> None:
        raise InteractionRequiredError("invalid_grant", "no claims to pass on")

    token = user_token(emu)
    with pytest.raises(ClaimsChallengeError) as caught:
        handler(FakeRequest(token))
    challenge = find_claims_challenge(caught.value.www_authenticate())
    assert challenge is not None and json.loads(challenge.claims) == json.loads(CLAIMS)
    with pytest.raises(InteractionRequiredError) as other:
        no_claims(FakeRequest(token))
    assert not isinstance(other.value, ClaimsChallengeError)


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    if environ["PATH_INFO"] == "/downstream":
        raise InteractionRequiredError("invalid_grant", "revoked", claims=CLAIMS)
    caller = environ.get(CALLER_KEY)
    body = json.dumps({"user": caller.token.username if caller else None}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


async def asgi_app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    if scope["path"] == "/downstream":
        raise InteractionRequiredError("invalid_grant", "revoked", claims=CLAIMS)
    caller = scope["state"].get("entra_caller")
    body = json.dumps({"user": caller.token.username if caller else None}).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_middleware(emu: Emulator, kind: str) -> None:
    api = WebApi(validator(emu))
    server: WsgiServer | AsgiServer
    if kind == "wsgi":
        server = WsgiServer(EntraWsgiMiddleware(wsgi_app, api, scopes=["access_as_user"],
                                                exempt_paths=["/health"]))
    else:
        asgi_app_with_state = _with_state(asgi_app)
        server = AsgiServer(EntraAsgiMiddleware(asgi_app_with_state, api,
                                                scopes=["access_as_user"],
                                                exempt_paths=["/health"]))
    bearer = {"Authorization": f"Bearer {user_token(emu)}"}
    with server:
        assert requests.get(f"{server.url}/me", headers=bearer).json() == {"user": ALICE}
        assert requests.get(f"{server.url}/health").json() == {"user": None}
        missing = requests.get(f"{server.url}/me")
        assert missing.status_code == 401 and "WWW-Authenticate" in missing.headers
        bad = requests.get(f"{server.url}/me", headers={"Authorization": "Bearer x.y.z"})
        assert bad.status_code == 401 and bad.json()["error"] == "invalid_token"
        challenged = requests.get(f"{server.url}/downstream", headers=bearer)
        assert challenged.status_code == 401
        challenge = find_claims_challenge(challenged.headers["WWW-Authenticate"])
        assert challenge is not None and json.loads(challenge.claims) == json.loads(CLAIMS)
        encoded = challenge.params["claims"]
        assert base64.b64decode(encoded).decode() == CLAIMS


def _with_state(app: Any) -> Any:
    async def wrapped(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        scope.setdefault("state", {})
        await app(scope, receive, send)

    return wrapped


def test_fastapi_handler_decorated_with_requires_auth(emu: Emulator) -> None:
    # (FastAPI resolves the handler's string annotations in this module's globals.)
    app = FastAPI()
    entra = FastAPIEntraAuth(WebApi(validator(emu)), app)

    @app.get("/who")
    @entra.requires_auth(scopes=["access_as_user"])
    async def who(request: Request, verbose: bool = False) -> dict[str, Any]:
        caller = current_caller()
        return {"user": caller.token.username, "verbose": verbose}

    with AsgiServer(app) as server:
        bearer = {"Authorization": f"Bearer {user_token(emu)}"}
        reply = requests.get(f"{server.url}/who?verbose=true", headers=bearer)
        assert reply.json() == {"user": ALICE, "verbose": True}  # FastAPI saw the signature
        denied = requests.get(f"{server.url}/who")
        assert denied.status_code == 401 and denied.json() == {
            "error": "unauthorized", "error_description": "no bearer token in the request"}


def test_downstream_auth_is_cached_per_assertion_with_a_bound(emu: Emulator) -> None:
    from .conftest import GRAPH_SCOPE, api_app

    api = WebApi(validator(emu), api_app(emu), downstream_scopes=[GRAPH_SCOPE],
                 allowed_hosts=["127.0.0.1"], max_cached_callers=1)
    first = api.authenticate(f"Bearer {user_token(emu)}")
    again = api.authenticate(f"Bearer {first.token.token}")
    auth = first.auth
    assert again.auth is auth  # same assertion and scopes: the same EntraAuth (and token)
    mail = first.downstream(["https://graph.microsoft.com/Mail.Read"])
    assert mail is not auth
    assert first.auth is not auth  # max_cached_callers=1: the first one was evicted
    with pytest.raises(ValueError):
        WebApi(validator(emu)).authenticate(f"Bearer {first.token.token}").auth
