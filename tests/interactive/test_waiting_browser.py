"""A BROWSER command that waits: ``webbrowser.open`` runs it in the foreground until it exits.

The command here is a small browser of its own: it signs in on the emulator's pages, form-posts
the response to the loopback redirect URI and records what the listener answered. Either it
exits right after (a wrapper script), or it stays open until told to quit (a text-mode browser
waiting on its user). The sign-in must complete while the command runs, in the sync and async
paths, and through ``EntraAuth(fallback="interactive")``.
"""

from __future__ import annotations

import asyncio
import ssl
import stat
import sys
import time
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

import entra_auth
from entra_auth import EntraAuth, aio
from entra_auth.testing import PUBLIC_CLIENT_ID, Emulator

ALICE = "alice@contoso.onmicrosoft.com"
ALICE_PASSWORD = "alice-password"

_BROWSER = '''
import pathlib, sys, time
from urllib.parse import parse_qs, urlsplit
import requests
from entra_auth.testing.user_agent import Browser

url, ca, status, quit_file, mode = sys.argv[1:6]
browser = Browser(ca)
try:
    fields = browser.authorize(url, {username!r}, {password!r})
    redirect_uri = parse_qs(urlsplit(url).query)["redirect_uri"][0]
    try:
        reply = requests.post(redirect_uri, data=fields, timeout=15)
        outcome = f"{{reply.status_code}}"
    except requests.RequestException as exc:
        outcome = f"no answer from the listener: {{type(exc).__name__}}"
finally:
    browser.close()
partial = pathlib.Path(status + ".part")
partial.write_text(outcome)
partial.rename(status)  # whole, at once: the test reads it while this process runs
if mode == "stay":
    # A text browser showing the result page until its user quits it.
    deadline = time.monotonic() + 30
    while not pathlib.Path(quit_file).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
'''


@dataclass
class WaitingBrowser:
    """The BROWSER command's files: what the listener answered, and the quit signal."""

    status: Path
    quit_file: Path

    def answered(self) -> str:
        # The sign-in completes as the listener answers; the browser command records that
        # answer a moment later, in its own process: wait for it (bounded).
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.status.exists() and self.status.read_text():
                return self.status.read_text()
            time.sleep(0.05)
        return "never ran"

    def quit(self) -> None:
        self.quit_file.write_text("quit")


def _install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, emu: Emulator,
             mode: str) -> WaitingBrowser:
    script = tmp_path / "waiting-browser.py"
    script.write_text(_BROWSER.format(username=ALICE, password=ALICE_PASSWORD))
    wrapper = tmp_path / "waiting-browser"
    status, quit_file = tmp_path / "status.txt", tmp_path / "quit"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"exec '{sys.executable}' '{script}' \"$1\" '{emu.ca_bundle}' '{status}' "
        f"'{quit_file}' {mode}\n"
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("BROWSER", str(wrapper))
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "TERM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(webbrowser, "_browsers", {})
    return WaitingBrowser(status, quit_file)


def _app(emu: Emulator) -> entra_auth.PublicClientApplication:
    return entra_auth.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle,
        instance_discovery=False,
    )


def _aio_app(emu: Emulator) -> aio.PublicClientApplication:
    return aio.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle,
        instance_discovery=False,
    )


def _signed_in(result: dict[str, Any]) -> str:
    assert "access_token" in result, result
    return str(result["id_token_claims"]["preferred_username"])


@pytest.mark.parametrize("mode", ["exit", "stay"])
def test_sync_sign_in_completes_while_the_browser_command_runs(
    entra_emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mode: str
) -> None:
    browser = _install(monkeypatch, tmp_path, entra_emulator, mode)
    try:
        result = _app(entra_emulator).acquire_token_interactive(["User.Read"], timeout=60)
        # In "stay" mode the command is still running: the listener answered it meanwhile.
        assert browser.answered() == "200"
    finally:
        browser.quit()
    assert _signed_in(result) == ALICE


@pytest.mark.parametrize("mode", ["exit", "stay"])
def test_async_sign_in_completes_while_the_browser_command_runs(
    entra_emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mode: str
) -> None:
    browser = _install(monkeypatch, tmp_path, entra_emulator, mode)

    async def sign_in() -> dict[str, Any]:
        return await _aio_app(entra_emulator).acquire_token_interactive(
            ["User.Read"], timeout=60)

    try:
        result = asyncio.run(sign_in())
        assert browser.answered() == "200"
    finally:
        browser.quit()
    assert _signed_in(result) == ALICE


def test_entra_auth_interactive_fallback_with_a_waiting_browser(
    entra_emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    browser = _install(monkeypatch, tmp_path, entra_emulator, "stay")
    session = entra_emulator.requests_session()
    session.auth = EntraAuth(
        _app(entra_emulator), ["User.Read"], fallback="interactive",
        allowed_hosts=[urlsplit(entra_emulator.base_url).netloc],
        interactive_kwargs={"timeout": 60},
    )
    try:
        me = session.get(entra_emulator.graph_url, timeout=30)
        assert browser.answered() == "200"
    finally:
        browser.quit()
    assert me.status_code == 200, me.text
    assert me.json()["userPrincipalName"] == ALICE


def test_entra_auth_interactive_fallback_async_with_a_waiting_browser(
    entra_emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    browser = _install(monkeypatch, tmp_path, entra_emulator, "stay")
    auth = EntraAuth(
        _aio_app(entra_emulator), ["User.Read"], fallback="interactive",
        allowed_hosts=[urlsplit(entra_emulator.base_url).netloc],
        interactive_kwargs={"timeout": 60},
    )

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(
            auth=auth, verify=_ssl_context(entra_emulator), timeout=30
        ) as client:
            return await client.get(entra_emulator.graph_url)

    try:
        me = asyncio.run(call())
        assert browser.answered() == "200"
    finally:
        browser.quit()
    assert me.status_code == 200, me.text
    assert me.json()["userPrincipalName"] == ALICE


def _ssl_context(emu: Emulator) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(emu.ca_bundle))

