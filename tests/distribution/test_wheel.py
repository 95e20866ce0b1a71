"""The package as users get it: ``python -m build`` gives a clean sdist and wheel that pass
``twine check``; the wheel, installed with its runtime dependencies only into a fresh
virtualenv, runs the README's first examples against the emulator.

Package downloads (build's isolated setuptools, the runtime dependencies) come from the PyPI
registry, so those two steps run without the suite's network guard; the examples run with it.
"""

from __future__ import annotations

import email
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from entra_netguard import unguarded_env

import entra_auth

from .source_tree import copy_source

ROOT = Path(__file__).resolve().parents[2]
TESTED_PYTHONS = ["3.10", "3.11", "3.12", "3.13"]  # scripts/test's interpreters


def _run(args: list[str], env: dict[str, str], timeout: float = 600) -> str:
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    env = unguarded_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # else setuptools warns that it can't byte-compile
    source = copy_source(tmp_path_factory.mktemp("src") / "entra-auth")
    log = _run([sys.executable, "-m", "build", "--outdir", str(out), str(source)], env)
    warnings = [line for line in log.splitlines() if "warning" in line.lower()]
    assert warnings == [], "\n".join(warnings)
    return out


@pytest.mark.stress
def test_build_is_clean_and_twine_check_passes(dist: Path) -> None:
    wheel = next(dist.glob("*.whl"))
    sdist = next(dist.glob("*.tar.gz"))
    assert "PASSED" in _run([sys.executable, "-m", "twine", "check", "--strict",
                             str(wheel), str(sdist)], unguarded_env())
    with zipfile.ZipFile(wheel) as zf:
        meta = email.message_from_bytes(
            zf.read(next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))))
        names = zf.namelist()
    assert meta["License-Expression"] == "MIT" and meta["License-File"] == "LICENSE"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "entra_auth/py.typed" in names
    classifiers = meta.get_all("Classifier")
    assert "Typing :: Typed" in classifiers
    tested = [c.rsplit(" ", 1)[1] for c in classifiers
              if c.startswith("Programming Language :: Python :: 3.")]
    assert tested == TESTED_PYTHONS
    assert meta["Requires-Python"] == f">={TESTED_PYTHONS[0]}"
    assert set(meta.get_all("Provides-Extra")) >= {"redis", "flask", "fastapi", "keyring",
                                                    "azure", "dev"}
    with tarfile.open(sdist) as tf:
        members = {m.name.split("/", 1)[1] for m in tf.getmembers() if "/" in m.name}
    # every relative link of the README is shipped in the sdist
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = {m.rstrip("/") for m in re.findall(r"\]\(([^)#:]+)\)", readme)}
    assert links and all(link in members or any(n.startswith(link + "/") for n in members)
                         for link in links), links - members


@pytest.mark.stress
def test_wheel_with_runtime_dependencies_runs_the_readme_examples(
    dist: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], unguarded_env())
    python = str(venv / "bin" / "python")
    wheel = next(dist.glob("*.whl"))
    _run([python, "-m", "pip", "install", "-q", str(wheel)], unguarded_env())
    installed = _run([python, "-m", "pip", "list", "--format=freeze"], unguarded_env())
    for dev_only in ("pytest", "msal", "ruff", "mypy", "flask", "redis", "fastapi"):
        assert not any(line.lower().startswith(f"{dev_only}==") for line in
                       installed.splitlines()), f"{dev_only} came with the runtime install"
    version = _run([str(venv / "bin" / "entra-auth"), "--version"], dict(os.environ))
    assert version.strip() == f"entra-auth {entra_auth.__version__}"
    # The examples run under the network guard (PYTHONPATH from tests/conftest.py), away
    # from the checkout so the installed wheel is what gets imported.
    out = _run([python, str(ROOT / "tests" / "distribution" / "readme_examples.py"),
                str(ROOT / "README.md")], dict(os.environ), timeout=300)
    for heading in ("Calling Graph", "MSAL compatibility",
                    "Testing your own code against the emulator"):
        assert f"ok {heading}" in out
    assert "Alice Example" in out
