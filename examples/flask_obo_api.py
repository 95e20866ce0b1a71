"""A Flask web API protected by Entra ID that calls Microsoft Graph on behalf of its caller.

``GET /me`` accepts a user's token with the ``access_as_user`` scope, exchanges it (on-behalf-of)
for a Graph token and returns the caller's Graph profile; a claims challenge from Graph that
can't be met silently reaches the caller as a 401 claims challenge. ``GET /reports`` accepts
applications (client credentials) holding the ``Data.Read.All`` app role; ``/health`` needs no
token. (``examples/flask_web_app.py`` is the other side: a web *app* that signs users in.)

Against Entra ID (an app registration exposing ``access_as_user`` and the app role
``Data.Read.All``, with a client secret and the delegated Graph permission ``User.Read``)::

    export API_CLIENT_ID=... API_CLIENT_SECRET=...
    export API_AUTHORITY=https://login.microsoftonline.com/<tenant>
    flask --app examples.flask_obo_api run

or against the local emulator, no tenant needed::

    python examples/flask_obo_api.py --emulator
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import flask
import requests

import entra_auth
from entra_auth.web import Caller, TokenValidator, WebApi
from entra_auth.web.flask import FlaskEntraAuth

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
) -> flask.Flask:
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
    app = flask.Flask("contoso_api")
    confidential = entra_auth.ConfidentialClientApplication(
        client_id, client_credential=client_secret, authority=authority, verify=verify,
        instance_discovery=False if "127.0.0.1" in authority else None,
    )
    api = WebApi(
        TokenValidator(client_id, authority=authority, verify=verify, clock=clock),
        confidential, downstream_scopes=GRAPH_SCOPES, allowed_hosts=allowed_hosts,
    )
    entra = FlaskEntraAuth(api, app)

    @app.get("/me")
    @entra.requires_auth(scopes=["access_as_user"])
    def me(caller: Caller) -> Any:
        # A claims challenge on-behalf-of can't meet raises InteractionRequiredError here;
        # requires_auth answers our caller with a 401 claims challenge.
        graph = requests.get(graph_me_url, auth=caller.auth, verify=verify, timeout=30)
        graph.raise_for_status()
        profile = graph.json()
        return {"caller": caller.token.username, "displayName": profile.get("displayName"),
                "id": profile.get("id")}

    @app.get("/reports")
    @entra.requires_auth(roles=["Data.Read.All"])
    def reports(caller: Caller) -> Any:
        if not caller.token.is_app_only:  # a user holding the role is not a daemon
            return {"error": "app_only"}, 403
        return {"app": caller.claims.get("azp"), "reports": ["q1", "q2"]}

    @app.get("/health")
    def health() -> Any:
        return {"status": "ok"}

    return app


def _emulator_main() -> None:
    from entra_auth.testing import WEB_API_ID, WEB_API_SECRET, Emulator

    with Emulator() as emu:
        app = create_app(WEB_API_ID, WEB_API_SECRET, emu.authority(),
                         graph_me_url=emu.graph_url, allowed_hosts=["127.0.0.1"],
                         verify=emu.ca_bundle, clock=emu.now)
        print(f"emulator: {emu.base_url}; call http://127.0.0.1:8000/me with a token for "
              f"api://{WEB_API_ID}/access_as_user", file=sys.stderr)
        app.run(host="127.0.0.1", port=8000)


if __name__ == "__main__" and "--emulator" in sys.argv:
    _emulator_main()
elif os.environ.get("API_CLIENT_ID"):
    app = create_app(os.environ["API_CLIENT_ID"], os.environ["API_CLIENT_SECRET"],
                     os.environ["API_AUTHORITY"])
