"""A worker process for the SQLite stress test: sign in users FIRST..FIRST+COUNT-1 into one cache.

Run as ``python sqlite_writer.py PATH FIRST COUNT``. Each user's token event (access, refresh
and ID token, account) goes into the cache; ``ok <i>`` is printed (flushed) after each add.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from typing import Any

HOST = "login.microsoftonline.com"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "5d1e0b2a-7c3f-4e4d-9a8b-00000000abcd"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def user_event(i: int) -> dict[str, Any]:
    uid = f"user-{i:05d}"
    now = int(time.time())
    claims = {"iss": f"https://{HOST}/{TENANT}/v2.0", "sub": f"sub-{uid}", "oid": f"oid-{uid}",
              "tid": TENANT, "aud": CLIENT_ID, "exp": now + 3600, "iat": now,
              "preferred_username": f"{uid}@contoso.com"}
    return {
        "client_id": CLIENT_ID, "scope": ["User.Read"],
        "token_endpoint": f"https://{HOST}/{TENANT}/oauth2/v2.0/token",
        "environment": HOST, "grant_type": "authorization_code", "data": {},
        "response": {
            "token_type": "Bearer", "scope": "User.Read", "expires_in": 3600,
            "ext_expires_in": 3600, "access_token": f"at-{uid}-" + "x" * 1200,
            "refresh_token": f"rt-{uid}",
            "id_token": f"{_b64({'alg': 'none'})}.{_b64(claims)}.c2ln",
            "client_info": _b64({"uid": uid, "utid": TENANT}),
        },
    }


def main() -> int:
    path, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    from entra_auth.cache.sqlite_cache import SqliteTokenCache

    cache = SqliteTokenCache(path, lock_timeout=60)
    print("ready", flush=True)
    for i in range(first, first + count):
        cache.add(user_event(i))
        print(f"ok {i}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
