"""Fixtures: headless Chromium over WebDriver, and a BROWSER command that hands URLs to it."""

from __future__ import annotations

import stat
import webbrowser
from collections.abc import Iterator
from pathlib import Path

import pytest

from .webdriver import Browser, chromedriver_service, wait_until


@pytest.fixture(scope="session")
def chromedriver() -> Iterator[str]:
    """The base URL of a chromedriver running for the whole test session."""
    with chromedriver_service() as url:
        yield url


@pytest.fixture(scope="session")
def _chromium(chromedriver: str) -> Iterator[Browser]:
    """One headless Chromium for the session (per xdist worker), reset for every test."""
    session = Browser(chromedriver)
    try:
        yield session
    finally:
        session.quit()


@pytest.fixture
def browser(_chromium: Browser) -> Browser:
    """Headless Chromium as a fresh profile: one tab, no cookies, no SSO session, no cache."""
    _chromium.reset()
    return _chromium


class SystemBrowser:
    """What ``webbrowser.open`` launches: a script that records each URL it is given.

    The test then plays the user: it takes the URL and opens it in the WebDriver session.
    """

    def __init__(self, directory: Path, opens: bool) -> None:
        self.log = directory / "opened-urls.txt"
        self.command = directory / "record-url"
        self._taken = 0
        self.command.write_text(
            "#!/bin/sh\n"
            f"printf '%s\\n' \"$1\" >> '{self.log}'\n"
            f"exit {0 if opens else 1}\n"
        )
        self.command.chmod(self.command.stat().st_mode | stat.S_IXUSR)

    def urls(self) -> list[str]:
        if not self.log.exists():
            return []
        return [line for line in self.log.read_text().splitlines() if line]

    def wait_for_url(self, timeout: float = 15) -> str:
        """The next URL the browser was asked to open (each one is returned once)."""
        seen = self._taken
        urls = wait_until(
            lambda: self.urls()[seen:], timeout, "webbrowser.open to be called"
        )
        self._taken += 1
        return urls[0]


def _install_browser(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, opens: bool) -> SystemBrowser:
    system = SystemBrowser(tmp_path, opens)
    monkeypatch.setenv("BROWSER", str(system.command))
    # Hermetic: no desktop or console browser of the machine running the tests may pop up.
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "TERM"):
        monkeypatch.delenv(name, raising=False)
    # webbrowser reads BROWSER once, on first use; forget what it found so it reads ours.
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(webbrowser, "_browsers", {})
    return system


@pytest.fixture
def system_browser(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SystemBrowser:
    """``BROWSER`` points at a command that accepts the URL (a browser "opens")."""
    return _install_browser(monkeypatch, tmp_path, opens=True)


@pytest.fixture
def no_system_browser(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SystemBrowser:
    """``BROWSER`` points at a command that fails: no browser can be opened."""
    return _install_browser(monkeypatch, tmp_path, opens=False)
