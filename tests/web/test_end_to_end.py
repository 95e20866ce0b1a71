"""Real Flask, FastAPI and Django APIs on loopback: validate, call Graph on-behalf-of, and carry
a CAE claims challenge back to the client, whose EntraAuth recovers (device-code sign-in).

Django runs under werkzeug (WSGI) and under uvicorn (ASGI); every test runs against each server
with the same assertions, so the answers (401/403, WWW-Authenticate) are the same everywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import flask
import pytest
import requests

from entra_auth.adapters import EntraAuth
from entra_auth.protocol.www_authenticate import find_claims_challenge
from entra_auth.testing import WEB_API_ID, WEB_API_SECRET, Emulator, enter_device_code
from entra_auth.web import Caller, WebApi
from entra_auth.web.flask import FlaskEntraAuth

from .conftest import (
    ALICE,
    ALICE_PASSWORD,
    API_SCOPE,
    GRAPH_SCOPE,
    api_app,
    public_app,
    user_token,
    validator,
)
from .servers import AsgiServer, WsgiServer


def flask_api(emu: Emulator) -> flask.Flask:
    app = flask.Flask("contoso_api")
    api = WebApi(validator(emu), api_app(emu), downstream_scopes=[GRAPH_SCOPE],
                 allowed_hosts=["127.0.0.1"])
    entra = FlaskEntraAuth(api, app)

    @app.get("/me")
    @entra.requires_auth(scopes=["access_as_user"])
    def me(caller: Caller) -> Any:
        graph = requests.get(emu.graph_url, auth=caller.auth, verify=emu.ca_bundle)
        graph.raise_for_status()
        assert flask.g.entra_caller is caller
        return {"caller": caller.token.username, "displayName": graph.json()["displayName"]}

    return app


def fastapi_api(emu: Emulator) -> Any:
    from examples.fastapi_obo_api import create_app

    return create_app(WEB_API_ID, WEB_API_SECRET, emu.authority(), graph_me_url=emu.graph_url,
                      allowed_hosts=["127.0.0.1"], verify=emu.ca_bundle, clock=emu.now)


def django_api(emu: Emulator, kind: str) -> Any:
    from examples.django_obo_api import configure

    wsgi = configure(WEB_API_ID, WEB_API_SECRET, emu.authority(), graph_me_url=emu.graph_url,
                     allowed_hosts=["127.0.0.1"], verify=emu.ca_bundle, clock=emu.now)
    if kind == "wsgi":
        return wsgi
    from django.core.asgi import get_asgi_application

    return get_asgi_application()


@pytest.fixture(params=["flask", "fastapi", "django-wsgi", "django-asgi"])
def api_url(request: pytest.FixtureRequest, emu: Emulator) -> Iterator[str]:
    server: WsgiServer | AsgiServer
    if request.param == "flask":
        server = WsgiServer(flask_api(emu))
    elif request.param == "fastapi":
        server = AsgiServer(fastapi_api(emu))
    elif request.param == "django-wsgi":
        server = WsgiServer(django_api(emu, "wsgi"))
    else:
        server = AsgiServer(django_api(emu, "asgi"))
    with server:
        yield server.url


def device_prompt(emu: Emulator, messages: list[str]) -> Any:
    def prompt(message: str) -> None:
        messages.append(message)
        code = re.search(r"code (\S+) to authenticate", message)
        assert code is not None
        enter_device_code({"user_code": code.group(1), "verification_uri": emu.device_login_url},
                          ALICE, ALICE_PASSWORD, verify=emu.ca_bundle)

    return prompt


def client_session(emu: Emulator, messages: list[str]) -> requests.Session:
    app = public_app(emu)
    assert "access_token" in app.acquire_token_by_username_password(
        ALICE, ALICE_PASSWORD, scopes=[API_SCOPE])
    session = requests.Session()
    session.auth = EntraAuth(app, [API_SCOPE], allowed_hosts=["127.0.0.1"], fallback="device",
                             prompt=device_prompt(emu, messages))
    return session


def test_obo_call_and_cae_challenge_crosses_the_api_tier(emu: Emulator, api_url: str) -> None:
    messages: list[str] = []
    session = client_session(emu, messages)
    first = session.get(f"{api_url}/me")
    assert first.status_code == 200, first.text
    assert first.json() == {"caller": ALICE, "displayName": "Alice Example",
                            **({"id": first.json()["id"]} if "id" in first.json() else {})}
    obo = [r for r in emu.requests_to("token") if r.grant_type and "jwt-bearer" in r.grant_type]
    assert len(obo) == 1
    assert session.get(f"{api_url}/me").status_code == 200
    # The downstream token is cached per user assertion: no second on-behalf-of request.
    assert len([r for r in emu.requests_to("token") if "jwt-bearer" in (r.grant_type or "")]) == 1

    emu.revoke_sessions(ALICE)
    recovered = session.get(f"{api_url}/me")
    assert recovered.status_code == 200, recovered.text
    assert len(messages) == 1  # the client signed in again, once
    [challenged] = recovered.history
    assert challenged.status_code == 401
    challenge = find_claims_challenge(challenged.headers["WWW-Authenticate"])
    assert challenge is not None and challenge.error == "insufficient_claims"
    assert '"nbf"' in challenge.claims
    assert f'client_id="{WEB_API_ID}"' in challenged.headers["WWW-Authenticate"]
    # The client's new sign-in asked for the claims the downstream API demanded.
    assert '"nbf"' in emu.requests_to("devicecode")[-1].form.get("claims", "")


def test_challenge_reaches_a_client_without_fallback(emu: Emulator, api_url: str) -> None:
    token = user_token(emu)
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{api_url}/me", headers=headers).status_code == 200
    emu.revoke_sessions(ALICE)
    reply = requests.get(f"{api_url}/me", headers=headers)
    assert reply.status_code == 401
    assert reply.json()["error"] == "insufficient_claims"
    assert token not in reply.text and token not in reply.headers["WWW-Authenticate"]


def test_mild_cae_event_is_met_silently_by_on_behalf_of(emu: Emulator, api_url: str) -> None:
    # A milder event (e.g. a location change) leaves sessions valid: the API repeats
    # on-behalf-of with the challenge's claims, Entra answers, and the client sees a 200.
    headers = {"Authorization": f"Bearer {user_token(emu)}"}
    assert requests.get(f"{api_url}/me", headers=headers).status_code == 200
    emu.revoke_access_tokens(ALICE)
    reply = requests.get(f"{api_url}/me", headers=headers)
    assert reply.status_code == 200, reply.text
    obo = [r for r in emu.requests_to("token") if "jwt-bearer" in (r.grant_type or "")]
    assert len(obo) == 2 and '"nbf"' in obo[-1].form.get("claims", "")
    assert obo[-1].status == 200


def test_step_up_challenge_is_met_silently_by_on_behalf_of(emu: Emulator, api_url: str) -> None:
    emu.require_auth_context("c1")
    reply = requests.get(f"{api_url}/me", headers={"Authorization": f"Bearer {user_token(emu)}"})
    assert reply.status_code == 200, reply.text
    assert '"acrs"' in emu.requests_to("token")[-1].form.get("claims", "")


def test_unauthenticated_and_unauthorized_callers(emu: Emulator, api_url: str) -> None:
    missing = requests.get(f"{api_url}/me")
    assert missing.status_code == 401
    assert "error=" not in missing.headers["WWW-Authenticate"]  # RFC 6750 3.1: no token
    invalid = requests.get(f"{api_url}/me", headers={"Authorization": "Bearer not-a-jwt"})
    assert invalid.status_code == 401
    assert 'error="invalid_token"' in invalid.headers["WWW-Authenticate"]
    graph_token = user_token(emu, [GRAPH_SCOPE])  # wrong audience
    wrong = requests.get(f"{api_url}/me", headers={"Authorization": f"Bearer {graph_token}"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_token"


def test_every_framework_gives_the_same_answers(emu: Emulator) -> None:
    """Byte for byte: status, JSON body and WWW-Authenticate of each failure, per framework."""
    servers = {"flask": WsgiServer(flask_api(emu)), "fastapi": AsgiServer(fastapi_api(emu)),
               "django-wsgi": WsgiServer(django_api(emu, "wsgi")),
               "django-asgi": AsgiServer(django_api(emu, "asgi"))}
    cases = {"missing": {}, "not a bearer": {"Authorization": "Basic dXNlcjpwdw=="},
             "malformed": {"Authorization": "Bearer not-a-jwt"},
             "wrong audience": {"Authorization": f"Bearer {user_token(emu, [GRAPH_SCOPE])}"}}
    answers: dict[str, dict[str, Any]] = {}
    for name, server in servers.items():
        with server:
            answers[name] = {}
            for case, headers in cases.items():
                reply = requests.get(f"{server.url}/me", headers=headers)
                answers[name][case] = (reply.status_code, reply.json(),
                                       reply.headers.get("WWW-Authenticate"))
            token = user_token(emu)
            signed_in = {"Authorization": f"Bearer {token}"}
            assert requests.get(f"{server.url}/me", headers=signed_in).status_code == 200
            emu.revoke_sessions(ALICE)  # Graph now challenges; on-behalf-of can't meet it
            reply = requests.get(f"{server.url}/me", headers=signed_in)
            header = reply.headers.get("WWW-Authenticate", "")
            challenge = find_claims_challenge(header)
            assert challenge is not None and '"nbf"' in challenge.claims, name
            # The claims carry the revocation time: compare the rest of the challenge.
            answers[name]["claims challenge"] = (reply.status_code, reply.json()["error"],
                                                 re.sub(r'claims="[^"]*"', "", header))
            emu.reset()
    assert answers["flask"]["missing"][0] == 401 and answers["flask"]["malformed"][0] == 401
    assert answers["flask"]["claims challenge"][:2] == (401, "insufficient_claims")
    for name in servers:
        assert answers[name] == answers["flask"], name
