"""Every hypothesis test of the suite takes its example count from budget.py, so the fast suite
and CI run them all at their own size (50 and 200 examples)."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_every_given_is_under_the_budget() -> None:
    users = [p for p in TESTS.rglob("*.py")
             if "@given" in p.read_text() and p != Path(__file__).resolve()]
    assert len(users) >= 8  # the scan finds the property tests at all
    stray = [str(p.relative_to(TESTS)) for p in users
             if not re.search(r"from (\.|property\.)budget import", p.read_text())
             or re.search(r"max_examples\s*=", p.read_text())]
    assert stray == []
