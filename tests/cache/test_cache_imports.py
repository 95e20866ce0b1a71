"""The in-memory cache pulls in no heavy dependency, and reads like msal's.

Which modules the cache may import (no network, async, clock or heavy dependency outside its
I/O backends) is checked with every other layer in tests/test_import_boundary.py, from the
tables of docs/architecture.md.
"""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_cache_pulls_in_no_heavy_dependency() -> None:
    code = (
        "import sys, entra_auth\n"
        "cache = entra_auth.SerializableTokenCache()\n"
        "print(','.join(m for m in ('requests', 'httpx', 'jwt', 'cryptography', 'wrapt', "
        "'msal') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == ""


def test_entra_auth_reads_like_msal() -> None:
    import entra_auth as msal

    cache = msal.SerializableTokenCache()
    assert isinstance(cache, msal.TokenCache)
    assert cache.serialize() == "{}" and cache.has_state_changed is False
