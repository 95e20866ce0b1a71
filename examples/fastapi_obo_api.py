"""A FastAPI web API protected by Entra ID that calls Microsoft Graph on behalf of its caller.

``GET /me`` accepts a bearer token with the ``access_as_user`` scope, validates it, exchanges it
(on-behalf-of) for a Graph token and returns the caller's Graph profile. When Graph answers with
a claims challenge (Continuous Access Evaluation) that can't be met silently, the API answers
401 with a claims challenge, so the calling app re-acquires its token with those claims.

Run it against Entra ID (an app registration exposing ``access_as_user``, with a client secret
and the delegated Graph permission ``User.Read``)::

    export API_CLIENT_ID=... API_CLIENT_SECRET=...
    export API_AUTHORITY=https://login.microsoftonline.com/<tenant>
    uvicorn examples.fastapi_obo_api:app

or against the local emulator, no tenant needed::

    python examples/fastapi_obo_api.py --emulator

The OpenAPI document declares Entra ID (OAuth2 authorization code with PKCE, the API's
``access_as_user`` scope): on ``/docs``, "Authorize" signs a developer in through a
single-page-app registration (``SWAGGER_CLIENT_ID``; the emulator's ``SPA_CLIENT_ID``) and
"Try it out" calls the API with the token. Swagger UI's files come from a CDN unless
``SWAGGER_UI_ASSETS`` names a local copy of Swagger UI 5 (npm ``swagger-ui-dist``, or PyPI
``drf-spectacular-sidecar``; the ``--emulator`` mode uses the latter when installed).
"""

# No "from __future__ import annotations": FastAPI reads the handler annotations at runtime.

import os
import ssl
import sys
import time
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI

from entra_auth import aio
from entra_auth.web import Caller, TokenValidator, WebApi
from entra_auth.web.fastapi import FastAPIEntraAuth, serve_swagger_ui

GRAPH_ME = "https://graph.microsoft.com/v1.0/me"
GRAPH_SCOPES = ["https://graph.microsoft.com/User.Read"]


def create_app(
    client_id: str,
    client_secret: str,
    authority: str,
    *,
    graph_me_url: str = GRAPH_ME,
    allowed_hosts: Sequence[str] | None = None,
    verify: Any = True,
    clock: Callable[[], float] = time.time,
    swagger_client_id: str | None = None,
    swagger_ui_assets: str | None = None,
) -> FastAPI:
    """Build the API.

    Args:
        client_id: The API's application id.
        client_secret: Its client secret (for on-behalf-of).
        authority: ``https://login.microsoftonline.com/<tenant>``.
        graph_me_url: Where Graph's ``/me`` is (the emulator serves it on loopback).
        allowed_hosts: Hosts Graph tokens may be sent to (default: graph.microsoft.com).
        verify: TLS verification (a CA bundle path for the emulator).
        clock: Seconds since the epoch (the emulator has its own clock).
        swagger_client_id: The single-page-app registration Swagger UI signs in with.
        swagger_ui_assets: A local Swagger UI folder (else FastAPI's default CDN).
    """
    app = FastAPI(title="Contoso API")
    confidential = aio.ConfidentialClientApplication(
        client_id, client_credential=client_secret, authority=authority, verify=verify,
        instance_discovery=False if "127.0.0.1" in authority else None,
    )
    api = WebApi(
        TokenValidator(client_id, authority=authority, verify=verify, clock=clock),
        confidential, downstream_scopes=GRAPH_SCOPES, allowed_hosts=allowed_hosts,
    )
    entra = FastAPIEntraAuth(
        api, app, scopes={"access_as_user": "Call the Contoso API as the signed-in user"},
        swagger_client_id=swagger_client_id,
    )
    if swagger_ui_assets:
        serve_swagger_ui(app, swagger_ui_assets)
    tls = ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify

    user = entra.caller(scopes=["access_as_user"])

    @app.get("/me", summary="The caller's Microsoft Graph profile (on-behalf-of)")
    async def me(caller: Annotated[Caller, Depends(user)]) -> Any:
        async with httpx.AsyncClient(auth=caller.auth, verify=tls) as client:
            # A claims challenge on-behalf-of can't meet raises here; FastAPIEntraAuth turns
            # it into a 401 claims challenge for our caller.
            graph = await client.get(graph_me_url)
        graph.raise_for_status()
        profile = graph.json()
        return {"caller": caller.token.username, "displayName": profile.get("displayName"),
                "id": profile.get("id")}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def local_swagger_ui() -> str | None:
    """Swagger UI 5's folder in the ``drf-spectacular-sidecar`` package, if installed."""
    try:
        import drf_spectacular_sidecar
    except ImportError:
        return None
    folder = os.path.join(os.path.dirname(drf_spectacular_sidecar.__file__),
                          "static", "drf_spectacular_sidecar", "swagger-ui-dist")
    return folder if os.path.isdir(folder) else None


def _emulator_main() -> None:
    import uvicorn

    from entra_auth.testing import SPA_CLIENT_ID, WEB_API_ID, WEB_API_SECRET, Emulator

    assets = local_swagger_ui()
    with Emulator() as emu:
        api = create_app(WEB_API_ID, WEB_API_SECRET, emu.authority(),
                         graph_me_url=emu.graph_url, allowed_hosts=["127.0.0.1"],
                         verify=emu.ca_bundle, clock=emu.now,
                         swagger_client_id=SPA_CLIENT_ID, swagger_ui_assets=assets)
        print(f"emulator: {emu.base_url}; call http://127.0.0.1:8000/me with a token for "
              f"api://{WEB_API_ID}/access_as_user, or open http://127.0.0.1:8000/docs "
              "(alice@contoso.onmicrosoft.com / alice-password)", file=sys.stderr)
        uvicorn.run(api, host="127.0.0.1", port=8000)


if __name__ == "__main__" and "--emulator" in sys.argv:
    _emulator_main()
elif os.environ.get("API_CLIENT_ID"):
    app = create_app(os.environ["API_CLIENT_ID"], os.environ["API_CLIENT_SECRET"],
                     os.environ["API_AUTHORITY"],
                     swagger_client_id=os.environ.get("SWAGGER_CLIENT_ID"),
                     swagger_ui_assets=os.environ.get("SWAGGER_UI_ASSETS"))
