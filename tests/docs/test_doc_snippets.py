"""Every Python snippet in README.md and docs/*.md runs against the emulator (see snippets.py).

A snippet that no longer runs fails here. Markers and substitutions are documented in
``tests/docs/snippets.py`` and in docs/emulator.md ("Documentation snippets").
"""

from __future__ import annotations

import asyncio
import inspect
import ipaddress
import pathlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import requests.adapters

from entra_auth.testing import (
    PUBLIC_CLIENT_ID,
    WEB_API_ID,
    WEB_API_SECRET,
    WEB_APP_ID,
    WEB_APP_SECRET,
    Emulator,
)

from .snippets import Snippet, compile_snippet, find_snippets, substitute

SNIPPETS = find_snippets()
GRAPH_HOST = "graph.microsoft.com"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Escaped(RuntimeError):
    """A snippet tried to reach a host other than the emulator."""


def _reroute(url: str, netloc: str) -> str:
    parts = urlsplit(url)
    if parts.hostname == GRAPH_HOST:
        return parts._replace(scheme="https", netloc=netloc).geturl()
    if not _loopback(parts.hostname or ""):
        raise Escaped(f"a documentation snippet tried to reach {parts.hostname}")
    return url


@pytest.fixture
def world(entra_emulator: Emulator, tmp_path: pathlib.Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """The emulator, Graph rerouted to it, nothing else reachable, a scratch home directory."""
    emu = entra_emulator
    netloc = f"127.0.0.1:{emu.port}"
    assert emu.ca_bundle is not None
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.setenv(name, emu.ca_bundle)
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(tmp_path))
    monkeypatch.chdir(tmp_path)
    # from_environment() and managed identity find the emulator's web app and IMDS
    for name, value in {"AZURE_CLIENT_ID": WEB_APP_ID, "AZURE_TENANT_ID": emu.tenant_id,
                        "AZURE_CLIENT_SECRET": WEB_APP_SECRET,
                        "AZURE_AUTHORITY_HOST": emu.base_url,
                        "AZURE_POD_IDENTITY_AUTHORITY_HOST": emu.base_url}.items():
        monkeypatch.setenv(name, value)
    emu.settings.auto_approve = True
    emu.settings.device_poll_interval = 1

    send = requests.adapters.HTTPAdapter.send

    def requests_send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        request.url = _reroute(request.url, netloc)
        return send(self, request, *args, **kwargs)

    sync_send = httpx.HTTPTransport.handle_request
    async_send = httpx.AsyncHTTPTransport.handle_async_request

    def _fix(request: httpx.Request) -> None:
        rerouted = _reroute(str(request.url), netloc)
        if rerouted != str(request.url):
            request.url = httpx.URL(rerouted)
            request.headers["Host"] = netloc

    def httpx_send(self: Any, request: httpx.Request) -> httpx.Response:
        _fix(request)
        return sync_send(self, request)

    async def httpx_async_send(self: Any, request: httpx.Request) -> httpx.Response:
        _fix(request)
        return await async_send(self, request)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", requests_send)
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", httpx_send)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", httpx_async_send)
    yield emu


def namespace(emu: Emulator, tmp_path: pathlib.Path) -> dict[str, Any]:
    """The placeholder names the docs use, bound to the emulator's directory."""
    return {
        "__name__": "__snippet__",
        "emu": emu, "entra_emulator": emu,
        "CLIENT_ID": PUBLIC_CLIENT_ID, "AUTHORITY": emu.authority(), "TENANT": emu.tenant_id,
        "ID": WEB_APP_ID, "SECRET": WEB_APP_SECRET,
        "API_CLIENT_ID": WEB_API_ID, "API_SECRET": WEB_API_SECRET,
        "PUBLIC_CLIENT_ID": PUBLIC_CLIENT_ID, "WEB_APP_ID": WEB_APP_ID,
        "WEB_APP_SECRET": WEB_APP_SECRET, "HOST": "127.0.0.1",
        "path": str(tmp_path / "token_cache.json"),
    }


def _run(snippet: Snippet, ns: dict[str, Any], emu: Emulator) -> None:
    code = compile_snippet(snippet, substitute(snippet.code, emu.base_url, emu.tenant_id))
    result = eval(code, ns)  # the repository's own documentation
    if inspect.iscoroutine(result):
        asyncio.run(result)


def _chain(snippet: Snippet) -> list[Snippet]:
    """The snippet, preceded by the ones it continues."""
    same_file = [s for s in SNIPPETS if s.path == snippet.path and s.line <= snippet.line
                 and s.mode != "compile-only"]
    chain = [same_file.pop()]
    while chain[0].mode == "continues" and same_file:
        chain.insert(0, same_file.pop())
    return chain


@pytest.mark.parametrize("snippet", [s for s in SNIPPETS if s.mode != "compile-only"],
                         ids=lambda s: s.id)
def test_snippet_runs_against_the_emulator(snippet: Snippet, world: Emulator,
                                           tmp_path: pathlib.Path) -> None:
    ns = namespace(world, tmp_path)
    for part in _chain(snippet):
        _run(part, ns, world)
    result = ns.get("result")  # the docs' name for a token result: it must not be an error
    assert not (isinstance(result, dict) and "error" in result), result
    assert world.internal_errors == []


@pytest.mark.parametrize("snippet", [s for s in SNIPPETS if s.mode == "compile-only"],
                         ids=lambda s: s.id)
def test_compile_only_snippet_compiles_and_says_why(snippet: Snippet) -> None:
    assert snippet.reason, f"{snippet.id}: a compile-only marker needs a reason"
    compile_snippet(snippet)


def test_the_docs_have_snippets_and_markers_are_well_formed() -> None:
    assert len(SNIPPETS) >= 30
    assert any(s.path == "README.md" for s in SNIPPETS)
    ran = [s for s in SNIPPETS if s.mode != "compile-only"]
    assert len(ran) > len(SNIPPETS) // 2  # most snippets really run
