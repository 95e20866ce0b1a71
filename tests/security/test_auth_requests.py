"""PKCE S256 on every authorization request; state, nonce and max_age/auth_time enforced."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import ssl
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

import entra_auth as msal
from entra_auth import aio
from entra_auth.testing import GRAPH_RESOURCE, PUBLIC_CLIENT_ID, Emulator, complete_authorization

ALICE, ALICE_PW = "alice@contoso.onmicrosoft.com", "alice-password"
USER_READ = f"{GRAPH_RESOURCE}/User.Read"
REDIRECT = "http://localhost:8400"
VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")


def _app(emu: Emulator) -> Any:
    return msal.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle,
        token_cache=msal.SerializableTokenCache())


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _check_pkce(flow: dict[str, Any]) -> dict[str, str]:
    query = dict(parse_qsl(urlsplit(flow["auth_uri"]).query))
    assert query["code_challenge_method"] == "S256"
    assert VERIFIER.fullmatch(flow["code_verifier"])
    assert query["code_challenge"] == _s256(flow["code_verifier"])
    assert query["state"] == flow["state"] and len(flow["state"]) >= 16
    assert query["nonce"] == hashlib.sha256(flow["nonce"].encode()).hexdigest()
    return query


def test_every_auth_request_uses_fresh_pkce_s256_state_and_nonce(
        entra_emulator: Emulator) -> None:
    app = _app(entra_emulator)
    flows = [app.initiate_auth_code_flow([USER_READ], redirect_uri=REDIRECT,
                                         prompt=prompt, max_age=age, response_mode=mode)
             for prompt in (None, "login", "select_account") for age in (None, 0, 300)
             for mode in (None, "form_post", "fragment")]

    async def async_flow() -> dict[str, Any]:
        async with aio.PublicClientApplication(
                PUBLIC_CLIENT_ID, authority=entra_emulator.authority(),
                verify=ssl.create_default_context(cafile=entra_emulator.ca_bundle)) as a:
            result: dict[str, Any] = await a.initiate_auth_code_flow(
                [USER_READ], redirect_uri=REDIRECT)
            return result

    flows.append(asyncio.run(async_flow()))
    for flow in flows:
        _check_pkce(flow)
    for name in ("state", "nonce", "code_verifier"):
        assert len({f[name] for f in flows}) == len(flows), f"{name} repeated"
    # The server saw S256 on the request a user completed.
    complete_authorization(flows[0]["auth_uri"], ALICE, ALICE_PW,
                           verify=entra_emulator.ca_bundle)
    [authorize] = [r for r in entra_emulator.requests_to("authorize") if r.method == "GET"][:1]
    assert authorize.query["code_challenge_method"] == "S256"


def _signed_in_flow(emu: Emulator, **options: Any) -> tuple[Any, dict[str, Any], dict[str, str]]:
    app = _app(emu)
    flow = app.initiate_auth_code_flow([USER_READ], redirect_uri=REDIRECT, **options)
    response = complete_authorization(flow["auth_uri"], ALICE, ALICE_PW, verify=emu.ca_bundle)
    return app, flow, response


def _token_posts(emu: Emulator) -> int:
    return len([r for r in emu.requests_to("token") if r.method == "POST"])


@pytest.mark.parametrize("forged", [
    {"state": "attacker-state"}, {"state": None}, {"state": ""}, {"state": 12345},
    {"state": ["x"]},
])
def test_state_mismatch_is_refused_before_any_token_request(
        entra_emulator: Emulator, forged: dict[str, Any]) -> None:
    app, flow, response = _signed_in_flow(entra_emulator)
    posts = _token_posts(entra_emulator)
    hostile = {**response, **forged}
    if forged["state"] is None:
        del hostile["state"]
    with pytest.raises(ValueError, match="state"):
        app.acquire_token_by_auth_code_flow(flow, hostile)
    assert _token_posts(entra_emulator) == posts
    assert not json.loads(app.token_cache.serialize()).get("AccessToken")
    # A flow without state is refused too (no CSRF protection to rely on).
    with pytest.raises(ValueError, match="state"):
        app.acquire_token_by_auth_code_flow({**flow, "state": ""}, {**response, "state": ""})
    # The genuine pair still works once.
    assert "access_token" in app.acquire_token_by_auth_code_flow(flow, response)


def test_nonce_mismatch_is_refused_and_nothing_cached(entra_emulator: Emulator) -> None:
    app, flow, response = _signed_in_flow(entra_emulator)
    before = app.token_cache.serialize()
    with pytest.raises(RuntimeError, match="nonce"):
        app.acquire_token_by_auth_code_flow({**flow, "nonce": "replayed-nonce"}, response)
    assert app.token_cache.serialize() == before


def test_max_age_enforced_with_auth_time(entra_emulator: Emulator) -> None:
    emu = entra_emulator
    app, flow, response = _signed_in_flow(emu, max_age=300)
    result = app.acquire_token_by_auth_code_flow(flow, response)
    assert "access_token" in result and isinstance(result["id_token_claims"]["auth_time"], int)
    # The user authenticated an hour ago (by the emulator's clock): max_age=60 is exceeded.
    emu.advance_clock(-3600)
    app, flow, response = _signed_in_flow(emu, max_age=60)
    before = app.token_cache.serialize()
    with pytest.raises(RuntimeError, match="max_age"):
        app.acquire_token_by_auth_code_flow(flow, response)
    assert app.token_cache.serialize() == before
