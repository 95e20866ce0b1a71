"""MSAL's 400 throttling: an identical refused request is replayed for 60 s; a request with
other client authentication (a corrected secret, a rotated federated assertion) is new."""

from __future__ import annotations

from entra_auth.protocol import throttling
from entra_auth.protocol.messages import HttpRequest

from .helpers import Driver, json_response, make_ctx

URL = "https://login.microsoftonline.com/t/oauth2/v2.0/token"


def _request(**auth: str) -> HttpRequest:
    form = {"client_id": "c", "grant_type": "client_credentials", "scope": "api/.default", **auth}
    return HttpRequest("POST", URL, {}, form)


def test_identical_400_is_replayed_but_new_client_authentication_is_sent() -> None:
    ctx = make_ctx()
    d = Driver(throttling.send(ctx, _request(client_assertion="garbage")))
    assert d.start() is not None
    d.send(json_response({"error": "invalid_request"}, 400))
    assert d.result.status_code == 400
    # the same request again: answered from the throttle, nothing sent
    replay = Driver(throttling.send(ctx, _request(client_assertion="garbage")))
    assert replay.start() is None and replay.result.status_code == 400
    # the token file was rotated: the new assertion goes to the network at once
    rotated = Driver(throttling.send(ctx, _request(client_assertion="eyJ.rotated.sig")))
    assert isinstance(rotated.start(), HttpRequest)
    # and so does a corrected secret
    fixed = Driver(throttling.send(ctx, _request(client_secret="right")))
    assert isinstance(fixed.start(), HttpRequest)
    # the throttle keys hold hashes, never the secrets themselves
    assert not any("garbage" in key for key in ctx.http_cache)
