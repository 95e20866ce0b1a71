"""A full client-credentials token round trip through the emulator, entra_auth vs msal.

Run: ``.venv/bin/python -m benchmarks.bench_roundtrip [--requests N] [--rounds R]``.

Both applications use a keep-alive ``requests.Session`` to the emulator over loopback
HTTPS and drop the app token after each call (``remove_tokens_for_client``), so every
``acquire_token_for_client`` builds, sends and parses a token request and writes the cache.
Batches of 20 requests alternate between the libraries; median tokens/s are reported.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import msal  # type: ignore[import-untyped]

import entra_auth
from entra_auth.testing import WEB_APP_ID, WEB_APP_SECRET, Emulator

SCOPE = ["https://graph.microsoft.com/.default"]


def _app(lib: Any, emu: Emulator) -> Any:
    app = lib.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        http_client=emu.requests_session(), instance_discovery=False)
    result = app.acquire_token_for_client(SCOPE)  # discovery and a warm connection
    assert "access_token" in result, result.get("error_description")
    return app


def _rate(app: Any, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        app.remove_tokens_for_client()
        result = app.acquire_token_for_client(SCOPE)
        assert result.get("token_source") != "cache", result
    return count / (time.perf_counter() - started)


BATCH = 20  # token requests per timed batch; the libraries alternate batch by batch


def roundtrip_rates(emu: Emulator, count: int, rounds: int) -> dict[str, float]:
    """Median tokens/s of each library over ``rounds`` x ``count`` token requests, timed in
    alternating batches of up to ``BATCH`` requests (short batches give the median more
    samples, so a burst of load elsewhere moves it less)."""
    apps = {"entra_auth": _app(entra_auth, emu), "msal": _app(msal, emu)}
    batch = max(1, min(count, BATCH))
    samples: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(max(1, rounds * count // batch)):
        for name, app in apps.items():
            samples[name].append(_rate(app, batch))
    return {name: statistics.median(rates) for name, rates in samples.items()}


def median_rate(measure: Callable[[], float], rounds: int) -> float:
    """Median of ``rounds`` results of a tokens/s measurement."""
    return statistics.median(measure() for _ in range(rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with Emulator() as emu:
        for name, rate in roundtrip_rates(emu, args.requests, args.rounds).items():
            print(f"{name:<11} {rate:8.0f} tokens/s")


if __name__ == "__main__":
    main()
