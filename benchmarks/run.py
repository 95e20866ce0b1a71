"""Run the side-by-side benchmark suite and print one Markdown table measured in this run.

Run from the repository root: ``.venv/bin/python -m benchmarks.run [--quick]`` (or
``python benchmarks/run.py``). Every figure is a median, measured in this process (imports:
fresh interpreters) next to msal 1.39 / azure-identity / a static header on the same inputs;
compare the ratios, not the absolute times, across machines. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks import bench_concurrency, bench_import, bench_serialize, bench_silent
from benchmarks._common import CPU_TIME, WALL_TIME, Clock, Timing, fmt_time

SECTIONS = ("silent", "client_credentials", "azure_identity", "concurrency", "adapters",
            "import", "serialize", "emulator", "validation", "persistent", "fastapi",
            "oidc_provider")


@dataclass(frozen=True)
class Config:
    """How much to measure."""

    users: tuple[int, ...] = (1, 1_000, 10_000, 100_000)
    rounds: int = 9
    min_batch_s: float = 0.05
    callers: int = 16
    latency: float = 0.05
    import_repeats: int = 15
    serialize_users: int = 10_000
    serialize_rounds: int = 5
    adapter_requests: int = 300
    adapter_rounds: int = 7
    emulator_requests: int = 300
    emulator_rounds: int = 5
    emulator_clients: int = 4
    cache_writers: int = 8
    cache_writes: int = 100
    fastapi_requests: int = 2000
    fastapi_rounds: int = 5
    wall_clock: bool = False  # in-process timings: CPU time of the process unless True

    @property
    def clock(self) -> Clock:
        """The clock for in-process, single-threaded timings."""
        return WALL_TIME if self.wall_clock else CPU_TIME


FULL = Config()
QUICK = Config(users=(1, 1_000, 10_000), rounds=5, min_batch_s=0.02, latency=0.02,
               import_repeats=5, serialize_rounds=3, adapter_requests=100, adapter_rounds=3,
               emulator_requests=100, emulator_rounds=3)
# For the smoke test: every row, in a few seconds. The token latency is long enough that msal's
# racing threads all see the expired token before the first reply, even on a loaded machine
# (scripts/test runs several suites side by side; at 0.05 s msal sometimes sent only one).
TINY = Config(users=(1, 100), rounds=3, min_batch_s=0.001, latency=0.5, import_repeats=1,
              serialize_users=100, serialize_rounds=1, adapter_requests=5, adapter_rounds=1,
              emulator_requests=5, emulator_rounds=1, emulator_clients=2, cache_writers=2,
              cache_writes=5, fastapi_requests=40, fastapi_rounds=1)


@dataclass
class Row:
    """One line of the table; ``values`` keeps the raw numbers (seconds, counts, rates)."""

    section: str
    name: str
    ours: str
    baseline: str
    ratio: str
    target: str = ""
    met: bool | None = None
    values: dict[str, float] = field(default_factory=dict)


def _time_ratio(baseline: float, ours: float) -> str:
    """Baseline time over ours: above 1 means entra_auth is faster."""
    ratio = baseline / ours if ours > 0 else float("inf")
    return f"{ratio:,.0f}x" if ratio >= 100 else f"{ratio:.2f}x"


def _time_row(section: str, name: str, timings: dict[str, Timing], baseline: str, *,
              target_s: float | None = None) -> Row:
    ours, theirs = timings["entra_auth"].median, timings[baseline].median
    return Row(section, name, fmt_time(ours), f"{baseline}: {fmt_time(theirs)}",
               _time_ratio(theirs, ours),
               f"<= {fmt_time(target_s)}" if target_s is not None else "",
               None if target_s is None else ours <= target_s,
               {"entra_auth": ours, baseline: theirs})


def silent_rows(config: Config) -> list[Row]:
    """acquire_token_silent hits at each cache size, plus msal's exact-key case."""
    rows = []
    for users in config.users:
        timings = bench_silent.silent_hit(users, rounds=config.rounds,
                                          min_batch_s=config.min_batch_s, clock=config.clock)
        plural = "s" if users != 1 else ""
        rows.append(_time_row("silent", f"acquire_token_silent hit, {users:,} cached user{plural}",
                              timings, "msal", target_s=20e-6))
    exact = max(u for u in config.users if u <= 10_000)
    timings = bench_silent.silent_hit(exact, rounds=config.rounds, clock=config.clock,
                                      min_batch_s=config.min_batch_s, exact_scopes=True)
    rows.append(_time_row("silent", f"acquire_token_silent hit, {exact:,} users, cached scopes "
                          "== requested (msal's key lookup)", timings, "msal"))
    return rows


def client_credentials_rows(config: Config) -> list[Row]:
    """acquire_token_for_client served from the cache."""
    timings = bench_silent.client_credentials_hit(rounds=config.rounds, clock=config.clock,
                                                  min_batch_s=config.min_batch_s)
    return [_time_row("client_credentials", "acquire_token_for_client hit", timings, "msal",
                      target_s=10e-6)]


def azure_identity_rows(config: Config) -> list[Row]:
    """azure-identity's ClientSecretCredential.get_token hit vs ours (if installed)."""
    timings = bench_silent.azure_identity_hit(rounds=config.rounds, clock=config.clock,
                                              min_batch_s=config.min_batch_s)
    if timings is None:
        return [Row("azure_identity", "get_token hit (azure-identity not installed)",
                    "-", "-", "-")]
    return [_time_row("azure_identity", "azure-core credential get_token hit "
                      "(EntraTokenCredential vs ClientSecretCredential)",
                      timings, "azure-identity")]


def _count_row(name: str, ours: int, theirs: int, baseline: str) -> Row:
    return Row("concurrency", name, str(ours), f"{baseline}: {theirs}",
               f"{theirs / ours:.0f}x" if ours else "n/a", "1", ours == 1,
               {"entra_auth": ours, "msal": theirs})


def concurrency_rows(config: Config) -> list[Row]:
    """Token requests sent by concurrent callers on one expired token."""
    import msal  # type: ignore[import-untyped]

    import entra_auth

    n, latency = config.callers, config.latency
    return [
        _count_row(f"token requests: {n} threads, acquire_token_silent on one expired token",
                   bench_concurrency.threads_silent_refresh(entra_auth, n, latency),
                   bench_concurrency.threads_silent_refresh(msal, n, latency), "msal"),
        _count_row(f"token requests: {n} threads, acquire_token_for_client, empty cache",
                   bench_concurrency.threads_client_credentials(entra_auth, n, latency),
                   bench_concurrency.threads_client_credentials(msal, n, latency), "msal"),
        _count_row(f"token requests: {n} asyncio tasks (entra_auth.aio), one expired token",
                   bench_concurrency.asyncio_silent_refresh(n, latency),
                   bench_concurrency.asyncio_msal_in_threads(n, latency),
                   "msal (no async API; sync call in threads)"),
    ]


def adapter_rows(config: Config) -> list[Row]:
    """EntraAuth's per-request time vs a static header (benchmarks/bench_adapters.py)."""
    from benchmarks import bench_adapters
    from entra_auth.testing import Emulator

    server, url = bench_adapters.start_server()
    try:
        with Emulator() as emu:
            measured = bench_adapters.overhead(emu, url, config.adapter_requests,
                                               config.adapter_rounds)
    finally:
        server.shutdown()
    rows = []
    for client, (plain, authed) in measured.items():
        rows.append(Row("adapters", f"GET per request, {client} + EntraAuth vs static header",
                        f"{fmt_time(authed)} ({(authed - plain) * 1e6:+.1f} us)",
                        f"static header: {fmt_time(plain)}", _time_ratio(plain, authed),
                        values={"entra_auth": authed, "static header": plain}))
    return rows


def import_rows(config: Config) -> list[Row]:
    """``import entra_auth`` vs ``import msal`` in fresh interpreters."""
    times = bench_import.import_times(repeats=config.import_repeats)
    ours, ours_heavy = times["entra_auth"]
    theirs, _ = times["msal"]
    return [Row("import", "import entra_auth vs import msal (fresh interpreter)",
                fmt_time(ours), f"msal: {fmt_time(theirs)}", _time_ratio(theirs, ours),
                "<= 30.0 ms", ours <= 0.030 and not ours_heavy,
                {"entra_auth": ours, "msal": theirs})]


def serialize_rows(config: Config) -> list[Row]:
    """Cache serialize()/deserialize() of ``serialize_users`` users."""
    measured = bench_serialize.serialize_deserialize(config.serialize_users, clock=config.clock,
                                                     rounds=config.serialize_rounds)
    rows = [_time_row("serialize", f"cache {op}(), {config.serialize_users:,} users",
                      timings, "msal") for op, timings in measured.items()]
    timings = measured["deserialize"]
    ours, floor = timings["entra_auth"].median, timings["json.loads"].median
    rows.append(Row("serialize", f"cache deserialize() vs json.loads of the same text, "
                    f"{config.serialize_users:,} users", fmt_time(ours),
                    f"json.loads: {fmt_time(floor)}", _time_ratio(floor, ours),
                    "<= 1.15x json.loads", ours <= 1.15 * floor,
                    {"entra_auth": ours, "json.loads": floor}))
    return rows


def emulator_rows(config: Config) -> list[Row]:
    """Emulator throughput (benchmarks/bench_emulator.py) and a full token round trip."""
    from benchmarks import bench_emulator, bench_roundtrip
    from entra_auth.testing import Emulator

    with Emulator() as emu:
        rates = bench_roundtrip.roundtrip_rates(emu, config.emulator_requests,
                                                config.emulator_rounds)
        one = bench_roundtrip.median_rate(
            lambda: bench_emulator._sequential(emu, config.emulator_requests),
            config.emulator_rounds)
        many = bench_roundtrip.median_rate(
            lambda: bench_emulator._concurrent(emu, config.emulator_requests,
                                               config.emulator_clients),
            config.emulator_rounds)
    ours, theirs = rates["entra_auth"], rates["msal"]
    return [
        Row("emulator", "acquire_token_for_client via the emulator (HTTPS, cache bypassed)",
            f"{ours:,.0f} tokens/s", f"msal: {theirs:,.0f} tokens/s", f"{ours / theirs:.2f}x",
            values={"entra_auth": ours, "msal": theirs}),
        Row("emulator", "emulator token endpoint, 1 keep-alive client (requests)",
            f"{one:,.0f} tokens/s", "-", "-", values={"entra_auth": one}),
        Row("emulator", f"emulator token endpoint, {config.emulator_clients} concurrent clients",
            f"{many:,.0f} tokens/s", "-", "-", values={"entra_auth": many}),
    ]


def validation_rows(config: Config) -> list[Row]:
    """Incoming-token validation vs PyJWT's jwt.decode with the key in hand (the floor)."""
    from benchmarks import bench_validation
    from entra_auth.testing import Emulator

    with Emulator() as emu:
        measured = bench_validation.validation(emu, rounds=config.rounds,
                                               min_batch_s=config.min_batch_s,
                                               clock=config.clock)
    rows = []
    for key, name, limit in (
        ("sync", "incoming-token validation, sync (TokenValidator.validate)", 1.10),
        ("async", "incoming-token validation, async (validate_async, FastAPI's path)", 1.15),
    ):
        timings = measured[key]
        ours, floor = timings["entra_auth"].median, timings["PyJWT floor"].median
        rows.append(Row("validation", name, fmt_time(ours), f"PyJWT floor: {fmt_time(floor)}",
                        _time_ratio(floor, ours), f"<= {limit:.2f}x floor",
                        ours <= limit * floor, {"entra_auth": ours, "PyJWT floor": floor}))
    rows.append(_time_row("validation", "validation of a token already validated (cache hit)",
                          measured["cached"], "PyJWT floor", target_s=10e-6))
    return rows


def persistent_rows(config: Config) -> list[Row]:
    """Write latency of the persistent caches, N processes writing distinct tokens at once."""
    import tempfile

    from benchmarks import bench_persistent_cache as bench

    n, writes = config.cache_writers, config.cache_writes
    redis = bench.start_redis()
    try:
        measured = {}
        for lib in ("FileTokenCache", "SqliteTokenCache", "msal-extensions", "RedisTokenCache"):
            if lib == "RedisTokenCache":
                if redis is None:
                    continue
                where = redis[1]
            else:
                where = f"{tempfile.mkdtemp()}/cache.{'db' if 'Sqlite' in lib else 'json'}"
            measured[lib] = bench.write_contention(lib, n, writes, where)
    finally:
        if redis is not None:
            redis[0].terminate()
            redis[0].wait()
    theirs = measured["msal-extensions"]
    rows = []
    for lib, r in measured.items():
        if lib == "msal-extensions":
            continue
        lost = r["expected"] - r["kept"]
        target = "<= 100 ms, 0 lost" if lib == "FileTokenCache" else "0 lost"
        met = lost == 0 and r["errors"] == 0 and (
            lib != "FileTokenCache" or r["p99"] <= 0.100)
        rows.append(Row(
            "persistent", f"{lib}, {n} processes x {writes} tokens: write p99 (median)",
            f"{fmt_time(r['p99'])} ({fmt_time(r['median'])}), {lost:.0f} lost",
            f"msal-extensions: {fmt_time(theirs['p99'])} ({fmt_time(theirs['median'])}), "
            f"{theirs['expected'] - theirs['kept']:.0f} lost, {theirs['errors']:.0f} errors",
            _time_ratio(theirs["p99"], r["p99"]), target, met,
            {"entra_auth": r["p99"], "msal-extensions": theirs["p99"]}))
    return rows


def fastapi_rows(config: Config) -> list[Row]:
    """A FastAPI endpoint with validation + OBO cache hit + downstream call vs no auth."""
    from benchmarks import bench_fastapi
    from entra_auth.testing import Emulator

    with Emulator() as emu:
        r = bench_fastapi.endpoint_rates(emu, config.fastapi_requests, config.fastapi_rounds)
    ours, theirs = r["entra_auth"], r["no auth"]
    cpu_ratio = r["no auth cpu"] / r["entra_auth cpu"] if r["entra_auth cpu"] else 0.0
    return [Row(
        "fastapi", "FastAPI endpoint: validation + OBO cache hit + downstream call, req/s "
        f"(uvicorn, 1 worker, 4 keep-alive clients; server CPU/request ratio {cpu_ratio:.2f}x)",
        f"{ours:,.0f} req/s", f"same endpoint without auth: {theirs:,.0f} req/s",
        f"{ours / theirs:.2f}x", ">= 0.90x", ours >= 0.90 * theirs,
        {"entra_auth": ours, "no auth": theirs})]


def oidc_provider_rows(config: Config) -> list[Row]:
    """The emulator's token endpoint vs panva's oidc-provider on Node (both in own processes)."""
    import shutil

    from benchmarks import bench_oidc_provider

    name = (f"emulator token endpoint vs oidc-provider (Node), {config.emulator_clients} "
            "keep-alive clients, client credentials, RS256 JWTs over HTTPS")
    if shutil.which("node") is None or shutil.which("npm") is None:
        return [Row("oidc_provider", f"{name}: node/npm not installed", "-", "-", "-")]
    rates = bench_oidc_provider.compare(config.emulator_requests, config.emulator_rounds,
                                        config.emulator_clients)
    ours, theirs = rates["entra_auth emulator"], rates["oidc-provider"]
    return [Row("oidc_provider", name, f"{ours:,.0f} tokens/s",
                f"oidc-provider: {theirs:,.0f} tokens/s", f"{ours / theirs:.2f}x", ">= 1.00x",
                ours >= theirs, {"entra_auth": ours, "oidc-provider": theirs})]


MEASURES: dict[str, Callable[[Config], list[Row]]] = {
    "silent": silent_rows,
    "client_credentials": client_credentials_rows,
    "azure_identity": azure_identity_rows,
    "concurrency": concurrency_rows,
    "adapters": adapter_rows,
    "import": import_rows,
    "serialize": serialize_rows,
    "emulator": emulator_rows,
    "validation": validation_rows,
    "persistent": persistent_rows,
    "fastapi": fastapi_rows,
    "oidc_provider": oidc_provider_rows,
}


def collect(config: Config, sections: Iterable[str] = SECTIONS,
            progress: Callable[[str], None] | None = None) -> list[Row]:
    """Measure the chosen sections, in order; return their rows.

    A section that raises gives one row saying so (``met`` False) and the run goes on.
    """
    rows: list[Row] = []
    for section in sections:
        if progress:
            progress(section)
        try:
            rows.extend(MEASURES[section](config))
        except Exception as exc:  # report and measure the rest
            rows.append(Row(section, f"{section}: FAILED ({type(exc).__name__}: {exc})"[:200],
                            "-", "-", "-", "", False))
    return rows


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "n/a"


def environment() -> dict[str, str]:
    """Versions and machine facts printed above the table."""
    from importlib.metadata import PackageNotFoundError, version

    def ver(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    return {"python": platform.python_version(), "entra_auth": ver("entra_auth"),
            "msal": ver("msal"), "azure-identity": ver("azure-identity"),
            "cpus": str(os.cpu_count()), "load average (1 min) at start": _load()}


def render_markdown(rows: list[Row]) -> str:
    """The rows as a Markdown table."""
    lines = ["| benchmark | entra_auth | baseline | ratio | target |",
             "|---|---|---|---|---|"]
    for row in rows:
        verdict = "" if row.met is None else (" met" if row.met else " **missed**")
        target = f"{row.target}{verdict}" if row.target else ""
        lines.append(f"| {row.name} | {row.ours} | {row.baseline} | {row.ratio} | {target} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer rounds, cache sizes up to 10k users (about a minute)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, metavar="SECTION",
                        help=f"measure only these sections: {', '.join(SECTIONS)}")
    parser.add_argument("--users", type=int, nargs="+", help="cache sizes for the silent rows")
    parser.add_argument("--json", type=Path, help="also write rows and environment as JSON")
    parser.add_argument("--wall-clock", action="store_true",
                        help="time in-process rows by wall clock instead of CPU time")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    if args.users:
        config = replace(config, users=tuple(args.users))
    if args.wall_clock:
        config = replace(config, wall_clock=True)
    env = environment()
    started = time.perf_counter()
    rows = collect(config, args.only or SECTIONS,
                   progress=lambda s: print(f"measuring {s} ...", file=sys.stderr, flush=True))
    elapsed = time.perf_counter() - started
    env["load average (1 min) at end"] = _load()
    env["in-process timings"] = "wall clock" if config.wall_clock else "CPU time"
    print(", ".join(f"{k} {v}" for k, v in env.items()) + f"; took {elapsed:.0f} s")
    print("ratio = baseline time / entra_auth time (above 1: entra_auth is faster); for token "
          "requests baseline count / ours; for tokens/s ours / baseline.\n")
    print(render_markdown(rows))
    if args.json:
        args.json.write_text(json.dumps({"environment": env, "config": asdict(config),
                                         "rows": [asdict(r) for r in rows]}, indent=2))
    if any(r.ours == "-" and r.met is False for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
