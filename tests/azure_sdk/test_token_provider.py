"""get_bearer_token_provider: the real openai Azure clients against a loopback stub."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

import entra_auth
from entra_auth import aio
from entra_auth.azure.credential import AccessTokenInfo, EntraTokenCredential
from entra_auth.testing import PUBLIC_CLIENT_ID, WEB_APP_ID, WEB_APP_SECRET, Emulator

from .conftest import ALICE, GRAPH_DEFAULT, PASSWORD

if TYPE_CHECKING:
    # Imported by the tests that use it: openai takes longer to import than all the other test
    # modules together, and every pytest-xdist worker collects this module.
    import openai

COMPLETION = {
    "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "gpt-4o",
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": "hello"}}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}


class Stub:
    """An Azure OpenAI-shaped endpoint on 127.0.0.1 that records Authorization headers."""

    def __init__(self) -> None:
        self.authorizations: list[str | None] = []
        self.paths: list[str] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                stub.authorizations.append(self.headers.get("Authorization"))
                stub.paths.append(self.path)
                body = json.dumps(COMPLETION).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub() -> Iterator[Stub]:
    server = Stub()
    yield server
    server.close()


def confidential(emu: Emulator) -> entra_auth.ConfidentialClientApplication:
    return entra_auth.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        http_client=emu.requests_session(), instance_discovery=False)


def chat(client: openai.AzureOpenAI) -> str | None:
    reply = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    return reply.choices[0].message.content


@pytest.mark.parametrize("kind", ["credential", "application", "entra_auth"])
def test_azure_openai_sends_our_token(emu: Emulator, stub: Stub, kind: str) -> None:
    import openai

    app = confidential(emu)
    if kind == "credential":
        provider = entra_auth.get_bearer_token_provider(EntraTokenCredential(app), GRAPH_DEFAULT)
    elif kind == "application":
        provider = entra_auth.get_bearer_token_provider(app, GRAPH_DEFAULT)
    else:
        provider = entra_auth.get_bearer_token_provider(
            entra_auth.EntraAuth(app, scopes=[GRAPH_DEFAULT]))
    client = openai.AzureOpenAI(azure_endpoint=stub.url, api_version="2024-06-01",
                                azure_ad_token_provider=provider, max_retries=0)
    assert chat(client) == "hello" and chat(client) == "hello"
    expected = app.acquire_token_for_client([GRAPH_DEFAULT])["access_token"]
    assert stub.authorizations == [f"Bearer {expected}"] * 2
    assert stub.paths[0].startswith("/openai/deployments/gpt-4o/chat/completions")
    assert len(emu.requests_to("token")) == 1  # cached between calls


def test_async_azure_openai_with_async_credential(emu: Emulator, stub: Stub) -> None:
    import openai

    sync_app = entra_auth.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), http_client=emu.requests_session(),
        instance_discovery=False)
    assert "access_token" in sync_app.acquire_token_by_username_password(
        ALICE, PASSWORD, scopes=["User.Read"])

    async def run() -> list[str | None]:
        app = aio.PublicClientApplication(
            PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle,
            instance_discovery=False, token_cache=sync_app.token_cache)
        async with app, aio.EntraTokenCredential(app, clock=emu.now) as credential:
            provider = aio.get_bearer_token_provider(
                credential, "https://graph.microsoft.com/User.Read")
            client = openai.AsyncAzureOpenAI(azure_endpoint=stub.url, api_version="2024-06-01",
                                             azure_ad_token_provider=provider, max_retries=0)
            replies = await asyncio.gather(*(client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
                for _ in range(3)))
            await client.close()
            return [r.choices[0].message.content for r in replies]

    assert asyncio.run(run()) == ["hello"] * 3
    tokens = {a for a in stub.authorizations}
    assert len(tokens) == 1 and next(iter(tokens)).startswith("Bearer ey")


class FakeClockCredential:
    """A credential whose tokens are numbered; fails on demand (tests the provider's cache)."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail = False

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        self.calls += 1
        if self.fail:
            raise RuntimeError("token endpoint down")
        return AccessTokenInfo(f"token-{self.calls}", 1000, refresh_on=700)


def test_refreshes_at_refresh_on_and_keeps_a_valid_token_on_failure() -> None:
    now = [0.0]
    credential = FakeClockCredential()
    provider = entra_auth.get_bearer_token_provider(credential, "s/.default",
                                                   clock=lambda: now[0])
    assert provider() == "token-1" and provider() == "token-1" and credential.calls == 1
    now[0] = 701.0
    assert provider() == "token-2"
    now[0] = 800.0
    credential.fail = True
    assert provider() == "token-2"  # refresh failed, the token still has 200 s
    assert credential.calls == 3
    now[0] = 810.0
    assert provider() == "token-2" and credential.calls == 3  # retried only after 30 s
    now[0] = 831.0
    assert provider() == "token-2" and credential.calls == 4
    now[0] = 990.0
    with pytest.raises(RuntimeError):
        provider()


def test_rejects_what_it_cannot_use(emu: Emulator) -> None:
    with pytest.raises(TypeError):
        entra_auth.get_bearer_token_provider(object(), GRAPH_DEFAULT)
    with pytest.raises(ValueError):
        entra_auth.get_bearer_token_provider(EntraTokenCredential(confidential(emu)))
    with pytest.raises(ValueError):
        entra_auth.get_bearer_token_provider(
            entra_auth.EntraAuth(confidential(emu), scopes=[GRAPH_DEFAULT]), GRAPH_DEFAULT)
