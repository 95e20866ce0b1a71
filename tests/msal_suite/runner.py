"""Get msal 1.39.0's sdist, lay out its tests beside our helpers, run them in a child pytest.

The sdist comes from PyPI (``pip download --no-deps --no-binary :all: msal==1.39.0``) and is
cached under the virtualenv (``<venv>/share/entra_auth-msal-suite/``), never in this
repository. Runs are either against the real msal (installed as a test dependency) or, with
the shim on ``sys.path`` first, against entra_auth as ``msal``.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
from typing import Any

MSAL_VERSION = "1.39.0"
SDIST = f"msal-{MSAL_VERSION}.tar.gz"
SUPPORT = pathlib.Path(__file__).resolve().parent / "support"
CACHE = pathlib.Path(sys.prefix) / "share" / "entra_auth-msal-suite"


def sdist_path() -> pathlib.Path:
    """The cached sdist, downloaded from PyPI on first use."""
    path = CACHE / SDIST
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             "--disable-pip-version-check", "-q", "-d", str(CACHE), f"msal=={MSAL_VERSION}"],
            check=True, timeout=600, env=_registry_env(),
        )
    return path


def _registry_env() -> dict[str, str]:
    """The environment for pip: without the test suite's network guard (PyPI is allowed)."""
    try:
        from entra_netguard import unguarded_env  # on sys.path under the test suite
    except ImportError:
        return dict(os.environ)
    return unguarded_env()


def prepare(workdir: pathlib.Path) -> pathlib.Path:
    """Unpack the sdist's ``tests/`` into ``workdir/tests`` with our helper modules."""
    tests = workdir / "tests"
    prefix = f"msal-{MSAL_VERSION}/tests/"
    with tarfile.open(sdist_path()) as archive:
        for member in archive.getmembers():
            if not member.isfile() or not member.name.startswith(prefix):
                continue
            relative = pathlib.PurePosixPath(member.name[len(prefix):])
            if ".." in relative.parts:
                continue
            target = tests / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            assert source is not None
            target.write_bytes(source.read())
    for helper in (SUPPORT / "helpers").glob("*.py"):
        shutil.copy(helper, tests / helper.name)
    (workdir / "pytest.ini").write_text("[pytest]\naddopts =\n", encoding="utf-8")
    return tests


def run(workdir: pathlib.Path, targets: list[str], *, against: str,
        report_name: str) -> dict[str, dict[str, Any]]:
    """Run ``targets`` (files or test ids under ``tests/``) and return the JSON report.

    Args:
        workdir: A directory made by :func:`prepare`.
        targets: pytest arguments naming what to run.
        against: ``"msal"`` for the real package, ``"entra_auth"`` for the shim.
        report_name: File name of the report inside ``workdir``.
    """
    paths = [str(SUPPORT / "plugin")]
    if against == "entra_auth":
        paths.insert(0, str(SUPPORT / "shim"))
    elif against != "msal":
        raise ValueError(against)
    env = dict(os.environ)
    # Keep what is already on PYTHONPATH (under the test suite: its network guard, whose
    # sitecustomize records any attempt to leave loopback) after ours.
    inherited = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([*paths, str(workdir), *inherited])
    env["MSAL_SUITE_REPORT"] = str(workdir / report_name)
    env.pop("PYTEST_ADDOPTS", None)
    # Tests would otherwise read these; the runs must not depend on the machine.
    for name in ("MSAL_FORCE_REGION", "REGION_NAME", "IDENTITY_ENDPOINT", "IDENTITY_HEADER",
                 "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT", "MSI_ENDPOINT", "MSI_SECRET",
                 "AZUREPS_HOST_ENVIRONMENT", "AZURE_POD_IDENTITY_AUTHORITY_HOST"):
        env.pop(name, None)
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "msal_suite_plugin",
         "-q", "--rootdir", str(workdir), "-c", str(workdir / "pytest.ini"), *targets],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=1800,
    )
    report_path = workdir / report_name
    if not report_path.exists():
        raise RuntimeError(f"the child pytest wrote no report:\n{completed.stdout[-3000:]}"
                           f"\n{completed.stderr[-3000:]}")
    report: dict[str, dict[str, Any]] = json.loads(report_path.read_text(encoding="utf-8"))
    return report
