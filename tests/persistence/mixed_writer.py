"""A writer process for the mixed-writer stress test: entra_auth or msal-extensions, one file.

Run as ``python mixed_writer.py LIB PATH FIRST COUNT``. Adds tokens FIRST..FIRST+COUNT-1 one by
one and prints ``ok <i>`` after each add returned (flushed), or ``lockerror <i>`` when the lock
could not be taken in time (then retries the same token).
"""

from __future__ import annotations

import sys
import time
from typing import Any

HOST = "login.microsoftonline.com"


def event(i: int) -> dict[str, Any]:
    scope = f"api://mixed-{i}/.default"
    return {
        "client_id": "mixed-client", "scope": [scope],
        "token_endpoint": f"https://{HOST}/tenant-{i}/oauth2/v2.0/token",
        "environment": HOST, "grant_type": "client_credentials", "data": {},
        "response": {"access_token": f"at-{i}-" + "x" * 1000, "expires_in": 3600,
                     "token_type": "Bearer", "scope": scope},
    }


def main() -> int:
    lib, path, first, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if lib == "entra_auth":
        from entra_auth.cache.file_cache import FileTokenCache

        cache: Any = FileTokenCache(path, lock_timeout=60)
        lock_errors: tuple[type[BaseException], ...] = ()
    else:
        from msal_extensions import FilePersistence, PersistedTokenCache
        from msal_extensions.token_cache import LockError

        cache = PersistedTokenCache(FilePersistence(path))
        lock_errors = (LockError,)
    print("ready", flush=True)
    for i in range(first, first + count):
        while True:
            try:
                cache.add(event(i))
                break
            except lock_errors:
                print(f"lockerror {i}", flush=True)
                time.sleep(0.01)
        print(f"ok {i}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
