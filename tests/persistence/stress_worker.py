"""A worker process for the stress tests: acquire N distinct app tokens into a shared cache.

Run as ``python stress_worker.py '<json args>'``. Prints one JSON line (tokens, errors, write
latencies) and exits 1 if any acquisition failed.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def make_cache(spec: dict[str, Any]) -> Any:
    if spec["backend"] == "file":
        from entra_auth.cache.file_cache import FileTokenCache

        return FileTokenCache(spec["path"], lock_timeout=60)
    if spec["backend"] == "memory":
        from entra_auth.cache import TokenCache

        return TokenCache()
    import redis

    from entra_auth.cache.redis_cache import RedisTokenCache

    return RedisTokenCache(redis.Redis.from_url(spec["url"]), prefix=spec.get("prefix", "t"))


def main() -> int:
    spec = json.loads(sys.argv[1])
    import entra_auth

    cache = make_cache(spec)
    apps = {}
    for tenant, authority in enumerate(spec["authorities"]):
        apps[tenant] = entra_auth.ConfidentialClientApplication(
            spec["client_id"], client_credential=spec["secret"], authority=authority,
            verify=spec["ca_bundle"], token_cache=cache,
        )
    worker, per_tenant = spec["worker"], spec["per_tenant"]
    errors: list[str] = []
    seconds: list[float] = []
    count = 0
    for tenant in range(len(apps)):
        for i in range(per_tenant):
            resource = spec["resources"][worker * per_tenant + i]
            start = time.perf_counter()
            result = apps[tenant].acquire_token_for_client([f"{resource}/.default"])
            seconds.append(time.perf_counter() - start)
            if "access_token" in result and result.get("token_source") == "identity_provider":
                count += 1
            else:
                errors.append(str(result.get("error") or result.get("token_source")))
    print(json.dumps({"worker": worker, "tokens": count, "errors": errors[:5],
                      "seconds": seconds}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
