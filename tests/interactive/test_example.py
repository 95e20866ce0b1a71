"""examples/interactive_sign_in.py --emulator, run as a program, signed in with Chromium."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import SystemBrowser
from .webdriver import Browser

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "interactive_sign_in.py"


def test_example_signs_in_on_the_emulator(
    browser: Browser, system_browser: SystemBrowser, tmp_path: Path
) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLE), "--emulator", "--timeout", "60"],
        cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        browser.get(system_browser.wait_for_url(timeout=30))
        browser.type("#username", "alice@contoso.onmicrosoft.com")
        browser.type("#password", "alice-password")
        browser.click("#submit")
        browser.wait_for_text("Sign-in complete")
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err[-2000:]
    assert "Signed in as alice@contoso.onmicrosoft.com (token from identity_provider)" in out
    assert "Opening a browser window to sign in..." in err
    assert list(workdir.iterdir()) == []  # the emulator run keeps no cache file
