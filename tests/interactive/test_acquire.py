"""acquire_token_interactive(_async) over a recording app object and the real listener.

The "user" is the test: it reads the URL the BROWSER command received and answers on the
loopback redirect URI the way a browser does after sign-in (a form post).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import entra_netguard
import pytest
import requests

from entra_auth.interactive import acquire_token_interactive, acquire_token_interactive_async

from .conftest import SystemBrowser
from .test_listener import _non_loopback_ipv4_addresses
from .webdriver import free_port

CODE = "0.AAAA-code"


class RecordingApp:
    """Just the two MSAL methods acquire_token_interactive relies on, recording their calls."""

    def __init__(self, events: list[str] | None = None) -> None:
        self.initiated: list[tuple[list[str], dict[str, Any]]] = []
        self.redeemed: list[tuple[dict[str, Any], dict[str, str], dict[str, Any]]] = []
        self.events = events if events is not None else []

    def initiate_auth_code_flow(self, scopes: list[str], **kwargs: Any) -> dict[str, Any]:
        self.events.append("initiate")
        self.initiated.append((list(scopes), kwargs))
        state = f"state-{len(self.initiated)}"
        query = urlencode(
            {"redirect_uri": kwargs["redirect_uri"], "state": state, "scope": " ".join(scopes)}
        )
        return {"auth_uri": f"https://login.example/t/oauth2/v2.0/authorize?{query}",
                "state": state, "redirect_uri": kwargs["redirect_uri"]}

    def acquire_token_by_auth_code_flow(
        self, flow: dict[str, Any], auth_response: dict[str, str], scopes: Any = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        self.events.append("redeem")
        self.redeemed.append((flow, auth_response, {"scopes": scopes, **kwargs}))
        if auth_response.get("state") != flow["state"]:
            raise ValueError("state mismatch")
        if "error" in auth_response:
            return {"error": auth_response["error"],
                    "error_description": auth_response.get("error_description")}
        return {"access_token": "at-for-" + auth_response["code"], "token_type": "Bearer"}


class AsyncRecordingApp(RecordingApp):
    """The same, with coroutine methods (the shape of entra_auth.aio's applications)."""

    async def initiate_auth_code_flow(  # type: ignore[override]
        self, scopes: list[str], **kwargs: Any
    ) -> dict[str, Any]:
        return RecordingApp.initiate_auth_code_flow(self, scopes, **kwargs)

    async def acquire_token_by_auth_code_flow(  # type: ignore[override]
        self, flow: dict[str, Any], auth_response: dict[str, str], scopes: Any = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        return RecordingApp.acquire_token_by_auth_code_flow(
            self, flow, auth_response, scopes, **kwargs)


def _answer(url: str, **params: str) -> requests.Response:
    """Play the browser after sign-in: form-post the response to the redirect URI."""
    query = parse_qs(urlsplit(url).query)
    redirect_uri = query["redirect_uri"][0]
    return requests.post(redirect_uri, data={"state": query["state"][0], **params}, timeout=5)


def _run(call: Callable[[], dict[str, Any]]) -> tuple[threading.Thread, list[Any]]:
    box: list[Any] = []

    def target() -> None:
        try:
            box.append(call())
        except BaseException as exc:  # handed to the test thread
            box.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def test_arguments_reach_the_app_and_the_token_comes_back(system_browser: SystemBrowser) -> None:
    events: list[str] = []
    app = RecordingApp(events)
    thread, box = _run(lambda: acquire_token_interactive(
        app, ["User.Read"], prompt="login", login_hint="ada@contoso.example",
        domain_hint="contoso.example", claims_challenge='{"access_token":{}}', timeout=20,
        extra_scopes_to_consent=["Mail.Read"], max_age=600, parent_window_handle=0,
        on_before_launching_ui=lambda ui, **kw: events.append(f"ui={ui}"),
    ))
    url = system_browser.wait_for_url()
    page = _answer(url, code=CODE)
    thread.join(10)
    assert box == [{"access_token": f"at-for-{CODE}", "token_type": "Bearer"}]
    assert events == ["initiate", "ui=browser", "redeem"]
    scopes, kwargs = app.initiated[0]
    assert scopes == ["User.Read", "Mail.Read"]
    assert kwargs["prompt"] == "login"
    assert kwargs["login_hint"] == "ada@contoso.example"
    assert kwargs["domain_hint"] == "contoso.example"
    assert kwargs["claims_challenge"] == '{"access_token":{}}'
    assert kwargs["max_age"] == 600
    assert kwargs["response_mode"] == "form_post"
    assert kwargs["redirect_uri"].startswith("http://localhost:")
    flow, auth_response, redeem = app.redeemed[0]
    assert flow["state"] == "state-1"
    assert auth_response == {"state": "state-1", "code": CODE}
    assert redeem == {"scopes": ["User.Read"]}  # a token for the asked scopes only
    assert page.status_code == 200
    assert CODE not in page.text


def test_port_and_query_response_mode(system_browser: SystemBrowser) -> None:
    port = free_port()
    app = RecordingApp()
    thread, box = _run(lambda: acquire_token_interactive(
        app, ["User.Read"], port=port, timeout=20, response_mode="query"))
    url = system_browser.wait_for_url()
    query = parse_qs(urlsplit(url).query)
    assert query["redirect_uri"] == [f"http://localhost:{port}"]
    page = requests.get(
        f"http://localhost:{port}/?" + urlencode({"code": CODE, "state": query["state"][0]}),
        timeout=5,
    )
    thread.join(10)
    assert page.status_code == 200
    assert box[0]["access_token"] == f"at-for-{CODE}"
    assert app.initiated[0][1]["response_mode"] == "query"


def test_forged_state_does_not_complete_and_the_real_answer_still_works(
    system_browser: SystemBrowser,
) -> None:
    app = RecordingApp()
    thread, box = _run(lambda: acquire_token_interactive(app, ["User.Read"], timeout=20))
    url = system_browser.wait_for_url()
    redirect_uri = parse_qs(urlsplit(url).query)["redirect_uri"][0]
    forged = requests.post(redirect_uri, data={"code": "evil", "state": "guess"}, timeout=5)
    assert forged.status_code == 400
    assert thread.is_alive()
    assert app.redeemed == []
    _answer(url, code=CODE)
    thread.join(10)
    assert box[0]["access_token"] == f"at-for-{CODE}"


def test_user_cancel_returns_the_error_dict(system_browser: SystemBrowser) -> None:
    app = RecordingApp()
    thread, box = _run(lambda: acquire_token_interactive(app, ["User.Read"], timeout=20))
    page = _answer(system_browser.wait_for_url(), error="access_denied",
                   error_description="AADSTS65004: User declined to consent.")
    thread.join(10)
    assert box == [{"error": "access_denied",
                    "error_description": "AADSTS65004: User declined to consent."}]
    assert "access_denied" in page.text
    assert "User declined to consent." in page.text


def test_timeout_returns_an_error_dict_and_frees_the_port(system_browser: SystemBrowser) -> None:
    app = RecordingApp()
    result = acquire_token_interactive(app, ["User.Read"], timeout=0.3)
    assert result["error"] == "timeout"
    assert "0.3 seconds" in result["error_description"]
    assert app.redeemed == []
    redirect_uri = parse_qs(urlsplit(system_browser.urls()[0]).query)["redirect_uri"][0]
    with pytest.raises(requests.ConnectionError):
        requests.post(redirect_uri, data={"code": CODE, "state": "state-1"}, timeout=2)


def test_no_browser_prints_the_url_and_still_waits(
    no_system_browser: SystemBrowser, capsys: pytest.CaptureFixture[str]
) -> None:
    app = RecordingApp()
    thread, box = _run(lambda: acquire_token_interactive(app, ["User.Read"], timeout=20))
    url = no_system_browser.wait_for_url()
    thread.join(0.3)
    assert thread.is_alive()  # still waiting for the user to open the URL by hand
    _answer(url, code=CODE)
    thread.join(10)
    assert box[0]["access_token"] == f"at-for-{CODE}"
    assert url in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scopes": "User.Read"}, "scopes must be a list"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": "10"}, "timeout"),
        ({"port": 70000}, "port"),
        ({"port": True}, "port"),
        ({"max_age": -1}, "max_age"),
        ({"prompt": 1}, "prompt"),
        ({"extra_scopes_to_consent": "Mail.Read"}, "extra_scopes_to_consent"),
        ({"on_before_launching_ui": "print"}, "on_before_launching_ui"),
        ({"response_mode": "fragment"}, "response_mode"),
    ],
)
def test_bad_arguments_are_value_errors(kwargs: dict[str, Any], message: str) -> None:
    app = RecordingApp()
    scopes = kwargs.pop("scopes", ["User.Read"])
    with pytest.raises(ValueError, match=message):
        acquire_token_interactive(app, scopes, **kwargs)
    assert app.initiated == []


def test_a_flow_without_state_is_a_value_error(system_browser: SystemBrowser) -> None:
    class Broken(RecordingApp):
        def initiate_auth_code_flow(self, scopes: list[str], **kwargs: Any) -> dict[str, Any]:
            return {"auth_uri": "https://login.example/authorize"}

    with pytest.raises(ValueError, match="auth_uri and state"):
        acquire_token_interactive(Broken(), ["User.Read"], timeout=5)
    assert system_browser.urls() == []


@pytest.mark.parametrize("app_class", [RecordingApp, AsyncRecordingApp])
def test_async_twin_with_sync_and_async_apps(
    app_class: type[RecordingApp], system_browser: SystemBrowser
) -> None:
    app = app_class()
    launched: list[str] = []

    async def scenario() -> tuple[dict[str, Any], int]:
        task = asyncio.create_task(acquire_token_interactive_async(
            app, ["User.Read"], timeout=20, login_hint="ada@contoso.example",
            on_before_launching_ui=lambda ui, **kw: launched.append(ui)))
        url = await asyncio.to_thread(system_browser.wait_for_url)
        forged = await asyncio.to_thread(
            requests.post, parse_qs(urlsplit(url).query)["redirect_uri"][0],
            data={"code": "x", "state": "forged"}, timeout=5)
        await asyncio.to_thread(_answer, url, code=CODE)
        return await asyncio.wait_for(task, 10), forged.status_code

    result, forged_status = asyncio.run(scenario())
    assert result["access_token"] == f"at-for-{CODE}"
    assert forged_status == 400
    assert launched == ["browser"]
    assert app.initiated[0][1]["login_hint"] == "ada@contoso.example"
    assert app.redeemed[0][2] == {"scopes": ["User.Read"]}


def test_async_timeout_returns_an_error_dict(system_browser: SystemBrowser) -> None:
    result = asyncio.run(acquire_token_interactive_async(RecordingApp(), ["a"], timeout=0.3))
    assert result["error"] == "timeout"


def test_an_error_from_initiate_is_returned_without_opening_a_browser(
    system_browser: SystemBrowser,
) -> None:
    class DiscoveryFails(RecordingApp):
        def initiate_auth_code_flow(self, scopes: list[str], **kwargs: Any) -> dict[str, Any]:
            return {"error": "invalid_instance", "error_description": "unknown authority"}

    result = acquire_token_interactive(DiscoveryFails(), ["User.Read"], timeout=5)
    assert result == {"error": "invalid_instance", "error_description": "unknown authority"}
    assert system_browser.urls() == []


def test_the_waiting_listener_is_unreachable_from_the_network(
    system_browser: SystemBrowser,
) -> None:
    app = RecordingApp()
    thread, box = _run(lambda: acquire_token_interactive(app, ["User.Read"], timeout=20))
    url = system_browser.wait_for_url()
    port = urlsplit(parse_qs(urlsplit(url).query)["redirect_uri"][0]).port
    assert port is not None
    addresses = [*_non_loopback_ipv4_addresses(), "127.0.0.2"]
    with entra_netguard.allow_own_addresses():  # the suite's network guard lets us try them
        for address in addresses:
            with socket.socket() as probe:
                probe.settimeout(2)
                assert probe.connect_ex((address, port)) != 0, address
    _answer(url, code=CODE)
    thread.join(10)
    assert box[0]["access_token"] == f"at-for-{CODE}"


def test_no_code_or_token_in_log_records(
    system_browser: SystemBrowser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    app = RecordingApp()
    thread, box = _run(lambda: acquire_token_interactive(app, ["User.Read"], timeout=20))
    url = system_browser.wait_for_url()
    redirect_uri = parse_qs(urlsplit(url).query)["redirect_uri"][0]
    requests.post(redirect_uri, data={"code": "forged-code-value", "state": "x"}, timeout=5)
    _answer(url, code=CODE)
    thread.join(10)
    assert box[0]["access_token"] == f"at-for-{CODE}"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Waiting for the sign-in response" in logged  # the debug log did run
    for secret in (CODE, f"at-for-{CODE}", "forged-code-value"):
        assert secret not in logged
