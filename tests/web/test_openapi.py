"""FastAPI's OpenAPI document declares Entra (OAuth2 authorization code + PKCE, the API's scopes);
Swagger UI is served from local files; the emulator redeems single-page-app codes cross-origin.

The sign-in through Swagger UI in real Chromium: tests/interactive/test_swagger_ui.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from entra_auth.protocol.pkce import make_pkce
from entra_auth.testing import (
    PUBLIC_CLIENT_ID,
    SPA_CLIENT_ID,
    WEB_API_ID,
    WEB_API_SECRET,
    Emulator,
    complete_authorization,
)
from entra_auth.web import TokenValidator, WebApi
from entra_auth.web.fastapi import FastAPIEntraAuth, serve_swagger_ui
from examples.fastapi_obo_api import create_app, local_swagger_ui

from .conftest import ALICE, ALICE_PASSWORD, API_SCOPE
from .servers import AsgiServer

ASSETS = local_swagger_ui()
assert ASSETS is not None, "drf-spectacular-sidecar (a test dependency) ships Swagger UI"


def docs_app(emu: Emulator) -> Any:
    return create_app(WEB_API_ID, WEB_API_SECRET, emu.authority(), graph_me_url=emu.graph_url,
                      allowed_hosts=["127.0.0.1"], verify=emu.ca_bundle, clock=emu.now,
                      swagger_client_id=SPA_CLIENT_ID, swagger_ui_assets=ASSETS)


def test_the_schema_declares_entra_with_the_apis_scopes(emu: Emulator) -> None:
    with AsgiServer(docs_app(emu)) as server:
        schema = requests.get(f"{server.url}/openapi.json").json()
        missing = requests.get(f"{server.url}/me")
    authority = emu.authority()
    assert schema["components"]["securitySchemes"] == {"EntraID": {
        "type": "oauth2",
        "description": "Microsoft Entra ID: sign in (authorization code with PKCE) for a "
                       "token with the API's scopes.",
        "flows": {"authorizationCode": {
            "authorizationUrl": f"{authority}/oauth2/v2.0/authorize",
            "tokenUrl": f"{authority}/oauth2/v2.0/token",
            "scopes": {API_SCOPE: "Call the Contoso API as the signed-in user"},
        }},
    }}
    me = schema["paths"]["/me"]["get"]
    assert me["security"] == [{"EntraID": [API_SCOPE]}]
    assert {"200", "401", "403"} <= set(me["responses"])  # the failures are documented
    assert "WWW-Authenticate" in me["responses"]["401"]["headers"]
    assert "security" not in schema["paths"]["/health"]["get"]
    assert set(schema["paths"]["/health"]["get"]["responses"]) == {"200"}
    # The scheme documents the token; entra_auth still answers a missing one (RFC 6750).
    assert missing.status_code == 401 and "error=" not in missing.headers["WWW-Authenticate"]
    assert f'client_id="{WEB_API_ID}"' in missing.headers["WWW-Authenticate"]


def test_scopes_named_by_caller_join_the_scheme_and_swagger_settings(emu: Emulator) -> None:
    from fastapi import Depends, FastAPI

    app = FastAPI()
    api = WebApi(TokenValidator(WEB_API_ID, authority=emu.authority(), verify=emu.ca_bundle))
    entra = FastAPIEntraAuth(api, app, swagger_client_id=SPA_CLIENT_ID,
                             app_id_uri="api://contoso-api")

    reader = entra.caller(scopes=["Data.Read"])

    @app.get("/read")
    async def read(caller: Any = Depends(reader)) -> None: ...

    @app.get("/daemon")
    async def daemon(caller: Any = Depends(entra.caller(roles=["Data.Read.All"]))) -> None: ...

    async def current_user(caller: Any = Depends(reader)) -> Any:  # a dependency of its own
        return caller

    @app.get("/nested")
    async def nested(user: Any = Depends(current_user)) -> None: ...

    @app.get("/open")
    async def open_() -> None: ...

    schema = app.openapi()
    # Documentation only: a request runs just the caller dependency, nothing more.
    route = next(r for r in app.routes if getattr(r, "path", "") == "/read")
    assert [d.call for d in route.dependant.dependencies] == [reader]
    assert [d.call for d in route.dependant.dependencies[0].dependencies] == []
    assert schema["paths"]["/nested"]["get"]["security"] == [
        {"EntraID": ["api://contoso-api/Data.Read"]}]
    assert "security" not in schema["paths"]["/open"]["get"]
    flow = schema["components"]["securitySchemes"]["EntraID"]["flows"]["authorizationCode"]
    assert flow["scopes"] == {"api://contoso-api/Data.Read": ""}
    assert schema["paths"]["/read"]["get"]["security"] == [
        {"EntraID": ["api://contoso-api/Data.Read"]}]
    assert schema["paths"]["/daemon"]["get"]["security"] == [{"EntraID": []}]
    assert app.swagger_ui_init_oauth == {"clientId": SPA_CLIENT_ID,
                                         "usePkceWithAuthorizationCodeGrant": True,
                                         "scopes": "api://contoso-api/Data.Read"}


def test_swagger_ui_is_served_from_local_files(emu: Emulator) -> None:
    with AsgiServer(docs_app(emu)) as server:
        page = requests.get(f"{server.url}/docs")
        script = requests.get(f"{server.url}/docs/assets/swagger-ui-bundle.js")
        redirect = requests.get(f"{server.url}/docs/oauth2-redirect")
    assert page.status_code == 200
    assert "/docs/assets/swagger-ui-bundle.js" in page.text
    assert "/docs/assets/swagger-ui.css" in page.text
    assert "cdn.jsdelivr.net" not in page.text and "https://" not in page.text.split("<body>")[1]
    assert f'"clientId": "{SPA_CLIENT_ID}"' in page.text
    assert '"usePkceWithAuthorizationCodeGrant": true' in page.text
    assert "oauth2RedirectUrl: window.location.origin + '/docs/oauth2-redirect'" in page.text
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert script.content == (Path(str(ASSETS)) / "swagger-ui-bundle.js").read_bytes()
    assert "swaggerUIRedirectOauth2" in redirect.text


def test_serve_swagger_ui_needs_the_files(tmp_path: Path) -> None:
    from fastapi import FastAPI

    with pytest.raises(FileNotFoundError, match=r"swagger-ui-bundle\.js"):
        serve_swagger_ui(FastAPI(), tmp_path)
    assert os.listdir(tmp_path) == []


def _spa_code(emu: Emulator, client_id: str, redirect_uri: str) -> tuple[str, str]:
    pkce = make_pkce(os.urandom)
    query = urlencode({"client_id": client_id, "response_type": "code", "scope": API_SCOPE,
                       "redirect_uri": redirect_uri, "state": "s1",
                       "code_challenge": pkce.challenge, "code_challenge_method": "S256"})
    params = complete_authorization(f"{emu.authority()}/oauth2/v2.0/authorize?{query}",
                                    ALICE, ALICE_PASSWORD, verify=emu.ca_bundle)
    return params["code"], pkce.verifier


def _redeem(emu: Emulator, client_id: str, code: str, verifier: str, redirect_uri: str,
            origin: str | None) -> requests.Response:
    headers = {"Origin": origin} if origin else {}
    return requests.post(emu.token_endpoint(), verify=emu.ca_bundle, headers=headers, data={
        "client_id": client_id, "grant_type": "authorization_code", "code": code,
        "code_verifier": verifier, "redirect_uri": redirect_uri, "scope": API_SCOPE})


def test_emulator_redeems_spa_codes_only_cross_origin(emu: Emulator) -> None:
    origin = "http://127.0.0.1:8123"
    spa_redirect = f"{origin}/docs/oauth2-redirect"
    preflight = requests.options(emu.token_endpoint(), verify=emu.ca_bundle, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-requested-with"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    assert "x-requested-with" in preflight.headers["Access-Control-Allow-Headers"]
    code, verifier = _spa_code(emu, SPA_CLIENT_ID, spa_redirect)
    ok = _redeem(emu, SPA_CLIENT_ID, code, verifier, spa_redirect, origin)
    assert ok.status_code == 200, ok.text
    assert ok.headers["Access-Control-Allow-Origin"] == origin and "access_token" in ok.json()
    code, verifier = _spa_code(emu, SPA_CLIENT_ID, spa_redirect)
    server_side = _redeem(emu, SPA_CLIENT_ID, code, verifier, spa_redirect, None)
    assert server_side.status_code == 400 and "AADSTS9002327" in server_side.json()[
        "error_description"]
    # A public client's (non-SPA) code redeemed from a browser: refused, readable by the page.
    code, verifier = _spa_code(emu, PUBLIC_CLIENT_ID, "http://localhost:8123")
    browser = _redeem(emu, PUBLIC_CLIENT_ID, code, verifier, "http://localhost:8123", origin)
    assert browser.status_code == 400 and "AADSTS9002326" in browser.json()["error_description"]
    assert browser.headers["Access-Control-Allow-Origin"] == origin
