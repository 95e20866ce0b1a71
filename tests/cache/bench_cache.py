"""Quick timing of the cache next to msal's (run by hand: python tests/cache/bench_cache.py).

Not collected by pytest: figures vary by machine and are reported, never asserted.
"""

from __future__ import annotations

import copy
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import msal
from cache_events import AUTHORITY_HOST, CLIENT_ID, NOW, TENANT, user_event

from entra_auth.cache import SerializableTokenCache


def median_us(call: Callable[[], Any], repeat: int = 20000) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples) / 1000


def best_s(call: Callable[[], Any], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def filled(cache: Any, users: int) -> Any:
    template = user_event("TEMPLATE")
    for i in range(users):
        event = copy.deepcopy(template)
        uid = f"user{i}"
        fresh = user_event(uid, username=f"{uid}@contoso.com")
        event["response"] = fresh["response"]
        cache.add(event, now=NOW)
    return cache


def main() -> None:
    rng = random.Random(1)
    for users in (1, 10_000, 100_000):
        start = time.perf_counter()
        ours = filled(SerializableTokenCache(), users)
        build = time.perf_counter() - start
        homes = [f"user{rng.randrange(users)}.{TENANT}" for _ in range(1000)]
        it = iter(homes * 1000)

        def hit() -> Any:
            return ours.find_access_token(
                client_id=CLIENT_ID, environments=[AUTHORITY_HOST], realm=TENANT,
                scopes=["User.Read"], home_account_id=next(it))

        assert hit() is not None
        print(f"{users:>7} users: add {build / users * 1e6:.1f} us/event; "
              f"find_access_token hit median {median_us(hit):.2f} us; "
              f"find_refresh_tokens median "
              f"{median_us(lambda: ours.find_refresh_tokens(home_account_id=next(it), environments=[AUTHORITY_HOST], client_id=CLIENT_ID)):.2f} us")  # noqa: E501
        if users <= 10_000:
            theirs = filled(msal.SerializableTokenCache(), users)
            query = {"client_id": CLIENT_ID, "environment": AUTHORITY_HOST, "realm": TENANT}

            def msal_search() -> Any:
                return list(theirs.search("AccessToken", target=["User.Read"], query=dict(
                    query, home_account_id=next(it)), now=NOW))

            def our_search() -> Any:
                return list(ours.search("AccessToken", target=["User.Read"], query=dict(
                    query, home_account_id=next(it)), now=NOW))

            def msal_rt() -> Any:
                return list(theirs.search("RefreshToken", query={
                    "environment": AUTHORITY_HOST, "home_account_id": next(it)}))

            def our_rt() -> Any:
                return list(ours.search("RefreshToken", query={
                    "environment": AUTHORITY_HOST, "home_account_id": next(it)}))

            repeat = 2000 if users > 1 else 20000
            print(f"{'':>15} search(AT) ours {median_us(our_search, repeat):.1f} us, "
                  f"msal {median_us(msal_search, repeat):.1f} us; "
                  f"search(RT) ours {median_us(our_rt, repeat):.1f} us, "
                  f"msal {median_us(msal_rt, repeat):.1f} us")
        if users == 10_000:
            text = ours.serialize()
            assert text == theirs.serialize()
            print(f"{'':>15} serialize ours {best_s(ours.serialize) * 1000:.0f} ms, "
                  f"msal {best_s(theirs.serialize) * 1000:.0f} ms; "
                  f"deserialize ours {best_s(lambda: ours.deserialize(text)) * 1000:.0f} ms, "
                  f"msal {best_s(lambda: theirs.deserialize(text)) * 1000:.0f} ms "
                  f"({len(text) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
