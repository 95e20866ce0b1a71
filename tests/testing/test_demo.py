"""examples/demo.py runs end to end against the emulator and exits 0."""

from __future__ import annotations

import pathlib
import subprocess
import sys

DEMO = pathlib.Path(__file__).resolve().parents[2] / "examples" / "demo.py"


def test_demo_runs() -> None:
    proc = subprocess.run([sys.executable, str(DEMO)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "hello, Alice Example" in proc.stdout
    assert "TokenIssuedBeforeRevocationTimestamp" in proc.stdout
    assert "hello again" in proc.stdout
