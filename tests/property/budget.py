"""How many examples each property test runs: 200 in CI, more under the fuzz command.

Every hypothesis test of the suite uses ``examples`` (tests/property, and the few elsewhere:
tests/cache/test_serialization.py, tests/adapters/test_www_authenticate.py,
tests/testing/test_fuzz.py).

``python -m fuzz`` sets ``ENTRA_FUZZ_EXAMPLES`` (10,000 by default); the fast suite
(``scripts/test -m "not stress"``) sets ``ENTRA_PROPERTY_EXAMPLES`` to 50. Per-test settings (not a
global hypothesis profile) so other suites' hypothesis tests are left alone.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("ENTRA_FUZZ_EXAMPLES")
               or os.environ.get("ENTRA_PROPERTY_EXAMPLES") or "200")

examples = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
    derandomize=EXAMPLES <= 200,  # CI runs are reproducible; fuzz runs explore
    database=None,
)
