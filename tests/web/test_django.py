"""The Django integration with Django's test client: middleware, decorators, OBO, challenges.

Django's settings are process-wide: the example project (examples/django_obo_api.py) configures
them once; tests change them with ``override_settings``. Real servers: tests/web/test_end_to_end.py.
"""

from __future__ import annotations

import json
from typing import Any

import django.test
import pytest
from django.http import HttpRequest, JsonResponse
from django.test import override_settings
from django.urls import path
from django.utils.decorators import method_decorator
from django.views import View

import entra_auth
from entra_auth.errors import InteractionRequiredError
from entra_auth.protocol.www_authenticate import find_claims_challenge
from entra_auth.testing import (
    WEB_API_ID,
    WEB_API_SECRET,
    WEB_APP_ID,
    WEB_APP_SECRET,
    Emulator,
)
from entra_auth.web import Caller, WebApi
from entra_auth.web.django import configured_api, requires_auth
from examples import django_obo_api

from .conftest import ALICE, GRAPH_SCOPE, api_app, user_token, validator

CLAIMS = '{"access_token":{"nbf":{"essential":true,"value":"1"}}}'


def configure(emu: Emulator) -> None:
    django_obo_api.configure(WEB_API_ID, WEB_API_SECRET, emu.authority(),
                             graph_me_url=emu.graph_url, allowed_hosts=["127.0.0.1"],
                             verify=emu.ca_bundle, clock=emu.now)


def app_token(emu: Emulator) -> str:
    daemon = entra_auth.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        verify=emu.ca_bundle)
    result = daemon.acquire_token_for_client([f"api://{WEB_API_ID}/.default"])
    assert "access_token" in result, result
    return str(result["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(emu: Emulator) -> django.test.Client:
    configure(emu)
    return django.test.Client()


# Test-only views (ROOT_URLCONF=__name__ below): the decorator's options one by one.

@requires_auth(app_only=True)
def apps_only(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"app_only": request.entra_caller.token.is_app_only})  # type: ignore[attr-defined]


@requires_auth(app_only=False)
async def users_only(request: HttpRequest, caller: Caller) -> JsonResponse:
    return JsonResponse({"user": caller.token.username})


@requires_auth(scopes=["access_as_user"])
def downstream_challenge(request: HttpRequest) -> JsonResponse:
    raise InteractionRequiredError("invalid_grant", "revoked", claims=CLAIMS)


@requires_auth(scopes=["access_as_user"])
def downstream_broken(request: HttpRequest) -> JsonResponse:
    raise InteractionRequiredError("invalid_client", "the API's own credential is wrong")


def undecorated_challenge(request: HttpRequest) -> JsonResponse:
    raise InteractionRequiredError("invalid_grant", "revoked", claims=CLAIMS)


@method_decorator(requires_auth(scopes=["access_as_user"]), name="get")
class Profile(View):
    def get(self, request: HttpRequest, caller: Caller) -> JsonResponse:
        return JsonResponse({"user": caller.token.username})


def optional(request: HttpRequest) -> JsonResponse:
    caller = request.entra_caller  # type: ignore[attr-defined]
    return JsonResponse({"user": caller.token.username if caller else None})


urlpatterns = [
    path("apps-only", apps_only),
    path("users-only", users_only),
    path("downstream-challenge", downstream_challenge),
    path("downstream-broken", downstream_broken),
    path("undecorated-challenge", undecorated_challenge),
    path("profile", Profile.as_view()),
    path("optional", optional),
    path("health", django_obo_api.health),
]
HERE = override_settings(ROOT_URLCONF=__name__)


def test_me_validates_and_calls_graph_on_behalf_of_the_caller(
    emu: Emulator, client: django.test.Client
) -> None:
    token = user_token(emu)
    reply = client.get("/me", headers=bearer(token))
    assert reply.status_code == 200, reply.content
    assert reply.json()["caller"] == ALICE and reply.json()["displayName"] == "Alice Example"
    obo = [r for r in emu.requests_to("token") if "jwt-bearer" in (r.grant_type or "")]
    assert len(obo) == 1
    assert client.get("/me", headers=bearer(token)).status_code == 200
    # The downstream token is cached per assertion: no second on-behalf-of request.
    assert len([r for r in emu.requests_to("token") if "jwt-bearer" in (r.grant_type or "")]) == 1


def test_401_and_403_answers(emu: Emulator, client: django.test.Client) -> None:
    assert client.get("/health").json() == {"status": "ok"}  # exempt
    missing = client.get("/me")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer ")
    assert "error=" not in missing.headers["WWW-Authenticate"]  # RFC 6750 3.1
    assert f'client_id="{WEB_API_ID}"' in missing.headers["WWW-Authenticate"]
    invalid = client.get("/me", headers=bearer("not-a-jwt"))
    assert invalid.status_code == 401 and invalid.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in invalid.headers["WWW-Authenticate"]
    assert invalid["Content-Type"] == "application/json"
    graph_token = user_token(emu, [GRAPH_SCOPE])  # wrong audience
    wrong = client.get("/me", headers=bearer(graph_token))
    assert wrong.status_code == 401 and graph_token not in wrong.content.decode()
    # A user token on the daemons' endpoint: no app role.
    forbidden = client.get("/reports", headers=bearer(user_token(emu)))
    assert forbidden.status_code == 403 and forbidden.json()["error"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in forbidden.headers["WWW-Authenticate"]


def test_app_only_and_delegated_callers(emu: Emulator, client: django.test.Client) -> None:
    daemon, user = app_token(emu), user_token(emu)
    assert client.get("/reports", headers=bearer(daemon)).json()["reports"] == ["q1", "q2"]
    assert client.get("/me", headers=bearer(daemon)).status_code == 403
    with HERE:
        assert client.get("/apps-only", headers=bearer(daemon)).json() == {"app_only": True}
        refused = client.get("/apps-only", headers=bearer(user))
        assert refused.status_code == 403
        assert "only an application" in refused.json()["error_description"]
        assert client.get("/users-only", headers=bearer(user)).json() == {"user": ALICE}
        refused = client.get("/users-only", headers=bearer(daemon))  # an async view
        assert refused.status_code == 403
        assert "only a delegated" in refused.json()["error_description"]
    # The async example view sees the caller the middleware and decorator put on the request.
    assert client.get("/whoami", headers=bearer(daemon)).json()["app_only"] is True


def test_middleware_settings(emu: Emulator, client: django.test.Client) -> None:
    user, daemon = user_token(emu), app_token(emu)
    base = {"API": f"{django_obo_api.__name__}.api", "EXEMPT_PATHS": ["/health"]}
    with HERE, override_settings(ENTRA_AUTH={**base, "REQUIRED": False}):
        assert client.get("/optional").json() == {"user": None}
        assert client.get("/optional", headers=bearer(user)).json() == {"user": ALICE}
        assert client.get("/optional", headers=bearer("junk")).status_code == 401
    with HERE, override_settings(ENTRA_AUTH={**base, "APP_ONLY": False}):
        assert client.get("/optional", headers=bearer(daemon)).status_code == 403
        assert client.get("/health").status_code == 200
    with HERE, override_settings(ENTRA_AUTH={**base, "SCOPES": ["missing_scope"]}):
        reply = client.get("/optional", headers=bearer(user))
        assert reply.status_code == 403 and reply.json()["error"] == "insufficient_scope"
    with HERE, override_settings(ENTRA_AUTH={**base, "ROLES": ["Data.Read.All"]}):
        assert client.get("/optional", headers=bearer(daemon)).status_code == 200
    with override_settings(ENTRA_AUTH={"API": "no.such.module.api"}):
        from django.core.exceptions import ImproperlyConfigured

        with pytest.raises(ImproperlyConfigured):
            configured_api()


def test_class_based_view_and_explicit_api(emu: Emulator, client: django.test.Client) -> None:
    with HERE:
        reply = client.get("/profile", headers=bearer(user_token(emu)))
        assert reply.json() == {"user": ALICE}
        assert client.get("/profile", headers=bearer(app_token(emu))).status_code == 403
    api = WebApi(validator(emu), api_app(emu))

    @requires_auth(api=api, roles=["Data.Read.All"])
    def view(request: HttpRequest, caller: Caller) -> JsonResponse:
        return JsonResponse({"roles": list(caller.token.roles)})

    request = django.test.RequestFactory().get("/", headers=bearer(app_token(emu)))
    assert json.loads(view(request).content) == {"roles": ["Data.Read.All"]}


def test_downstream_challenges_reach_the_caller(emu: Emulator, client: django.test.Client) -> None:
    token = user_token(emu)
    with HERE:
        for url in ("/downstream-challenge", "/undecorated-challenge"):  # decorator, middleware
            reply = client.get(url, headers=bearer(token))
            assert reply.status_code == 401, url
            challenge = find_claims_challenge(reply.headers["WWW-Authenticate"])
            assert challenge is not None and challenge.error == "insufficient_claims"
            assert json.loads(challenge.claims) == json.loads(CLAIMS)
        broken = client.get("/downstream-broken", headers=bearer(token))
        assert broken.status_code == 502 and broken.json() == {"error": "downstream_unavailable"}
    # For real: Graph challenges a revoked user; on-behalf-of can't meet it silently.
    assert client.get("/me", headers=bearer(token)).status_code == 200
    emu.revoke_sessions(ALICE)
    reply = client.get("/me", headers=bearer(token))
    assert reply.status_code == 401 and reply.json()["error"] == "insufficient_claims"
    challenge = find_claims_challenge(reply.headers["WWW-Authenticate"])
    assert challenge is not None and '"nbf"' in challenge.claims
    assert token not in reply.content.decode() and token not in reply.headers["WWW-Authenticate"]


def test_step_up_is_met_silently_by_on_behalf_of(emu: Emulator, client: django.test.Client) -> None:
    emu.require_auth_context("c1")
    reply = client.get("/me", headers=bearer(user_token(emu)))
    assert reply.status_code == 200, reply.content
    assert '"acrs"' in emu.requests_to("token")[-1].form.get("claims", "")


def test_the_example_module_configures_settings_once(emu: Emulator) -> None:
    configure(emu)
    first: Any = django_obo_api.api
    configure(emu)  # again: a new WebApi, the same settings
    assert django_obo_api.api is not first and configured_api() is django_obo_api.api
