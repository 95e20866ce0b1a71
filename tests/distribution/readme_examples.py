"""Run README.md's first examples against the emulator, in whatever environment runs this file.

Used by test_wheel.py inside a fresh virtualenv holding only the built wheel and its runtime
dependencies. The examples run as written, with the emulator's URLs and client id substituted
for Microsoft's; device-code sign-ins are completed by the emulator's test user when the code
is printed. Prints one ``ok <example>`` line per example; exits non-zero on any failure.
"""

from __future__ import annotations

import io
import os
import re
import sys
import threading
from pathlib import Path
from typing import Any

from entra_auth.testing import PUBLIC_CLIENT_ID, Emulator, enter_device_code

ALICE, ALICE_PW = "alice@contoso.onmicrosoft.com", "alice-password"


class CodeWatcher(io.TextIOBase):
    """A stream that passes text on and, when a device code is printed, signs Alice in."""

    def __init__(self, inner: Any, emu: Emulator) -> None:
        self.inner, self.emu, self.threads = inner, emu, []  # type: ignore[var-annotated]

    def write(self, text: str) -> int:
        match = re.search(r"enter the code (\S+) to authenticate", text)
        if match:
            flow = {"user_code": match.group(1), "verification_uri": self.emu.device_login_url}
            thread = threading.Thread(target=enter_device_code, args=(flow, ALICE, ALICE_PW),
                                      kwargs={"verify": self.emu.ca_bundle}, daemon=True)
            thread.start()
            self.threads.append(thread)
        return int(self.inner.write(text))

    def flush(self) -> None:
        self.inner.flush()


def python_blocks(readme: str) -> dict[str, str]:
    """The README's python code blocks, keyed by the heading they appear under."""
    blocks: dict[str, str] = {}
    heading = ""
    for part in re.split(r"(^## [^\n]*$|```python\n.*?```)", readme, flags=re.M | re.S):
        if part.startswith("## "):
            heading = part[3:].strip()
        elif part.startswith("```python"):
            blocks.setdefault(heading, part[len("```python\n"):-3])
    return blocks


def main() -> int:
    blocks = python_blocks(Path(sys.argv[1]).read_text(encoding="utf-8"))
    with Emulator() as emu:
        assert emu.ca_bundle is not None
        os.environ["REQUESTS_CA_BUNDLE"] = emu.ca_bundle
        substitutions = {
            "https://login.microsoftonline.com/your-tenant": emu.authority(),
            "https://login.microsoftonline.com/common": emu.authority(),
            "https://graph.microsoft.com/v1.0/me": emu.graph_url,
            '"your-client-id"': repr(PUBLIC_CLIENT_ID),
            '"client-id"': repr(PUBLIC_CLIENT_ID),
            'fallback="device")': 'fallback="device", allowed_hosts=["127.0.0.1"])',
        }
        sys.stdout = CodeWatcher(sys.__stdout__, emu)
        sys.stderr = CodeWatcher(sys.__stderr__, emu)
        for heading in ("Calling Graph", "MSAL compatibility",
                        "Testing your own code against the emulator"):
            code = blocks[heading]
            for old, new in substitutions.items():
                code = code.replace(old, new)
            scope: dict[str, Any] = {"__name__": "__readme__"}
            exec(compile(code, f"README.md: {heading}", "exec"), scope)
            if heading == "MSAL compatibility":
                assert "access_token" in scope["result"], scope["result"]
            print(f"ok {heading}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
