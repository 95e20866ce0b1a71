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
from entra_auth.web.fastapi import FastAPIEntraAuth

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
    entra = FastAPIEntraAuth(api, app)
    tls = ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify

    user = entra.caller(scopes=["access_as_user"])

    @app.get("/me")
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


def _emulator_main() -> None:
    import uvicorn

    from entra_auth.testing import WEB_API_ID, WEB_API_SECRET, Emulator

    with Emulator() as emu:
        api = create_app(WEB_API_ID, WEB_API_SECRET, emu.authority(),
                         graph_me_url=emu.graph_url, allowed_hosts=["127.0.0.1"],
                         verify=emu.ca_bundle, clock=emu.now)
        print(f"emulator: {emu.base_url}; call http://127.0.0.1:8000/me with a token for "
              f"api://{WEB_API_ID}/access_as_user", file=sys.stderr)
        uvicorn.run(api, host="127.0.0.1", port=8000)


if __name__ == "__main__" and "--emulator" in sys.argv:
    _emulator_main()
elif os.environ.get("API_CLIENT_ID"):
    app = create_app(os.environ["API_CLIENT_ID"], os.environ["API_CLIENT_SECRET"],
                     os.environ["API_AUTHORITY"])
