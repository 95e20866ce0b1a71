"""scripts/test: a missing interpreter fails the command with a clear message, before it sets up
or runs anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _scripts_test(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(ROOT / "scripts" / "test"), "--collect-only"],
                          env={**os.environ, "ENTRA_TEST_QUICK": "0", **env}, cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False)


def test_a_missing_interpreter_fails_the_command() -> None:
    proc = _scripts_test(ENTRA_PYTHON_3_13="/nonexistent/python3.13")
    assert proc.returncode == 1
    assert "scripts/test: Python 3.13 not found" in proc.stderr
    assert "ENTRA_TEST_QUICK=1" in proc.stderr
    assert "== pytest" not in proc.stderr  # nothing ran
    assert "scripts: " not in proc.stderr  # not even a virtualenv set-up


def test_an_interpreter_of_another_version_does_not_count() -> None:
    proc = _scripts_test(ENTRA_PYTHON_3_10=sys.executable if sys.version_info[:2] != (3, 10)
                         else "/nonexistent")
    assert proc.returncode == 1
    assert "scripts/test: Python 3.10 not found" in proc.stderr
