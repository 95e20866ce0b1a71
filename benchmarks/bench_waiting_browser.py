"""How long an interactive sign-in takes when ``BROWSER`` is a command that waits.

Run: ``.venv/bin/python benchmarks/bench_waiting_browser.py [--rounds N]``.

``webbrowser.open`` runs a ``BROWSER`` command in the foreground until it exits. The command
here signs in on the emulator's pages, form-posts the response to the loopback listener (giving
up after 15 s without an answer), and then exits ("exit") or stays open like a text browser
waiting on its user ("stay", until told to quit). Reported: seconds from
``acquire_token_interactive`` to its result, and what the listener answered the browser.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import sys
import tempfile
import time

import entra_auth
from entra_auth.testing import PUBLIC_CLIENT_ID, Emulator

_BROWSER = '''
import pathlib, sys, time
from urllib.parse import parse_qs, urlsplit
import requests
from entra_auth.testing.user_agent import Browser

url, ca, status, quit_file, mode = sys.argv[1:6]
browser = Browser(ca)
try:
    fields = browser.authorize(url, "alice@contoso.onmicrosoft.com", "alice-password")
    redirect_uri = parse_qs(urlsplit(url).query)["redirect_uri"][0]
    try:
        outcome = str(requests.post(redirect_uri, data=fields, timeout=15).status_code)
    except requests.RequestException as exc:
        outcome = f"no answer ({type(exc).__name__})"
finally:
    browser.close()
pathlib.Path(status).write_text(outcome)
deadline = time.monotonic() + 30
while mode == "stay" and not pathlib.Path(quit_file).exists() and time.monotonic() < deadline:
    time.sleep(0.05)
'''


def sign_in(emu: Emulator, directory: pathlib.Path, mode: str) -> tuple[float, str]:
    """One sign-in; returns (seconds, what the listener answered the browser command)."""
    script, wrapper = directory / "browser.py", directory / "browser"
    status, quit_file = directory / "status", directory / "quit"
    for path in (status, quit_file):
        path.unlink(missing_ok=True)
    script.write_text(_BROWSER)
    wrapper.write_text(f"#!/bin/sh\nexec '{sys.executable}' '{script}' \"$1\" "
                       f"'{emu.ca_bundle}' '{status}' '{quit_file}' {mode}\n")
    wrapper.chmod(0o755)
    os.environ["BROWSER"] = str(wrapper)
    app = entra_auth.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle,
        instance_discovery=False)
    app.initiate_auth_code_flow(["User.Read"], redirect_uri="http://localhost")  # discovery
    start = time.monotonic()
    result = app.acquire_token_interactive(["User.Read"], timeout=120)
    took = time.monotonic() - start
    quit_file.write_text("quit")
    if "access_token" not in result:
        raise SystemExit(f"sign-in failed: {result.get('error')}")
    return took, status.read_text() if status.exists() else "never ran"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "TERM"):
        os.environ.pop(name, None)
    with Emulator() as emu, tempfile.TemporaryDirectory() as tmp:
        for mode in ("exit", "stay"):
            runs = [sign_in(emu, pathlib.Path(tmp), mode) for _ in range(args.rounds)]
            seconds = [s for s, _ in runs]
            print(f"BROWSER command that {mode}s: median {statistics.median(seconds):.2f} s "
                  f"(range {min(seconds):.2f}-{max(seconds):.2f}), listener answered "
                  f"{sorted({answer for _, answer in runs})}")


if __name__ == "__main__":
    main()
