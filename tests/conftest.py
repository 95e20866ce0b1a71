"""Suite-wide test setup: no test may connect outside loopback (see _netguard/entra_netguard.py).

The guard is installed when pytest loads this file, for the whole run, in this process and, via
``sitecustomize`` on ``PYTHONPATH``, in Python subprocesses. A blocked connect fails the test
phase (setup, call or teardown) in which it was recorded, even if the code caught the error.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["pytester"]

_GUARD_DIR = str(Path(__file__).parent / "_netguard")
sys.path.insert(0, _GUARD_DIR)
import entra_netguard  # noqa: E402

entra_netguard.install(parent=True)
os.environ["PYTHONPATH"] = os.pathsep.join(
    [_GUARD_DIR, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))])
_log_fd, _log_path = tempfile.mkstemp(prefix="entra-netguard-", suffix=".log")
os.close(_log_fd)
os.environ[entra_netguard.LOG_ENV] = _log_path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    blocked = entra_netguard.take_violations()
    if blocked:
        report.outcome = "failed"
        report.longrepr = "\n".join(blocked)


# Under pytest-xdist's default --dist load (scripts/test -m "not stress"), tests go to whichever
# worker is free, except these groups of modules, each run whole on one worker: their set-up is
# most of their cost. (xdist's own xdist_group marker can't do this on pytest 9.2, whose node ids
# xdist 3.8 no longer manages to suffix with the group.)
ONE_WORKER_GROUPS: dict[str, str] = {
    "tests/benchmarks/test_benchmark_harness.py": "benchmarks",  # every benchmark section once
    "tests/msal_suite/test_msal_own_tests.py": "msal_suite",  # msal's own test suite, twice
    "tests/persistence/test_redis_cluster.py": "redis_cluster",  # a three-node Redis Cluster
    # Every test that drives headless Chromium (the `browser` fixture): one browser for all of
    # them, not one per worker; each Chromium started cost more CPU than the tests it served.
    "tests/interactive/test_chromium_emulator.py": "chromium",
    "tests/interactive/test_chromium_listener.py": "chromium",
    "tests/interactive/test_example.py": "chromium",
    "tests/interactive/test_swagger_ui.py": "chromium",
}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "load":
        return None  # a --dist the caller chose
    from xdist.scheduler import LoadScopeScheduling

    class GroupsTogether(LoadScopeScheduling):
        # xdist hands out the groups with the most tests first, then the single tests.
        def _split_scope(self, nodeid: str) -> str:
            return ONE_WORKER_GROUPS.get(nodeid.split("::", 1)[0], nodeid)

    return GroupsTogether(config, log)


def pytest_unconfigure(config: pytest.Config) -> None:
    with contextlib.suppress(OSError):
        os.unlink(_log_path)
