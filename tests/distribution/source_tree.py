"""A clean copy of the checkout to build from, so builds never write into the tree that other
test processes (scripts/test runs several at once) import from."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_SKIP = shutil.ignore_patterns(
    ".git", ".venv*", ".test-logs", "build", "dist", "*.egg-info", "__pycache__", ".mypy_cache",
    ".ruff_cache", ".pytest_cache", ".hypothesis", "*.pyc")


def copy_source(destination: Path) -> Path:
    """Copy the project (without virtualenvs, caches and build output) to ``destination``."""
    shutil.copytree(ROOT, destination, ignore=_SKIP)
    return destination
