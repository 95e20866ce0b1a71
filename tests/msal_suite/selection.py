"""Which of msal 1.39's own unit tests count as public-API tests, and why the others don't.

A test counts when it passes on the real msal here (loopback-only network) and touches only
msal's public API: names msal exports (``msal.*``, ``msal.application.*Application``,
``msal.token_cache.*TokenCache``, ``msal.managed_identity`` identities and client) and the
methods and attributes they document. It does not count when it needs an msal internal: a
private name or attribute, ``msal.oauth2cli``, the ``post=`` test hook, or a ``mock.patch`` of
an internal inside the test (a patch of ``msal.authority.tenant_discovery`` or
``_instance_discovery`` applied as a decorator only stands in for the network, and is allowed).

``classified.json`` holds the result, made by ``python -m tests.msal_suite.classify`` (which
runs the suite twice, against msal and against entra_auth through the shim, and scans each
test's source): ``included`` (public-API tests that pass on msal) and ``excluded`` (test id
-> the internals it needs, or why it does not pass on msal here).
"""

from __future__ import annotations

import json
import pathlib

CLASSIFIED = pathlib.Path(__file__).resolve().parent / "classified.json"

#: Whole modules left out, with what they need.
EXCLUDED_FILES: dict[str, str] = {
    "tests/test_e2e.py": "a live Microsoft lab tenant (tests.lab_config, absent from the sdist)",
    "tests/test_e2e_manual.py": "a live lab tenant and a person at the keyboard",
    "tests/test_agentic_e2e.py": "a live lab tenant (tests.lab_config)",
    "tests/test_fmi_e2e.py": "a live lab tenant (tests.lab_config)",
    "tests/test_mi_e2e.py": "a live Azure host with a managed identity",
    "tests/test_benchmark.py": "tests.simulator and perf_baseline (absent from the sdist)",
    "tests/test_broker.py": "msal.broker and pymsalruntime (WAM): brokers are not supported",
    "tests/test_cryptography.py": "msal.application._str2bytes/_parse_pfx internals; fetches "
                                  "pypi.org at import",
    "tests/test_recording_http_client.py": "tests the sdist's own RecordingHttpClient helper "
                                           "(tests.http_client), not msal",
    "tests/test_client_obtain_token_by_browser.py": "msal.oauth2cli.Client and "
                                                    "msal.oauth2cli.authcode.AuthCodeReceiver",
    "tests/test_individual_cache.py": "msal.individual_cache._IndividualCache/_ExpiringMapping",
}

def load() -> tuple[list[str], dict[str, list[str]]]:
    """(included test ids, excluded test id -> reasons) from ``classified.json``."""
    data = json.loads(CLASSIFIED.read_text(encoding="utf-8"))
    return list(data["included"]), dict(data["excluded"])
