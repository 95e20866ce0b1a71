"""No secret reaches a log record or an exception message, across every flow at DEBUG.

A handler on the root logger and on ``entra_auth`` keeps every record whole (message, msg,
args, exception text, extras). Every secret the run handles (tokens the emulator issued,
codes, verifiers, device codes, passwords, client secrets, assertions, a private key) is then
searched for in full and by its first 16 characters.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import threading
import time
import traceback
import uuid
import webbrowser
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
import requests

import entra_auth as msal
from entra_auth import EntraAuth, aio
from entra_auth.testing import (
    GRAPH_RESOURCE,
    PUBLIC_CLIENT_ID,
    WEB_API_ID,
    WEB_API_SECRET,
    WEB_APP_ID,
    WEB_APP_SECRET,
    Emulator,
    complete_authorization,
    default_web_app_certificate,
    enter_device_code,
)

from .net import listening_addresses

ALICE, ALICE_PW = "alice@contoso.onmicrosoft.com", "alice-password"
BOB, BOB_PW = "bob@contoso.onmicrosoft.com", "bob-password"
USER_READ = f"{GRAPH_RESOURCE}/User.Read"
GRAPH_DEFAULT = [f"{GRAPH_RESOURCE}/.default"]
API_SCOPE = f"api://{WEB_API_ID}/access_as_user"
SECRET_FIELDS = ("access_token", "refresh_token", "id_token", "code", "code_verifier",
                 "device_code", "client_assertion", "assertion", "password", "client_secret")


class _KeepAll(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        parts = [str(record.msg), repr(record.args), repr(vars(record))]
        try:
            parts.append(record.getMessage())
        except Exception as exc:  # a broken format string is itself worth seeing
            parts.append(f"unformattable record: {exc!r}")
        if record.exc_info:
            parts.append("".join(traceback.format_exception(*record.exc_info)))
        self.texts.append("\n".join(parts))


class Secrets:
    """Collects every secret value seen, and the texts that must not contain any."""

    def __init__(self) -> None:
        self.values: set[str] = {ALICE_PW, BOB_PW, WEB_APP_SECRET, WEB_API_SECRET}
        self.exposed: list[str] = []  # exception messages and error descriptions

    def add(self, value: Any) -> None:
        if isinstance(value, str) and len(value) >= 8:
            self.values.add(value)

    def take(self, result: Any) -> Any:
        """Record a result's secrets (and its error text as exposed) and return it."""
        if isinstance(result, dict):
            for name in SECRET_FIELDS:
                self.add(result.get(name))
            for name in ("error_description", "message"):
                if isinstance(result.get(name), str) and "error" in result:
                    self.exposed.append(result[name])
        return result

    def take_cache(self, cache: Any) -> None:
        data = json.loads(cache.serialize())
        for section in ("AccessToken", "RefreshToken", "IdToken"):
            for entry in data.get(section, {}).values():
                self.add(entry.get("secret"))

    def expect_raise(self, exc_type: type[BaseException], call: Any) -> BaseException:
        with pytest.raises(exc_type) as info:
            call()
        self.exposed.append(
            "".join(traceback.format_exception(info.value)) + repr(info.value)
            + repr(getattr(info.value, "result", None)))
        return info.value


@pytest.fixture
def leak_check(entra_emulator: Emulator) -> Iterator[Secrets]:
    handler = _KeepAll()
    watched = [logging.getLogger(), logging.getLogger("entra_auth")]
    levels = [lg.level for lg in watched]
    for lg in watched:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    secrets = Secrets()
    try:
        yield secrets
    finally:
        for lg, level in zip(watched, levels):
            lg.removeHandler(handler)
            lg.setLevel(level)
    assert handler.count > 0, "nothing was logged at DEBUG: the check would be vacuous"
    haystack = "\n".join(handler.texts + secrets.exposed)
    for value in secrets.values:
        assert value not in haystack, f"a secret ({len(value)} chars) was logged or raised"
        if len(value) > 16:
            assert value[:16] not in haystack, "a secret's first 16 characters were exposed"


def _public(emu: Emulator, **kwargs: Any) -> Any:
    return msal.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle,
        token_cache=msal.SerializableTokenCache(), **kwargs)


def _confidential(emu: Emulator, credential: Any = WEB_APP_SECRET,
                  client_id: str = WEB_APP_ID) -> Any:
    return msal.ConfidentialClientApplication(
        client_id, client_credential=credential, authority=emu.authority(),
        verify=emu.ca_bundle, token_cache=msal.SerializableTokenCache())


def test_public_client_flows(entra_emulator: Emulator, leak_check: Secrets) -> None:
    emu, s = entra_emulator, leak_check
    app = _public(emu)
    s.take(app.acquire_token_by_username_password(ALICE, ALICE_PW, [USER_READ]))
    s.take(app.acquire_token_by_username_password(ALICE, "wrong-password-123", [USER_READ]))
    s.add("wrong-password-123")
    [account] = app.get_accounts()
    s.take(app.acquire_token_silent_with_error([USER_READ], account, force_refresh=True))
    # Auth code flow: the code, the verifier, the nonce's id_token.
    flow = app.initiate_auth_code_flow([USER_READ], redirect_uri="http://localhost:8400")
    s.add(flow["code_verifier"])
    response = complete_authorization(flow["auth_uri"], ALICE, ALICE_PW, verify=emu.ca_bundle)
    s.add(response["code"])
    s.take(app.acquire_token_by_auth_code_flow(flow, response))
    s.take(app.acquire_token_by_auth_code_flow(flow, response))  # code replayed: invalid_grant
    s.expect_raise(ValueError, lambda: app.acquire_token_by_auth_code_flow(
        flow, {**response, "state": "forged"}))
    # Device code.
    device = s.take(app.initiate_device_flow([USER_READ]))
    enter_device_code(device, ALICE, ALICE_PW, verify=emu.ca_bundle)
    s.take(app.acquire_token_by_device_flow(device))
    # Refresh token migration, a revoked refresh token, MFA required.
    rt = next(iter(json.loads(app.token_cache.serialize())["RefreshToken"].values()))["secret"]
    other = _public(emu)
    s.take(other.acquire_token_by_refresh_token(rt, [USER_READ]))
    emu.revoke_sessions(ALICE)
    [account] = app.get_accounts()
    s.take(app.acquire_token_silent_with_error([USER_READ], account, force_refresh=True))
    s.take(_public(emu).acquire_token_by_username_password(BOB, BOB_PW, [USER_READ]))
    s.take_cache(app.token_cache)
    s.take_cache(other.token_cache)


def test_faulted_replies(entra_emulator: Emulator, leak_check: Secrets) -> None:
    emu, s = entra_emulator, leak_check
    app = _public(emu)
    s.take(app.acquire_token_by_username_password(ALICE, ALICE_PW, [USER_READ]))
    [account] = app.get_accounts()
    for kind in ("malformed_json", "html", "empty", "truncated", "drop", "reset",
                 "wrong_content_type"):
        emu.inject_fault("token", kind)  # type: ignore[arg-type]
        s.take(app.acquire_token_silent_with_error([USER_READ], account, force_refresh=True))
    emu.inject_fault("token", "status", status=429, retry_after=1)
    s.take(app.acquire_token_silent_with_error([USER_READ], account, force_refresh=True))
    s.take_cache(app.token_cache)


def _signed_assertion(emu: Emulator) -> str:
    cert = default_web_app_certificate()
    now = int(time.time())
    claims = {"aud": emu.token_endpoint(), "iss": WEB_APP_ID, "sub": WEB_APP_ID,
              "iat": now, "nbf": now, "exp": now + 600, "jti": str(uuid.uuid4())}
    headers = {"x5t": jwt.utils.base64url_encode(bytes.fromhex(cert.thumbprint_sha1)).decode()}
    return jwt.encode(claims, cert.private_key_pem, algorithm="RS256", headers=headers)


def test_confidential_client_flows(entra_emulator: Emulator, leak_check: Secrets) -> None:
    emu, s = entra_emulator, leak_check
    cert = default_web_app_certificate()
    key_body = "".join(cert.private_key_pem.strip().splitlines()[1:-1])
    s.add(key_body)
    s.add(key_body[len(key_body) // 2:])  # and a piece from its middle
    s.take(_confidential(emu).acquire_token_for_client(GRAPH_DEFAULT))
    s.take(_confidential(emu, cert.msal_credential()).acquire_token_for_client(GRAPH_DEFAULT))
    assertion = _signed_assertion(emu)
    s.add(assertion)
    s.take(_confidential(emu, {"client_assertion": assertion}
                         ).acquire_token_for_client(GRAPH_DEFAULT))
    s.take(_confidential(emu, "not-the-secret-value").acquire_token_for_client(GRAPH_DEFAULT))
    s.add("not-the-secret-value")
    # On-behalf-of: the user's assertion is a secret too.
    user = s.take(_public(emu).acquire_token_by_username_password(ALICE, ALICE_PW, [API_SCOPE]))
    api = _confidential(emu, WEB_API_SECRET, WEB_API_ID)
    s.take(api.acquire_token_on_behalf_of(user["access_token"], [USER_READ]))
    s.take(api.acquire_token_on_behalf_of(user["access_token"] + "x", [USER_READ]))
    s.take_cache(api.token_cache)


def test_adapters_and_async(entra_emulator: Emulator, leak_check: Secrets) -> None:
    emu, s = entra_emulator, leak_check
    app = _confidential(emu)
    auth = EntraAuth(app, GRAPH_DEFAULT, allowed_hosts=["127.0.0.1"])
    with requests.Session() as session:
        session.auth, session.verify, session.trust_env = auth, emu.ca_bundle, False
        assert session.get(emu.echo_url, timeout=10).status_code == 200
        session.auth = EntraAuth(_confidential(emu), GRAPH_DEFAULT, allowed_hosts=["127.0.0.1"])
        emu.inject_fault("token", "malformed_json")
        s.expect_raise(msal.EntraAuthError, lambda: session.get(emu.echo_url, timeout=10))
    s.take(auth.get_token() and {"access_token": auth.get_token()})
    s.take_cache(app.token_cache)

    async def run() -> None:
        ctx = ssl.create_default_context(cafile=emu.ca_bundle)
        async with aio.PublicClientApplication(
                PUBLIC_CLIENT_ID, authority=emu.authority(), verify=ctx,
                token_cache=msal.SerializableTokenCache()) as pca:
            s.take(await pca.acquire_token_by_username_password(ALICE, ALICE_PW, [USER_READ]))
            [account] = await pca.get_accounts()
            s.take(await pca.acquire_token_silent_with_error(
                [USER_READ], account, force_refresh=True))
            s.take_cache(pca.token_cache)

    asyncio.run(run())


class EmulatorUserAgent(webbrowser.BaseBrowser):
    """A "system browser": signs Alice in on the emulator's pages, then delivers the
    redirect (form_post or query) to the app's loopback listener, in a thread."""

    def __init__(self, ca_bundle: str) -> None:
        super().__init__("entra-emulator-agent")
        self.ca_bundle = ca_bundle
        self.urls: list[str] = []
        self.listener_binds: list[str] = []  # where the listener listened, seen meanwhile

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        self.urls.append(url)
        query = dict(parse_qsl(urlsplit(url).query))
        redirect_uri = query["redirect_uri"]
        self.listener_binds.extend(listening_addresses(urlsplit(redirect_uri).port or 80))

        def follow() -> None:
            params = complete_authorization(url, ALICE, ALICE_PW, verify=self.ca_bundle)
            with requests.Session() as agent:
                agent.trust_env = False
                if query.get("response_mode") == "form_post":
                    agent.post(redirect_uri, data=params, timeout=10)
                else:
                    agent.get(redirect_uri, params=params, timeout=10)

        threading.Thread(target=follow, daemon=True).start()
        return True


def test_interactive(entra_emulator: Emulator, leak_check: Secrets,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    emu, s = entra_emulator, leak_check
    agent = EmulatorUserAgent(emu.ca_bundle)
    webbrowser.register("entra-emulator-agent", None, agent, preferred=True)
    monkeypatch.setattr(webbrowser, "_tryorder", ["entra-emulator-agent"])
    app = _public(emu)
    result = s.take(app.acquire_token_interactive([USER_READ], login_hint=ALICE, timeout=20))
    assert "access_token" in result, result.get("error_description")
    assert agent.urls and "code_challenge_method=S256" in agent.urls[0]
    assert sorted(agent.listener_binds) == ["127.0.0.1", "::1"]  # loopback only (issue 13.5)
    s.take_cache(app.token_cache)
