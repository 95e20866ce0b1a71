"""Token cache serialize()/deserialize() for many users, entra_auth vs msal.

Run: ``.venv/bin/python -m benchmarks.bench_serialize [--users 10000] [--rounds 5]``.

One MSAL-schema document (``users`` users: access, refresh and id tokens, accounts) is
deserialized into a fresh cache of each library per call, and each library's loaded cache
is serialized; rounds alternate between the libraries and medians are reported.
"""

from __future__ import annotations

import argparse
import json

import msal  # type: ignore[import-untyped]

import entra_auth

from ._common import CPU_TIME, Clock, Timing, cache_document, fmt_time, interleaved


def serialize_deserialize(users: int, *, rounds: int, min_batch_s: float = 0.0,
                          clock: Clock = CPU_TIME) -> dict[str, dict[str, Timing]]:
    """Median seconds of ``serialize()`` and ``deserialize()`` per library, keyed
    ``{"serialize": {"entra_auth": ..., "msal": ...}, "deserialize": {...}}``; deserialize
    also times ``json.loads`` of the same text (the floor: indexes are built on first use)."""
    document = cache_document(users)
    ours, theirs = entra_auth.SerializableTokenCache(), msal.SerializableTokenCache()
    ours.deserialize(document)
    theirs.deserialize(document)
    # Interchangeable: both write the same cache content back.
    assert json.loads(ours.serialize()) == json.loads(theirs.serialize()) == json.loads(document)
    return {
        "serialize": interleaved(
            {"entra_auth": ours.serialize, "msal": theirs.serialize},
            rounds=rounds, min_batch_s=min_batch_s, warmup=1, clock=clock),
        "deserialize": interleaved(
            {"entra_auth": lambda: entra_auth.SerializableTokenCache().deserialize(document),
             "msal": lambda: msal.SerializableTokenCache().deserialize(document),
             "json.loads": lambda: json.loads(document)},
            rounds=rounds, min_batch_s=min_batch_s, warmup=1, clock=clock),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for op, timings in serialize_deserialize(args.users, rounds=args.rounds).items():
        print(f"{op} {args.users} users: entra_auth {fmt_time(timings['entra_auth'].median)}, "
              f"msal {fmt_time(timings['msal'].median)}"
              + (f", json.loads {fmt_time(timings['json.loads'].median)}"
                 if "json.loads" in timings else ""))


if __name__ == "__main__":
    main()
