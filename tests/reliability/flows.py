"""Every flow of the fault matrix as a (prepare, act) pair against the emulator.

``prepare`` builds a fresh application (fresh token cache and http_cache) and whatever state
the step under test needs (a signed-in user, a device code, a redirect); ``act`` runs only the
step that meets the injected fault. Faults are injected between the two, so preparation is
never disturbed by them.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
    enter_device_code,
)

ALICE = "alice@contoso.onmicrosoft.com"
ALICE_PW = "alice-password"
USER_READ = f"{GRAPH_RESOURCE}/User.Read"
GRAPH_DEFAULT = [f"{GRAPH_RESOURCE}/.default"]
API_SCOPE = f"api://{WEB_API_ID}/access_as_user"
TIMEOUT = 0.75  # the apps' transport timeout (per read); the "timeout" fault delays 2x


@dataclass
class Cell:
    """One flow's application and the state its faulted step starts from."""

    app: Any
    cache: Any
    act: Callable[[], Any]
    valid_token: str | None = None  # a cached, still-valid token the step may fall back to
    cleanup: Callable[[], None] = lambda: None


@dataclass(frozen=True)
class FlowSpec:
    """A row of the matrix: the endpoint its faulted step calls and how to set it up."""

    name: str
    endpoint: str
    method: str
    prepare: Callable[[Emulator], Cell]


def _no_wait(seconds: float) -> None:
    """The apps' sleep: a throttled discovery GET's Retry-After wait returns at once (its one
    retry is still sent; the cells count it)."""


def _public(emu: Emulator, cache: Any = None) -> Any:
    return msal.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle, timeout=TIMEOUT,
        token_cache=cache if cache is not None else msal.SerializableTokenCache(),
        http_cache={}, sleep=_no_wait,
    )


def _confidential(emu: Emulator, client_id: str = WEB_APP_ID,
                  secret: str = WEB_APP_SECRET, cache: Any = None) -> Any:
    return msal.ConfidentialClientApplication(
        client_id, client_credential=secret, authority=emu.authority(),
        verify=emu.ca_bundle, timeout=TIMEOUT,
        token_cache=cache if cache is not None else msal.SerializableTokenCache(),
        http_cache={}, sleep=_no_wait,
    )


def _signed_in(emu: Emulator, scopes: list[str] | None = None) -> tuple[Any, dict[str, Any]]:
    app = _public(emu)
    result = app.acquire_token_by_username_password(ALICE, ALICE_PW, scopes or [USER_READ])
    assert "access_token" in result, result
    return app, result


def _edit_access_tokens(cache: Any, **fields: int) -> Any:
    """A copy of ``cache`` whose access tokens have ``fields`` set relative to now."""
    data = json.loads(cache.serialize())
    now = int(time.time())
    for entry in data["AccessToken"].values():
        for name, delta in fields.items():
            entry[name] = str(now + delta)
    edited = msal.SerializableTokenCache()
    edited.deserialize(json.dumps(data))
    return edited


def _discovery(emu: Emulator) -> Cell:
    app = _confidential(emu)
    return Cell(app, app.token_cache, lambda: app.acquire_token_for_client(GRAPH_DEFAULT))


def _silent_expired(emu: Emulator) -> Cell:
    first, _ = _signed_in(emu)
    cache = _edit_access_tokens(first.token_cache, expires_on=-60, extended_expires_on=-60)
    app = _public(emu, cache)
    [account] = app.get_accounts()  # discovery happens here, before the fault
    return Cell(app, cache, lambda: app.acquire_token_silent_with_error([USER_READ], account))


def _silent_proactive(emu: Emulator) -> Cell:
    first, result = _signed_in(emu)
    cache = _edit_access_tokens(first.token_cache, refresh_on=-60)
    app = _public(emu, cache)
    [account] = app.get_accounts()
    return Cell(app, cache, lambda: app.acquire_token_silent_with_error([USER_READ], account),
                valid_token=result["access_token"])


def _auth_code(emu: Emulator) -> Cell:
    app = _public(emu)
    flow = app.initiate_auth_code_flow([USER_READ], redirect_uri="http://localhost:8400")
    response = complete_authorization(flow["auth_uri"], ALICE, ALICE_PW, verify=emu.ca_bundle)
    return Cell(app, app.token_cache,
                lambda: app.acquire_token_by_auth_code_flow(flow, response))


def _device_initiate(emu: Emulator) -> Cell:
    app = _public(emu)
    app.get_accounts()  # discovery before the fault
    return Cell(app, app.token_cache, lambda: app.initiate_device_flow([USER_READ]))


def _device_poll(emu: Emulator) -> Cell:
    app = _public(emu)
    flow = app.initiate_device_flow([USER_READ])
    assert "user_code" in flow, flow
    # The user has already approved, so a poll that gets through gets tokens at once.
    enter_device_code(flow, ALICE, ALICE_PW, verify=emu.ca_bundle)
    return Cell(app, app.token_cache, lambda: app.acquire_token_by_device_flow(flow))


def _password(emu: Emulator) -> Cell:
    app = _public(emu)
    app.get_accounts()
    return Cell(app, app.token_cache,
                lambda: app.acquire_token_by_username_password(ALICE, ALICE_PW, [USER_READ]))


def _rt_migration(emu: Emulator) -> Cell:
    _, result = _signed_in(emu)
    app = _public(emu)
    app.get_accounts()
    rt = result["refresh_token"]
    return Cell(app, app.token_cache,
                lambda: app.acquire_token_by_refresh_token(rt, [USER_READ]))


def _client_credentials(emu: Emulator) -> Cell:
    app = _confidential(emu)
    app.get_accounts()
    return Cell(app, app.token_cache, lambda: app.acquire_token_for_client(GRAPH_DEFAULT))


def _client_credentials_proactive(emu: Emulator) -> Cell:
    first = _confidential(emu)
    result = first.acquire_token_for_client(GRAPH_DEFAULT)
    assert "access_token" in result, result
    cache = _edit_access_tokens(first.token_cache, refresh_on=-60)
    app = _confidential(emu, cache=cache)
    app.get_accounts()
    return Cell(app, cache, lambda: app.acquire_token_for_client(GRAPH_DEFAULT),
                valid_token=result["access_token"])


def _client_credentials_async(emu: Emulator) -> Cell:
    loop = asyncio.new_event_loop()
    app = aio.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        verify=ssl.create_default_context(cafile=emu.ca_bundle), timeout=TIMEOUT,
        token_cache=msal.SerializableTokenCache(), http_cache={},
    )
    loop.run_until_complete(app.get_accounts())

    def close() -> None:
        loop.run_until_complete(app.aclose())
        loop.close()

    return Cell(app, app.token_cache,
                lambda: loop.run_until_complete(app.acquire_token_for_client(GRAPH_DEFAULT)),
                cleanup=close)


def _on_behalf_of(emu: Emulator) -> Cell:
    _, user = _signed_in(emu, [API_SCOPE])
    app = _confidential(emu, WEB_API_ID, WEB_API_SECRET)
    app.get_accounts()
    assertion = user["access_token"]
    return Cell(app, app.token_cache,
                lambda: app.acquire_token_on_behalf_of(assertion, [USER_READ]))


def _on_behalf_of_proactive(emu: Emulator) -> Cell:
    _, user = _signed_in(emu, [API_SCOPE])
    first = _confidential(emu, WEB_API_ID, WEB_API_SECRET)
    result = first.acquire_token_on_behalf_of(user["access_token"], [USER_READ])
    assert "access_token" in result, result
    cache = _edit_access_tokens(first.token_cache, refresh_on=-60)
    app = _confidential(emu, WEB_API_ID, WEB_API_SECRET, cache=cache)
    app.get_accounts()
    assertion = user["access_token"]
    return Cell(app, cache, lambda: app.acquire_token_on_behalf_of(assertion, [USER_READ]),
                valid_token=result["access_token"])


def _adapter(emu: Emulator) -> Cell:
    app = _confidential(emu)
    app.get_accounts()
    return _adapter_over(emu, app, app.token_cache)


def _adapter_proactive(emu: Emulator) -> Cell:
    cell = _client_credentials_proactive(emu)
    adapter = _adapter_over(emu, cell.app, cell.cache)
    adapter.valid_token = cell.valid_token
    return adapter


def _adapter_over(emu: Emulator, app: Any, cache: Any) -> Cell:
    auth = EntraAuth(app, GRAPH_DEFAULT, allowed_hosts=["127.0.0.1"])
    session = requests.Session()
    session.auth = auth
    session.verify = emu.ca_bundle
    session.trust_env = False

    def act() -> Any:
        return session.get(emu.echo_url, timeout=10)

    return Cell(app, cache, act, cleanup=session.close)


FLOWS: list[FlowSpec] = [
    FlowSpec("discovery", "openid_configuration", "GET", _discovery),
    FlowSpec("silent refresh (expired AT)", "token", "POST", _silent_expired),
    FlowSpec("silent refresh (refresh_on passed)", "token", "POST", _silent_proactive),
    FlowSpec("auth code redemption", "token", "POST", _auth_code),
    FlowSpec("device code initiate", "devicecode", "POST", _device_initiate),
    FlowSpec("device code poll", "token", "POST", _device_poll),
    FlowSpec("username/password", "token", "POST", _password),
    FlowSpec("refresh token migration", "token", "POST", _rt_migration),
    FlowSpec("client credentials", "token", "POST", _client_credentials),
    FlowSpec("client credentials (refresh_on passed)", "token", "POST",
             _client_credentials_proactive),
    FlowSpec("client credentials (aio, httpx)", "token", "POST", _client_credentials_async),
    FlowSpec("on-behalf-of", "token", "POST", _on_behalf_of),
    FlowSpec("on-behalf-of (refresh_on passed)", "token", "POST", _on_behalf_of_proactive),
    FlowSpec("adapter (requests, app-only)", "token", "POST", _adapter),
    FlowSpec("adapter (requests, refresh_on passed)", "token", "POST", _adapter_proactive),
]

# fault name -> emulator inject_fault keyword arguments (persistent: times=None)
FAULTS: dict[str, dict[str, Any]] = {
    "429 Retry-After": {"kind": "status", "status": 429, "retry_after": 1},
    "500": {"kind": "status", "status": 500},
    "503 Retry-After": {"kind": "status", "status": 503, "retry_after": 1},
    "timeout": {"kind": "delay", "seconds": 2 * TIMEOUT},
    "connection reset": {"kind": "reset"},
    "malformed JSON": {"kind": "malformed_json"},
    "HTML page": {"kind": "html", "status": 200},
    "empty body": {"kind": "empty"},
    "truncated body": {"kind": "truncated"},
    "wrong content type": {"kind": "wrong_content_type"},
}
