"""examples/demo.py (the README's main job) tells the whole story against the emulator."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

DEMO = pathlib.Path(__file__).resolve().parents[1] / "examples" / "demo.py"


def test_demo_runs_end_to_end() -> None:
    proc = subprocess.run([sys.executable, str(DEMO)], capture_output=True, text=True,
                          timeout=120, check=False)
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr + out
    # device-code sign-in played by the emulator's user, then /v1.0/me through requests
    assert re.search(r"enter the code \S+ to authenticate", out)
    assert "200 OK: displayName='Alice Example'" in out
    # silent reuse: no token request for the next calls, sync and async
    assert "statuses [200, 200, 200], token requests sent: 0" in out
    assert "20 x 200 OK, token requests sent: 0" in out
    # a CAE event is answered silently with exactly one token request
    assert "re-sent the call: 200 OK; token requests: 1" in out
    # revocation: the raw call is challenged, the adapter recovers
    assert re.search(r"without the adapter: 401, WWW-Authenticate: Bearer ", out)
    assert re.search(r"with EntraAuth: .* then 200 OK", out)
    # the daemon's app-only token reached the resource
    assert "200: the resource saw roles=" in out
    # no token text printed anywhere
    assert not re.search(r"eyJ[A-Za-z0-9_-]{20,}", out + proc.stderr)
