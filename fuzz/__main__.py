"""Run every property test in tests/property with a large example budget.

    python -m fuzz                      # 10,000 examples per property (the default)
    python -m fuzz --examples 50000     # more
    python -m fuzz -k www_authenticate  # a subset (pytest's -k)

The CI suite runs the same tests with 200 examples each. Exits non-zero on any failure and
prints hypothesis's minimal failing example.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=10_000,
                        help="examples per property test (default 10,000)")
    parser.add_argument("-k", dest="keyword", help="only tests matching this pytest -k")
    args = parser.parse_args(argv)
    if args.examples < 1:
        parser.error("--examples must be positive")
    os.environ["ENTRA_FUZZ_EXAMPLES"] = str(args.examples)
    import pytest

    pytest_args = [str(ROOT / "tests" / "property"), "-q", "-p", "no:cacheprovider",
                   "--durations=0", "--hypothesis-show-statistics"]
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    started = time.monotonic()
    code = int(pytest.main(pytest_args))
    print(f"fuzz: {args.examples} examples per property, exit {code}, "
          f"{time.monotonic() - started:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
