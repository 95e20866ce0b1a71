"""tests/conftest.py's ONE_WORKER_GROUPS names real modules, and every module that drives Chromium
is in the "chromium" group (a module left out would start a Chromium of its own on its worker)."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ONE_WORKER_GROUPS

ROOT = Path(__file__).resolve().parents[1]


def _uses_browser_fixture(path: Path) -> bool:
    source = path.read_text()
    if "browser" not in source:
        return False
    for node in ast.walk(ast.parse(source, str(path))):
        if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                and node.name.startswith("test")
                and any(arg.arg == "browser" for arg in node.args.args)):
            return True
    return False


def test_every_grouped_module_exists() -> None:
    assert [m for m in ONE_WORKER_GROUPS if not (ROOT / m).is_file()] == []


def test_every_chromium_module_is_in_the_chromium_group() -> None:
    users = {str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("test_*.py")
             if _uses_browser_fixture(p)}
    assert len(users) >= 4  # the check sees the fixture's users at all
    grouped = {m for m, group in ONE_WORKER_GROUPS.items() if group == "chromium"}
    assert users == grouped
