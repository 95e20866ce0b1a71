"""Smoke test of the benchmark suite: every row is produced in a tiny mode, and the
behavioural rows (token requests under concurrency, cache equivalence) hold.

Timings are never asserted: they are reported by ``python -m benchmarks.run``.
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path

import msal  # type: ignore[import-untyped]
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import _common, run  # noqa: E402


@pytest.fixture(scope="module")
def rows() -> list[run.Row]:
    # The harness collects garbage before every timed batch. In a test process that has
    # imported the whole suite, each full collection walks every object of it; frozen, they
    # are skipped (this cut the module's CPU time threefold).
    gc.freeze()
    try:
        return run.collect(run.TINY)
    finally:
        gc.unfreeze()


def test_every_section_has_its_rows(rows: list[run.Row]) -> None:
    assert not [r.name for r in rows if "FAILED" in r.name]
    per_section = {s: [r for r in rows if r.section == s] for s in run.SECTIONS}
    # one silent row per cache size plus msal's exact-key case
    assert len(per_section["silent"]) == len(run.TINY.users) + 1
    assert [len(per_section[s]) for s in run.SECTIONS[1:]] == [1, 1, 3, 3, 1, 3, 3, 3, 3, 1, 1]
    for row in rows:
        assert row.ours and row.baseline and row.ratio, row
        if row.baseline != "-":
            assert all(v > 0 for v in row.values.values()), row


def test_single_flight_sends_one_token_request(rows: list[run.Row]) -> None:
    for row in (r for r in rows if r.section == "concurrency"):
        assert row.values["entra_auth"] == 1, row
        # msal 1.39 has no single-flight: every caller that sees the expired token sends
        # one (fewer than all only when a thread starts after the first reply is cached)
        assert 1 < row.values["msal"] <= run.TINY.callers, row
        assert row.met is True


def test_import_loads_no_heavy_dependency(rows: list[run.Row]) -> None:
    (row,) = (r for r in rows if r.section == "import")
    assert row.values["entra_auth"] < row.values["msal"]


def test_markdown_table_has_a_line_per_row(rows: list[run.Row]) -> None:
    table = run.render_markdown(rows).splitlines()
    assert len(table) == len(rows) + 2
    assert all(line.startswith("|") and line.endswith("|") and line.count("|") == 6
               for line in table)


def test_cache_document_matches_what_msal_writes() -> None:
    """The generated cache has msal's keys and fields for the same sign-in."""
    cache = msal.SerializableTokenCache()
    app = msal.PublicClientApplication(
        _common.CLIENT_ID, authority=_common.AUTHORITY, token_cache=cache,
        http_client=_common.CannedEntra(), instance_discovery=False)
    assert "access_token" in app.acquire_token_by_refresh_token("rt-user000001",
                                                                _common.SCOPES)
    written = json.loads(cache.serialize())
    ours = json.loads(_common.cache_document(2))
    for section, entries in written.items():
        for key, entry in entries.items():
            assert key in ours[section], (section, key)
            # msal records no account_source for a refresh-token sign-in
            assert set(entry) | {"account_source"} >= set(ours[section][key]), key
            assert set(entry) <= set(ours[section][key]), key
