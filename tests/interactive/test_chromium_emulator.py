"""End to end: the app calls acquire_token_interactive, a real headless Chromium signs in on
the emulator's page, form-posts to the loopback listener, and the call returns a token.

webbrowser.open runs for real: BROWSER is a script that hands the URL to the WebDriver session
(the test plays the user from there). The emulator is HTTPS with a throwaway CA; the test
browser accepts it through the W3C ``acceptInsecureCerts`` capability.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msal
import pytest

import entra_auth
from entra_auth import aio
from entra_auth.interactive import acquire_token_interactive, acquire_token_interactive_async
from entra_auth.testing import PUBLIC_CLIENT_ID, Emulator

from .conftest import SystemBrowser
from .test_acquire import _run
from .webdriver import Browser, free_port, wait_until

ALICE = "alice@contoso.onmicrosoft.com"
ALICE_PASSWORD = "alice-password"
USER_READ = "User.Read"
MAIL_READ = "https://graph.microsoft.com/Mail.Read"  # not consented: shows the consent page


class RecordingPublicApp(entra_auth.PublicClientApplication):
    """entra_auth's app, keeping the auth responses it redeemed (to look for leaks)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.auth_responses: list[dict[str, Any]] = []

    def acquire_token_by_auth_code_flow(
        self, auth_code_flow: Any, auth_response: Any, scopes: Any = None, **kwargs: Any
    ) -> dict[str, Any]:
        self.auth_responses.append(dict(auth_response))
        return super().acquire_token_by_auth_code_flow(
            auth_code_flow, auth_response, scopes, **kwargs)


def _app(emu: Emulator) -> RecordingPublicApp:
    return RecordingPublicApp(
        PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle,
        instance_discovery=False,
    )


def _sign_in(browser: Browser, *, username: str | None = ALICE) -> None:
    """Type credentials on the emulator's sign-in page and submit."""
    if username is not None:
        browser.type("#username", username)
    browser.type("#password", ALICE_PASSWORD)
    browser.click("#submit")


def _finish(thread: Any, box: list[Any]) -> Any:
    thread.join(30)
    assert not thread.is_alive(), "acquire_token_interactive did not return"
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]


def test_sign_in_and_consent_in_chromium_returns_a_token(
    entra_emulator: Emulator, browser: Browser, system_browser: SystemBrowser
) -> None:
    app = _app(entra_emulator)
    launched: list[str] = []
    thread, box = _run(lambda: app.acquire_token_interactive(
        [USER_READ], extra_scopes_to_consent=[MAIL_READ], timeout=60,
        on_before_launching_ui=lambda ui, **kw: launched.append(ui)))
    url = system_browser.wait_for_url()
    assert launched == ["browser"]
    query = parse_qs(urlsplit(url).query)
    port = urlsplit(query["redirect_uri"][0]).port
    assert query["redirect_uri"] == [f"http://localhost:{port}"]
    assert query["response_mode"] == ["form_post"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"] and query["state"] and query["nonce"]
    assert "Mail.Read" in query["scope"][0]

    browser.get(url)
    # The emulator's sign-in page is self-contained: no style sheet, script, image or font
    # was fetched (only the favicon the browser asks for by itself), and nothing links out.
    fetched = browser.execute(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert [name for name in fetched if not name.endswith("/favicon.ico")] == []
    assert browser.execute(
        "return document.querySelectorAll('[src], link[href], iframe, object, embed').length"
    ) == 0
    _sign_in(browser)
    browser.wait_for("#accept")
    assert "Mail.Read" in browser.page_text
    browser.click("#accept")
    browser.wait_for_text("Sign-in complete")
    result = _finish(thread, box)

    assert "access_token" in result, result.get("error_description")
    assert result["token_source"] == "identity_provider"
    assert result["id_token_claims"]["preferred_username"] == ALICE
    assert "Mail.Read" not in result["scope"]  # consented to, but not this token's audience
    assert urlsplit(browser.url).netloc == f"localhost:{port}"
    page = browser.page_source
    assert app.auth_responses[0]["code"] not in page
    assert result["access_token"] not in page
    assert result["refresh_token"] not in page
    # The consent stuck: Mail.Read now comes silently from the refresh token.
    account = app.get_accounts(username=ALICE)[0]
    mail = app.acquire_token_silent([MAIL_READ], account=account)
    assert mail is not None and "access_token" in mail


def test_user_cancels_at_consent_gets_access_denied(
    entra_emulator: Emulator, browser: Browser, system_browser: SystemBrowser
) -> None:
    app = _app(entra_emulator)
    thread, box = _run(lambda: app.acquire_token_interactive([MAIL_READ], timeout=60))
    browser.get(system_browser.wait_for_url())
    _sign_in(browser)
    browser.click("#decline")
    text = browser.wait_for_text("Sign-in failed")
    result = _finish(thread, box)
    assert result["error"] == "access_denied"
    assert "access_token" not in result
    assert "access_denied" in text
    assert app.get_accounts() == []


def test_timeout_returns_an_error_dict_and_the_late_answer_finds_no_listener(
    entra_emulator: Emulator, browser: Browser, system_browser: SystemBrowser
) -> None:
    app = _app(entra_emulator)
    thread, box = _run(lambda: app.acquire_token_interactive([USER_READ], timeout=1.5))
    browser.get(system_browser.wait_for_url())
    browser.wait_for("#password")
    result = _finish(thread, box)  # the user dawdles past the timeout
    assert result["error"] == "timeout"
    _sign_in(browser)  # the form post to the closed listener fails in the browser
    assert "Sign-in complete" not in browser.wait_for_text("ERR_CONNECTION_REFUSED")
    assert entra_emulator.requests_to("token") == []


def test_prompt_login_and_login_hint_reach_the_page(
    entra_emulator: Emulator, browser: Browser, system_browser: SystemBrowser
) -> None:
    app = _app(entra_emulator)
    thread, box = _run(lambda: app.acquire_token_interactive([USER_READ], timeout=60))
    browser.get(system_browser.wait_for_url())
    _sign_in(browser)
    browser.wait_for_text("Sign-in complete")
    assert "access_token" in _finish(thread, box)

    # Without prompt, the browser's session signs the user in with no page at all ...
    thread, box = _run(lambda: app.acquire_token_interactive([USER_READ], timeout=60))
    browser.get(system_browser.wait_for_url())
    browser.wait_for_text("Sign-in complete")
    assert "access_token" in _finish(thread, box)

    # ... with prompt="login" the credentials are asked again, the hint prefilled.
    thread, box = _run(lambda: app.acquire_token_interactive(
        [USER_READ], prompt="login", login_hint=ALICE, timeout=60))
    url = system_browser.wait_for_url()
    assert parse_qs(urlsplit(url).query)["prompt"] == ["login"]
    browser.get(url)
    browser.wait_for("#password")
    assert browser.value("#username") == ALICE
    _sign_in(browser, username=None)
    browser.wait_for_text("Sign-in complete")
    assert "access_token" in _finish(thread, box)


def test_max_age_forces_a_fresh_sign_in(
    entra_emulator: Emulator, browser: Browser, system_browser: SystemBrowser
) -> None:
    app = _app(entra_emulator)
    thread, box = _run(lambda: app.acquire_token_interactive([USER_READ], timeout=60))
    browser.get(system_browser.wait_for_url())
    _sign_in(browser)
    browser.wait_for_text("Sign-in complete")
    _finish(thread, box)

    entra_emulator.advance_clock(700)  # the browser session is now 700 s old
    thread, box = _run(lambda: app.acquire_token_interactive(
        [USER_READ], max_age=600, timeout=60))
    url = system_browser.wait_for_url()
    assert parse_qs(urlsplit(url).query)["max_age"] == ["600"]
    browser.get(url)
    _sign_in(browser)  # the session is too old for max_age: the password is asked again
    browser.wait_for_text("Sign-in complete")
    result = _finish(thread, box)
    assert "access_token" in result, result.get("error_description")
    assert result["id_token_claims"]["auth_time"] >= entra_emulator.now() - 60


def test_max_age_with_a_stale_auth_time_is_rejected(
    entra_emulator: Emulator, browser: Browser, system_browser: SystemBrowser
) -> None:
    # The identity provider's clock is an hour behind: the auth_time it reports is an hour
    # old by ours, beyond max_age (plus MSAL's 120 s skew), so the app must refuse it.
    entra_emulator.advance_clock(-3600)
    app = _app(entra_emulator)
    thread, box = _run(lambda: app.acquire_token_interactive(
        [USER_READ], max_age=600, timeout=60))
    browser.get(system_browser.wait_for_url())
    _sign_in(browser)
    browser.wait_for_text("Sign-in complete")
    with pytest.raises(RuntimeError, match="max_age"):
        _finish(thread, box)
    assert app.get_accounts() == []


def test_real_msal_application_works_through_the_same_function(
    entra_emulator: Emulator, browser: Browser, system_browser: SystemBrowser
) -> None:
    app = msal.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=entra_emulator.authority(),
        http_client=entra_emulator.requests_session(), instance_discovery=False)
    thread, box = _run(lambda: acquire_token_interactive(
        app, [USER_READ], login_hint=ALICE, timeout=60))
    browser.get(system_browser.wait_for_url())
    assert browser.value("#username") == ALICE
    _sign_in(browser, username=None)
    browser.wait_for_text("Sign-in complete")
    result = _finish(thread, box)
    assert "access_token" in result, result.get("error_description")
    assert result["id_token_claims"]["preferred_username"] == ALICE
    assert app.get_accounts()[0]["username"] == ALICE


def test_async_twin_in_chromium_with_a_sync_app(
    entra_emulator: Emulator, browser: Browser, system_browser: SystemBrowser
) -> None:
    app = _app(entra_emulator)
    result = asyncio.run(_async_sign_in(
        lambda: acquire_token_interactive_async(app, [USER_READ], timeout=60),
        browser, system_browser))
    assert "access_token" in result, result.get("error_description")
    assert result["id_token_claims"]["preferred_username"] == ALICE


def test_async_application_in_chromium(
    entra_emulator: Emulator, browser: Browser, system_browser: SystemBrowser
) -> None:
    async def scenario() -> dict[str, Any]:
        async with aio.PublicClientApplication(
            PUBLIC_CLIENT_ID, authority=entra_emulator.authority(),
            verify=entra_emulator.ca_bundle, instance_discovery=False,
        ) as app:
            result = await _async_sign_in(
                lambda: app.acquire_token_interactive([USER_READ], timeout=60),
                browser, system_browser)
            accounts = await app.get_accounts()
            assert [a["username"] for a in accounts] == [ALICE]
            return result

    result = asyncio.run(scenario())
    assert result["token_source"] == "identity_provider"
    assert result["id_token_claims"]["preferred_username"] == ALICE


async def _async_sign_in(
    start: Callable[[], Awaitable[dict[str, Any]]], browser: Browser,
    system_browser: SystemBrowser,
) -> dict[str, Any]:
    """Start the sign-in as a task and play the user from worker threads (WebDriver blocks)."""
    task = asyncio.create_task(start())
    url = await asyncio.to_thread(system_browser.wait_for_url)
    await asyncio.to_thread(browser.get, url)
    await asyncio.to_thread(_sign_in, browser)
    await asyncio.to_thread(browser.wait_for_text, "Sign-in complete")
    return await asyncio.wait_for(task, 30)


def test_no_browser_prints_the_url_and_the_user_opens_it_by_hand(
    entra_emulator: Emulator, browser: Browser, no_system_browser: SystemBrowser,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = _app(entra_emulator)
    thread, box = _run(lambda: app.acquire_token_interactive([USER_READ], timeout=60))
    no_system_browser.wait_for_url()  # webbrowser tried the BROWSER command, which failed

    def printed_url() -> str | None:
        lines = [line.strip() for line in capsys.readouterr().err.splitlines()]
        return next((line for line in lines if line.startswith("https://")), None)

    url = wait_until(printed_url, 10, "the sign-in URL on stderr")
    browser.get(url)
    _sign_in(browser)
    browser.wait_for_text("Sign-in complete")
    result = _finish(thread, box)
    assert result["id_token_claims"]["preferred_username"] == ALICE


def test_every_parameter_reaches_the_authorization_request(
    entra_emulator: Emulator, system_browser: SystemBrowser
) -> None:
    claims = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}'
    port = free_port()
    result = _app(entra_emulator).acquire_token_interactive(
        [USER_READ], prompt="select_account", login_hint=ALICE,
        domain_hint="contoso.onmicrosoft.com", claims_challenge=claims, port=port,
        extra_scopes_to_consent=[MAIL_READ], max_age=300, parent_window_handle=123,
        timeout=0.2)
    assert result["error"] == "timeout"
    query = parse_qs(urlsplit(system_browser.wait_for_url()).query)
    assert query["redirect_uri"] == [f"http://localhost:{port}"]
    assert query["prompt"] == ["select_account"]
    assert query["login_hint"] == [ALICE]
    assert query["domain_hint"] == ["contoso.onmicrosoft.com"]
    assert json.loads(query["claims"][0]) == json.loads(claims)
    assert query["max_age"] == ["300"]
    assert set(query["scope"][0].split()) >= {
        USER_READ, MAIL_READ, "openid", "profile",
        "offline_access"}
    assert query["response_mode"] == ["form_post"]


def test_each_test_gets_the_browser_as_a_fresh_profile(browser: Browser,
                                                      entra_emulator: Emulator) -> None:
    # The suite reuses one Chromium per worker; reset() must leave nothing behind.
    page = f"{entra_emulator.base_url}/common/v2.0/.well-known/openid-configuration"
    browser.get(page)
    browser._command("POST", "/cookie", {"cookie": {"name": "left", "value": "behind"}})
    browser.execute("localStorage.setItem('left', 'behind'); window.open('about:blank')")
    assert len(browser.window_handles()) == 2
    browser.reset()
    assert len(browser.window_handles()) == 1 and browser.url == "about:blank"
    browser.get(page)
    assert browser._command("GET", "/cookie") == []
    assert browser.execute("return localStorage.getItem('left')") is None
