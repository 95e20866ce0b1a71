"""Opening the system browser with the standard webbrowser module (BROWSER honoured)."""

from __future__ import annotations

import io

import pytest

from entra_auth.interactive.browser import open_browser

from .conftest import SystemBrowser

URL = "https://login.example/tenant/oauth2/v2.0/authorize?client_id=x&state=y"


def test_browser_environment_variable_is_honoured(system_browser: SystemBrowser) -> None:
    out = io.StringIO()
    assert open_browser(URL, stream=out) is True
    assert system_browser.urls() == [URL]
    assert out.getvalue() == ""


def test_url_is_printed_when_no_browser_opens(no_system_browser: SystemBrowser) -> None:
    out = io.StringIO()
    assert open_browser(URL, stream=out) is False
    assert no_system_browser.urls() == [URL]  # webbrowser did try the BROWSER command
    assert URL in out.getvalue()


def test_url_goes_to_stderr_by_default(
    no_system_browser: SystemBrowser, capsys: pytest.CaptureFixture[str]
) -> None:
    open_browser(URL)
    captured = capsys.readouterr()
    assert URL in captured.err
    assert captured.out == ""


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "javascript:alert(1)", "https://a.example/\n--evil"]
)
def test_non_http_urls_and_control_characters_are_refused(
    url: str, system_browser: SystemBrowser
) -> None:
    with pytest.raises(ValueError, match="authorization URL"):
        open_browser(url)
    assert system_browser.urls() == []
