"""A small W3C WebDriver client over plain requests, for driving headless Chromium in tests.

Only what the interactive tests need: sessions, navigation, CSS lookup, typing, clicking,
page text, and bounded waits. Spec: https://www.w3.org/TR/webdriver2/
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import requests

CHROMIUM = os.environ.get("ENTRA_AUTH_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("ENTRA_AUTH_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
# The element reference key defined by the W3C spec.
_ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
_COMMAND_TIMEOUT = 30.0

T = TypeVar("T")


class WebDriverError(RuntimeError):
    """A WebDriver command failed, or a wait ran out."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(
    predicate: Callable[[], T | None], timeout: float, what: str, interval: float = 0.05
) -> T:
    """Poll ``predicate`` until it returns something truthy, for at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise WebDriverError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


@contextmanager
def chromedriver_service() -> Iterator[str]:
    """Run chromedriver on a free loopback port; yield its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [CHROMEDRIVER, f"--port={port}", "--allowed-ips=127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if process.poll() is not None:
            raise WebDriverError(f"chromedriver exited with status {process.returncode}")
        try:
            return bool(requests.get(f"{base}/status", timeout=1).json()["value"]["ready"])
        except (requests.RequestException, ValueError, KeyError):
            return False

    try:
        wait_until(ready, 15, "chromedriver to start")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


class Browser:
    """One WebDriver session of headless Chromium with its own fresh profile."""

    def __init__(self, service_url: str) -> None:
        self._http = requests.Session()
        self._http.trust_env = False  # never route the driver's own calls through a proxy
        self._profile = tempfile.TemporaryDirectory(prefix="entra-auth-chromium-")
        capabilities = {
            "browserName": "chrome",
            # The emulator's TLS certificate comes from a throwaway CA; this test browser
            # (only) trusts it the standard W3C way instead of touching a system trust store.
            "acceptInsecureCerts": True,
            "pageLoadStrategy": "normal",
            "timeouts": {"pageLoad": 20000, "script": 10000, "implicit": 0},
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                    # Background work a test browser doesn't need (Puppeteer's defaults): each
                    # test starts a fresh browser, so its start-up is most of their CPU.
                    "--disable-extensions",
                    "--disable-default-apps",
                    "--no-default-browser-check",
                    "--disable-breakpad",
                    "--disable-client-side-phishing-detection",
                    "--disable-hang-monitor",
                    "--disable-domain-reliability",
                    "--metrics-recording-only",
                    "--password-store=basic",
                    "--use-mock-keychain",
                    "--disable-features=Translate,OptimizationHints,MediaRouter,"
                    "DialMediaRouteProvider,AutofillServerCommunication,CertificateTransparency"
                    "ComponentUpdater,InterestFeedContentSuggestions,CalculateNativeWinOcclusion",
                    f"--user-data-dir={self._profile.name}",
                ],
            },
        }
        reply = self._http.post(
            f"{service_url}/session",
            json={"capabilities": {"alwaysMatch": capabilities}},
            timeout=60,
        )
        value = self._value(reply)
        self._base = f"{service_url}/session/{value['sessionId']}"
        rect = self._command("GET", "/window/rect")
        self._size = {"width": rect["width"], "height": rect["height"]}

    def reset(self) -> None:
        """Start over as a fresh profile would: one new tab on ``about:blank`` at the first
        size, and no cookies, cache or site data (the suite reuses one browser per worker:
        starting Chromium was most of the interactive tests' CPU)."""
        fresh = self._command("POST", "/window/new", {"type": "tab"})["handle"]
        for handle in self.window_handles():
            if handle != fresh:
                self.switch_to_window(handle)
                self._command("DELETE", "/window")
        self.switch_to_window(fresh)
        self._command("POST", "/window/rect", self._size)
        for cmd, params in (("Network.clearBrowserCookies", {}),
                            ("Network.clearBrowserCache", {}),
                            ("Storage.clearDataForOrigin", {"origin": "*",
                                                            "storageTypes": "all"})):
            self._command("POST", "/goog/cdp/execute", {"cmd": cmd, "params": params})

    def _value(self, reply: requests.Response) -> Any:
        try:
            body = reply.json()
        except ValueError as exc:
            raise WebDriverError(f"WebDriver sent HTTP {reply.status_code}, not JSON") from exc
        value = body.get("value") if isinstance(body, dict) else None
        if reply.status_code != 200:
            detail = value.get("message", "") if isinstance(value, dict) else ""
            raise WebDriverError(f"WebDriver error {reply.status_code}: {detail[:300]}")
        return value

    def _command(self, method: str, path: str, payload: Any = None) -> Any:
        reply = self._http.request(
            method, f"{self._base}{path}", json=payload, timeout=_COMMAND_TIMEOUT
        )
        return self._value(reply)

    def get(self, url: str) -> None:
        self._command("POST", "/url", {"url": url})

    @property
    def url(self) -> str:
        return str(self._command("GET", "/url"))

    @property
    def page_text(self) -> str:
        return str(self.execute("return document.body ? document.body.innerText : ''"))

    @property
    def page_source(self) -> str:
        return str(self._command("GET", "/source"))

    def window_handles(self) -> list[str]:
        """Every open window (tab or popup) of the session."""
        return [str(h) for h in self._command("GET", "/window/handles")]

    @property
    def window(self) -> str:
        return str(self._command("GET", "/window"))

    def set_window_size(self, width: int, height: int) -> None:
        self._command("POST", "/window/rect", {"width": width, "height": height})

    def switch_to_window(self, handle: str) -> None:
        self._command("POST", "/window", {"handle": handle})

    def execute(self, script: str, *args: Any) -> Any:
        return self._command("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css: str) -> str | None:
        found = self._command(
            "POST", "/elements", {"using": "css selector", "value": css}
        )
        return str(found[0][_ELEMENT]) if found else None

    def wait_for(self, css: str, timeout: float = 15) -> str:
        try:
            return wait_until(lambda: self.find(css), timeout, f"element {css!r}")
        except WebDriverError as exc:
            raise WebDriverError(f"{exc}; the page is {self.describe()}") from None

    def type(self, css: str, text: str, timeout: float = 15) -> None:
        element = self.wait_for(css, timeout)
        self._command("POST", f"/element/{element}/clear", {})
        self._command("POST", f"/element/{element}/value", {"text": text})

    def value(self, css: str, timeout: float = 15) -> str:
        element = self.wait_for(css, timeout)
        return str(self._command("GET", f"/element/{element}/property/value") or "")

    def click(self, css: str, timeout: float = 15) -> None:
        element = self.wait_for(css, timeout)
        self._command("POST", f"/element/{element}/click", {})

    def wait_for_text(self, text: str, timeout: float = 15) -> str:
        try:
            return wait_until(
                lambda: self.page_text if text in self.page_text else None,
                timeout,
                f"page text {text!r}",
            )
        except WebDriverError as exc:
            raise WebDriverError(f"{exc}; the page is {self.describe()}") from None

    def describe(self) -> str:
        """Where the browser is and what it shows (no query string: it may hold a code)."""
        url = self.url.split("?", 1)[0]
        return f"{url} showing {self.page_text[:300]!r}"

    def quit(self) -> None:
        try:
            self._http.delete(self._base, timeout=_COMMAND_TIMEOUT)
        except requests.RequestException:
            pass
        finally:
            self._http.close()
            self._profile.cleanup()
