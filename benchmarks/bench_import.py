"""``import entra_auth`` vs ``import msal``: each timed in a fresh interpreter.

Run: ``.venv/bin/python -m benchmarks.bench_import [--repeats 15]``.

Each sample is one new ``python`` process that reads the clock, imports the package and
prints the elapsed time (interpreter start-up is not counted). The two packages alternate,
so load on the machine hits both alike; medians are reported.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("requests", "httpx", "jwt", "cryptography", "wrapt", "urllib3", "asyncio")

_PROBE = """
import json, sys, time
start = time.perf_counter()
import {module}
elapsed = time.perf_counter() - start
print(json.dumps({{"seconds": elapsed,
                  "heavy": sorted(m for m in {heavy!r} if m in sys.modules)}}))
"""


def import_once(module: str) -> tuple[float, list[str]]:
    """Seconds to import ``module`` in a new interpreter, and which heavy modules it loaded."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module, heavy=HEAVY)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return float(result["seconds"]), list(result["heavy"])


def import_times(modules: tuple[str, ...] = ("entra_auth", "msal"),
                 repeats: int = 15) -> dict[str, tuple[float, list[str]]]:
    """Median import seconds of each module (alternating), with the heavy modules it loaded.

    One unmeasured import of each comes first (warms the OS file cache and ``.pyc`` files)
    unless ``repeats`` is 1.
    """
    for module in modules if repeats > 1 else ():
        import_once(module)
    samples: dict[str, list[float]] = {m: [] for m in modules}
    loaded: dict[str, list[str]] = {}
    for _ in range(repeats):
        for module in modules:
            seconds, loaded[module] = import_once(module)
            samples[module].append(seconds)
    return {m: (statistics.median(samples[m]), loaded[m]) for m in modules}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    for module, (seconds, heavy) in import_times(repeats=args.repeats).items():
        print(f"import {module:<11} median {seconds * 1e3:6.1f} ms  "
              f"(also loads: {', '.join(heavy) or 'none of ' + '/'.join(HEAVY)})")


if __name__ == "__main__":
    main()
