"""A Django web API protected by Entra ID that calls Microsoft Graph on behalf of its caller.

A one-file Django project. ``GET /me`` accepts a user's token with the ``access_as_user`` scope,
exchanges it (on-behalf-of) for a Graph token and returns the caller's Graph profile; a claims
challenge from Graph that can't be met silently reaches the caller as a 401 claims challenge.
``GET /reports`` accepts only applications (client credentials) holding the ``Data.Read.All``
app role, ``GET /whoami`` (``async def``) any valid token; ``/health`` needs none.

Against Entra ID (an app registration exposing ``access_as_user`` and the app role
``Data.Read.All``, with a client secret and the delegated Graph permission ``User.Read``)::

    export API_CLIENT_ID=... API_CLIENT_SECRET=...
    export API_AUTHORITY=https://login.microsoftonline.com/<tenant>
    python examples/django_obo_api.py runserver 127.0.0.1:8000

or against the local emulator, no tenant needed::

    python examples/django_obo_api.py --emulator
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import django
import requests
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path

import entra_auth
from entra_auth.web import Caller, TokenValidator, WebApi
from entra_auth.web.django import requires_auth

GRAPH_ME = "https://graph.microsoft.com/v1.0/me"
GRAPH_SCOPES = ["https://graph.microsoft.com/User.Read"]

# The WebApi settings.ENTRA_AUTH["API"] names (set by configure()).
api: WebApi | None = None
_graph: dict[str, Any] = {"url": GRAPH_ME, "verify": True}


def configure(
    client_id: str,
    client_secret: str,
    authority: str,
    *,
    graph_me_url: str = GRAPH_ME,
    allowed_hosts: Sequence[str] | None = None,
    verify: Any = True,
    clock: Callable[[], float] = time.time,
) -> Any:
    """Configure Django (once per process) and this module's :class:`WebApi`.

    Args:
        client_id: The API's application id.
        client_secret: Its client secret (for on-behalf-of).
        authority: ``https://login.microsoftonline.com/<tenant>``.
        graph_me_url: Where Graph's ``/me`` is (the emulator serves it on loopback).
        allowed_hosts: Hosts Graph tokens may be sent to (default: graph.microsoft.com).
        verify: TLS verification (a CA bundle path for the emulator).
        clock: Seconds since the epoch (the emulator has its own clock).

    Returns:
        The project's WSGI application (``django.core.wsgi.get_wsgi_application()``).
    """
    global api
    confidential = entra_auth.ConfidentialClientApplication(
        client_id, client_credential=client_secret, authority=authority, verify=verify,
        instance_discovery=False if "127.0.0.1" in authority else None,
    )
    api = WebApi(
        TokenValidator(client_id, authority=authority, verify=verify, clock=clock),
        confidential, downstream_scopes=GRAPH_SCOPES, allowed_hosts=allowed_hosts,
    )
    _graph.update(url=graph_me_url, verify=verify)
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "example-only-not-secret"),
            ROOT_URLCONF=__name__,
            ALLOWED_HOSTS=["127.0.0.1", "localhost", "testserver"],
            INSTALLED_APPS=[],
            MIDDLEWARE=["entra_auth.web.django.EntraAuthMiddleware"],
            ENTRA_AUTH={"API": f"{__name__}.api", "EXEMPT_PATHS": ["/health"]},
        )
        django.setup()
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


@requires_auth(scopes=["access_as_user"], app_only=False)
def me(request: HttpRequest, caller: Caller) -> JsonResponse:
    """The caller's Graph profile, fetched on-behalf-of the caller."""
    # A claims challenge on-behalf-of can't meet raises InteractionRequiredError here;
    # requires_auth answers our caller with a 401 claims challenge.
    graph = requests.get(_graph["url"], auth=caller.auth, verify=_graph["verify"], timeout=30)
    graph.raise_for_status()
    profile = graph.json()
    return JsonResponse({"caller": caller.token.username,
                         "displayName": profile.get("displayName"), "id": profile.get("id")})


@requires_auth(roles=["Data.Read.All"], app_only=True)
def reports(request: HttpRequest, caller: Caller) -> JsonResponse:
    """Only for daemons: an application token with the Data.Read.All app role."""
    return JsonResponse({"app": caller.claims.get("azp") or caller.claims.get("appid"),
                         "reports": ["q1", "q2"]})


@requires_auth()
async def whoami(request: HttpRequest) -> JsonResponse:
    """Any valid token (an ``async def`` view; the middleware validated it too)."""
    caller: Caller = request.entra_caller  # type: ignore[attr-defined]
    return JsonResponse({"oid": caller.token.object_id, "app_only": caller.token.is_app_only})


def health(request: HttpRequest) -> JsonResponse:
    """No token needed (settings.ENTRA_AUTH["EXEMPT_PATHS"])."""
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("me", me),
    path("reports", reports),
    path("whoami", whoami),
    path("health", health),
]


def _emulator_main() -> None:
    from wsgiref.simple_server import make_server

    from entra_auth.testing import WEB_API_ID, WEB_API_SECRET, Emulator

    with Emulator() as emu:
        application = configure(WEB_API_ID, WEB_API_SECRET, emu.authority(),
                                graph_me_url=emu.graph_url, allowed_hosts=["127.0.0.1"],
                                verify=emu.ca_bundle, clock=emu.now)
        print(f"emulator: {emu.base_url}; call http://127.0.0.1:8000/me with a token for "
              f"api://{WEB_API_ID}/access_as_user", file=sys.stderr)
        make_server("127.0.0.1", 8000, application).serve_forever()


if __name__ == "__main__":
    if "--emulator" in sys.argv:
        _emulator_main()
    else:
        configure(os.environ["API_CLIENT_ID"], os.environ["API_CLIENT_SECRET"],
                  os.environ["API_AUTHORITY"])
        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)
