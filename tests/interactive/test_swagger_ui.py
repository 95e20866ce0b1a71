"""Swagger UI's "Authorize" signs a developer in and "Try it out" calls the API, in headless
Chromium against the emulator.

The FastAPI example serves Swagger UI 5 from the ``drf-spectacular-sidecar`` package (no CDN),
declares Entra as its OAuth2 scheme, and signs in with the emulator's single-page-app app:
authorization code with PKCE in a popup, the code redeemed by the page itself (cross-origin).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from entra_auth.testing import SPA_CLIENT_ID, WEB_API_ID, WEB_API_SECRET, Emulator
from examples.fastapi_obo_api import create_app, local_swagger_ui

from .webdriver import Browser, wait_until

ALICE = "alice@contoso.onmicrosoft.com"
ALICE_PASSWORD = "alice-password"
API_SCOPE = f"api://{WEB_API_ID}/access_as_user"


@pytest.fixture
def api_url(entra_emulator: Emulator) -> Iterator[str]:
    """The example API under uvicorn on a free loopback port."""
    import uvicorn

    app = create_app(WEB_API_ID, WEB_API_SECRET, entra_emulator.authority(),
                     graph_me_url=entra_emulator.graph_url, allowed_hosts=["127.0.0.1"],
                     verify=entra_emulator.ca_bundle, clock=entra_emulator.now,
                     swagger_client_id=SPA_CLIENT_ID,
                     swagger_ui_assets=local_swagger_ui())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), 15, "uvicorn to start")
    assert server.started
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _popup(browser: Browser, main: str) -> str:
    return wait_until(lambda: next((h for h in browser.window_handles() if h != main), None),
                      15, "the sign-in popup")


def test_authorize_signs_in_and_try_it_out_calls_the_api(
    entra_emulator: Emulator, browser: Browser, api_url: str
) -> None:
    emu = entra_emulator
    browser.set_window_size(1280, 1600)  # the whole dialog on screen: real clicks land
    browser.get(f"{api_url}/docs")
    browser.click("button.btn.authorize")  # "Authorize" at the top of the page
    # The dialog: Entra's scheme, our client id (initOAuth), the API's scope pre-selected.
    client_id = browser.value("input#client_id_authorizationCode")
    assert client_id == SPA_CLIENT_ID
    assert browser.execute(
        "return document.querySelector('input[data-value=\"' + arguments[0] + '\"]').checked",
        API_SCOPE)
    main = browser.window
    browser.click(".auth-btn-wrapper button.btn.modal-btn.auth.authorize")
    popup = _popup(browser, main)
    browser.switch_to_window(popup)
    browser.wait_for("#username")
    authorize_url = browser.url
    assert "code_challenge_method=S256" in authorize_url
    assert f"client_id={SPA_CLIENT_ID}" in authorize_url
    browser.type("#username", ALICE)
    browser.type("#password", ALICE_PASSWORD)
    browser.click("#submit")
    # The popup lands on /docs/oauth2-redirect, hands the code to the page and closes.
    wait_until(lambda: popup not in browser.window_handles(), 20, "the popup to close")
    browser.switch_to_window(main)
    browser.wait_for(".auth-btn-wrapper button.btn-done")
    browser.wait_for_text("Logout")
    redeemed = [r for r in emu.requests_to("token") if r.grant_type == "authorization_code"]
    assert len(redeemed) == 1
    assert redeemed[0].form.get("client_id") == SPA_CLIENT_ID
    assert redeemed[0].form.get("code_verifier")  # PKCE (the log redacts the value)
    assert redeemed[0].headers.get("origin") == api_url  # redeemed by the page (CORS)
    browser.click(".auth-btn-wrapper button.btn-done")

    # "Try it out" on GET /me: the API validates the token and calls Graph on-behalf-of.
    browser.click("#operations-default-me_me_get .opblock-summary")
    browser.click("#operations-default-me_me_get button.try-out__btn")
    browser.click("#operations-default-me_me_get button.execute")
    text = browser.wait_for_text("Alice Example", timeout=20)
    assert ALICE in text
    obo = [r for r in emu.requests_to("token") if "jwt-bearer" in (r.grant_type or "")]
    assert len(obo) == 1
    status = browser.execute(
        "const c = document.querySelector('#operations-default-me_me_get "
        ".live-responses-table tbody .response-col_status'); return c && c.innerText.trim()")
    assert status == "200"


def test_without_signing_in_try_it_out_gets_a_401(
    entra_emulator: Emulator, browser: Browser, api_url: str
) -> None:
    browser.set_window_size(1280, 1600)
    browser.get(f"{api_url}/docs")
    browser.click("#operations-default-me_me_get .opblock-summary")
    browser.click("#operations-default-me_me_get button.try-out__btn")
    browser.click("#operations-default-me_me_get button.execute")

    def status() -> Any:
        return browser.execute(
            "const c = document.querySelector('#operations-default-me_me_get "
            ".live-responses-table tbody .response-col_status'); return c && c.innerText.trim()")

    shown = wait_until(status, 20, "the response")
    assert shown.split()[0] == "401" and "Undocumented" not in shown  # the schema lists it
    # The RFC 6750 challenge, naming where to sign in, as any client sees it.
    assert 'bearer realm=""' in browser.page_text.lower()

