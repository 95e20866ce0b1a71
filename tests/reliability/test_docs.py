"""docs/reliability.md carries the fault matrix exactly as the tests define it."""

from __future__ import annotations

from pathlib import Path

from .outcomes import markdown_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"


def test_reliability_doc_lists_every_cell() -> None:
    assert markdown_table() in DOC.read_text(encoding="utf-8")
