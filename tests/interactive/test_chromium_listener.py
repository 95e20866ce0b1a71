"""A real headless Chromium answering the loopback listener, webbrowser -> BROWSER -> WebDriver.

The authorization page here is a minimal form-post page (no emulator): it pins down the
browser side of the listener on its own; test_chromium_emulator.py runs the full sign-in.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from entra_auth.interactive import acquire_token_interactive

from .conftest import SystemBrowser
from .test_acquire import RecordingApp, _run
from .webdriver import Browser

CODE = "0.AAAA-browser-code"


class _FormPostPage(BaseHTTPRequestHandler):
    """Answers /authorize with a page that form-posts a code (or an error) back."""

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        if "redirect_uri" not in query:  # e.g. the browser's /favicon.ico
            self.send_error(404)
            return
        state = query.get("state", [""])[0] if "forge" not in query else "forged-state"
        fields = {"code": CODE, "state": state}
        form = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
            for name, value in fields.items()
        )
        page = (
            "<!DOCTYPE html><html><body><h1>Stand-in sign-in</h1>"
            f'<form method="post" action="{html.escape(query["redirect_uri"][0])}">{form}'
            '<button id="continue" type="submit">Continue</button></form></body></html>'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def stand_in_idp() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FormPostPage)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/authorize"
    finally:
        server.shutdown()
        server.server_close()


class _StandInApp(RecordingApp):
    def __init__(self, authorize_url: str) -> None:
        super().__init__()
        self.authorize_url = authorize_url

    def initiate_auth_code_flow(self, scopes: list[str], **kwargs: Any) -> dict[str, Any]:
        flow = super().initiate_auth_code_flow(scopes, **kwargs)
        query = urlencode({"redirect_uri": kwargs["redirect_uri"], "state": flow["state"]})
        flow["auth_uri"] = f"{self.authorize_url}?{query}"
        return flow


def test_browser_form_post_lands_on_the_listener(
    browser: Browser, system_browser: SystemBrowser, stand_in_idp: str
) -> None:
    app = _StandInApp(stand_in_idp)
    thread, box = _run(lambda: acquire_token_interactive(app, ["User.Read"], timeout=30))
    browser.get(system_browser.wait_for_url())
    browser.click("#continue")
    text = browser.wait_for_text("Sign-in complete")
    thread.join(10)
    assert box[0]["access_token"] == f"at-for-{CODE}"
    assert browser.url.startswith("http://localhost:")
    assert CODE not in browser.page_source
    assert CODE not in text


def test_browser_with_forged_state_sees_400_and_the_flow_keeps_waiting(
    browser: Browser, system_browser: SystemBrowser, stand_in_idp: str
) -> None:
    app = _StandInApp(stand_in_idp)
    thread, box = _run(lambda: acquire_token_interactive(app, ["User.Read"], timeout=30))
    url = system_browser.wait_for_url()
    browser.get(url + "&forge=1")
    browser.click("#continue")
    browser.wait_for_text("does not belong to this sign-in")
    assert thread.is_alive()
    assert app.redeemed == []
    browser.get(url)
    browser.click("#continue")
    browser.wait_for_text("Sign-in complete")
    thread.join(10)
    assert box[0]["access_token"] == f"at-for-{CODE}"
