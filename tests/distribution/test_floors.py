"""The dependency floors stay true: a virtualenv with exactly the lowest versions pyproject.toml
allows (runtime dependencies and the runtime extras) runs the fast suite (``-m "not stress"``).

The floors exclude releases with published security advisories; see notes and CHANGELOG.
Installation talks to the PyPI registry without the network guard; the suite runs with it,
from the checkout (``python -m pytest`` puts it first on ``sys.path``), against the floors.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from entra_netguard import unguarded_env
from packaging.utils import canonicalize_name
from packaging.version import Version

from .source_tree import copy_source

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_EXTRAS = ("redis", "flask", "fastapi", "django", "keyring", "azure")


def floor_pins() -> list[str]:
    """``name==lowest`` for every runtime dependency and runtime extra's dependency."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: pytest's own dependency
        import tomli as tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in RUNTIME_EXTRAS:
        requirements += project["optional-dependencies"][extra]
    pins = []
    for requirement in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9][^,;\s]*)(,.*)?", requirement)
        assert match, f"no >= floor to pin in {requirement!r}"
        pins.append(f"{match.group(1)}=={match.group(2)}")
    return pins


def dev_tools() -> list[str]:
    """The ``dev`` extra's own requirements (test tools, comparison baselines), not the
    runtime extras it pulls in through ``entra-auth[...]`` (those are pinned to their floors)."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: pytest's own dependency
        import tomli as tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [r for r in project["optional-dependencies"]["dev"] if not r.startswith("entra-auth")]


def test_every_runtime_requirement_has_a_floor() -> None:
    pins = floor_pins()
    assert "requests==2.32.4" in pins and "cryptography==44.0.1" in pins
    assert len(pins) == len({p.split("==")[0].lower() for p in pins})


@pytest.mark.stress
def test_fast_suite_passes_on_the_floor_versions(tmp_path: Path) -> None:
    venv = tmp_path / "floors"
    env = unguarded_env()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env)
    python = str(venv / "bin" / "python")
    tools = dev_tools()
    install = subprocess.run(
        [python, "-m", "pip", "install", "-q", str(copy_source(tmp_path / "src")),
         *floor_pins(), *tools],
        env=env, capture_output=True, text=True, timeout=900, check=False)
    assert install.returncode == 0, install.stdout + install.stderr
    frozen = subprocess.run([python, "-m", "pip", "freeze"], env=env, capture_output=True,
                            text=True, check=True).stdout.splitlines()
    installed = {canonicalize_name(name): Version(version) for name, _, version in
                 (line.partition("==") for line in frozen
                  if not line.startswith("#")) if version}
    for pin in floor_pins():
        name, _, version = pin.partition("==")
        assert installed.get(canonicalize_name(name)) == Version(version), \
            f"{pin} was not what got installed: {installed.get(canonicalize_name(name))}"
    suite = subprocess.run(
        [python, "-m", "pytest", "-m", "not stress", "-p", "no:cacheprovider",
         str(ROOT / "tests")],
        cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False)
    assert suite.returncode == 0, suite.stdout[-6000:] + suite.stderr[-3000:]
