"""msal 1.39's own public-API unit tests pass on entra_auth, as they do on msal (issue 18).

The sdist's ``tests/`` run twice in child pytests over a loopback-only network: against the
real msal (each included test must pass there: it is an msal test that means something) and
against entra_auth as ``msal`` through ``support/shim``. ``selection.py`` says which tests
count and why the others don't; ``classified.json`` lists each excluded test with the msal
internal it needs.
"""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

from .runner import prepare, run
from .selection import EXCLUDED_FILES, load

INCLUDED, EXCLUDED = load()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("msal-suite")
    prepare(path)
    return path


@pytest.fixture(scope="module")
def on_msal(workdir: pathlib.Path) -> dict[str, dict[str, Any]]:
    return run(workdir, INCLUDED, against="msal", report_name="msal.json")


@pytest.fixture(scope="module")
def on_entra_auth(workdir: pathlib.Path) -> dict[str, dict[str, Any]]:
    return run(workdir, INCLUDED, against="entra_auth", report_name="entra_auth.json")


def test_every_test_of_the_sdist_is_accounted_for(workdir: pathlib.Path) -> None:
    files = {f"tests/{p.name}" for p in (workdir / "tests").glob("test_*.py")}
    assert files, "the sdist has no tests"
    assert set(EXCLUDED_FILES) <= files
    classified_files = {test_id.split("::")[0] for test_id in [*INCLUDED, *EXCLUDED]}
    assert classified_files == files - set(EXCLUDED_FILES)
    assert not set(INCLUDED) & set(EXCLUDED)
    assert all(reasons for reasons in EXCLUDED.values()), "an exclusion without a reason"
    assert len(INCLUDED) >= 40


@pytest.mark.parametrize("test_id", INCLUDED)
def test_passes_on_msal(test_id: str, on_msal: dict[str, dict[str, Any]]) -> None:
    entry = on_msal.get(test_id, {})
    assert entry.get("outcome") == "passed", entry


@pytest.mark.parametrize("test_id", INCLUDED)
def test_passes_on_entra_auth(test_id: str, on_entra_auth: dict[str, dict[str, Any]]) -> None:
    entry = on_entra_auth.get(test_id, {})
    assert entry.get("outcome") == "passed", entry
    internals = [i for i in entry.get("internals", []) if "discovery" not in i]
    assert internals == [], "the test reached msal internals; reclassify it"
