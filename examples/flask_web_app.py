"""A Flask web app that signs users in (authorization code + PKCE) and calls Graph as them.

``/login`` starts the sign-in, ``/callback`` redeems the code, ``/`` greets the user with their
Graph profile (token attached by ``EntraAuth``, refreshed silently from the user's cache), and
``/logout`` forgets them. Each browser session has its own token cache, kept server-side.

Against Entra ID (a web app registration with the redirect URI
``http://localhost:5000/callback`` and a client secret)::

    export WEB_CLIENT_ID=... WEB_CLIENT_SECRET=...
    export WEB_AUTHORITY=https://login.microsoftonline.com/<tenant>
    flask --app examples.flask_web_app run

or against the local emulator (sign in as alice@contoso.onmicrosoft.com / alice-password;
your browser will warn about the emulator's throwaway certificate)::

    python examples/flask_web_app.py --emulator
"""

from __future__ import annotations

import html
import os
import secrets
import sys
import threading
from collections.abc import Sequence
from typing import Any

import flask
import requests

import entra_auth
from entra_auth.adapters import EntraAuth

GRAPH_ME = "https://graph.microsoft.com/v1.0/me"
SCOPES = ["User.Read"]


def create_app(
    client_id: str,
    client_secret: str,
    authority: str,
    *,
    graph_me_url: str = GRAPH_ME,
    allowed_hosts: Sequence[str] | None = None,
    verify: Any = True,
    http_client: Any = None,
) -> flask.Flask:
    """Build the web app.

    Args:
        client_id: The web app's application id.
        client_secret: Its client secret.
        authority: ``https://login.microsoftonline.com/<tenant>``.
        graph_me_url: Where Graph's ``/me`` is (the emulator serves it on loopback).
        allowed_hosts: Hosts Graph tokens may be sent to (default: graph.microsoft.com).
        verify: TLS verification for Graph calls (a CA bundle path for the emulator).
        http_client: The ``requests.Session`` token requests go through.
    """
    app = flask.Flask(__name__)
    app.secret_key = secrets.token_bytes(32)
    caches: dict[str, entra_auth.SerializableTokenCache] = {}
    lock = threading.Lock()
    loopback = "127.0.0.1" in authority

    def application() -> entra_auth.ConfidentialClientApplication:
        """The confidential client, over this browser session's token cache."""
        sid = flask.session.setdefault("sid", secrets.token_urlsafe(16))
        with lock:
            cache = caches.setdefault(sid, entra_auth.SerializableTokenCache())
        kwargs: dict[str, Any] = {"http_client": http_client} if http_client else {}
        return entra_auth.ConfidentialClientApplication(
            client_id, client_credential=client_secret, authority=authority,
            token_cache=cache, instance_discovery=False if loopback else None, **kwargs)

    @app.get("/")
    def index() -> Any:
        user = flask.session.get("user")
        if not user:
            return '<a id="login" href="/login">Sign in</a>'
        auth = EntraAuth(application(), SCOPES, account=user["username"],
                         allowed_hosts=allowed_hosts)
        profile = requests.get(graph_me_url, auth=auth, verify=verify)
        if profile.status_code != 200:
            return flask.redirect(flask.url_for("login"))
        name = html.escape(str(profile.json().get("displayName")))
        return f'<p id="greeting">Hello, {name}</p><a id="logout" href="/logout">Sign out</a>'

    @app.get("/login")
    def login() -> Any:
        flow = application().initiate_auth_code_flow(
            SCOPES, redirect_uri=flask.url_for("callback", _external=True))
        flask.session["flow"] = flow
        return flask.redirect(flow["auth_uri"])

    @app.get("/callback")
    def callback() -> Any:
        flow = flask.session.pop("flow", None)
        if flow is None:
            return flask.redirect(flask.url_for("index"))
        try:
            result = application().acquire_token_by_auth_code_flow(
                flow, flask.request.args.to_dict())
        except ValueError:  # state mismatch: a forged or replayed redirect
            return "Sign-in failed: bad state", 400
        if "error" in result:
            return f"Sign-in failed: {html.escape(str(result['error']))}", 400
        claims = result.get("id_token_claims") or {}
        flask.session["user"] = {"username": claims.get("preferred_username"),
                                 "name": claims.get("name")}
        return flask.redirect(flask.url_for("index"))

    @app.get("/logout")
    def logout() -> Any:
        with lock:
            caches.pop(flask.session.get("sid", ""), None)
        flask.session.clear()
        return flask.redirect(flask.url_for("index"))

    return app


def _emulator_main() -> None:
    from entra_auth.testing import WEB_APP_ID, WEB_APP_SECRET, Emulator

    with Emulator() as emu:
        web = create_app(WEB_APP_ID, WEB_APP_SECRET, emu.authority(), graph_me_url=emu.graph_url,
                         allowed_hosts=["127.0.0.1"], verify=emu.ca_bundle,
                         http_client=emu.requests_session())
        print("open http://localhost:5000/", file=sys.stderr)
        web.run(host="127.0.0.1", port=5000)


if __name__ == "__main__" and "--emulator" in sys.argv:
    _emulator_main()
elif os.environ.get("WEB_CLIENT_ID"):
    app = create_app(os.environ["WEB_CLIENT_ID"], os.environ["WEB_CLIENT_SECRET"],
                     os.environ["WEB_AUTHORITY"])
