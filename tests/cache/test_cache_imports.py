"""The in-memory cache is I/O-free: no network, async, clock module or heavy dependency."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

CACHE = pathlib.Path(__file__).resolve().parents[2] / "entra_auth" / "cache"
# The in-memory core; persistence backends (files, Redis) may do I/O.
CORE = ("__init__.py", "backend.py", "base.py", "lookups.py", "schema.py", "entry_store.py",
        "json_format.py", "token_cache.py", "serializable_cache.py")
FORBIDDEN = {"requests", "httpx", "asyncio", "socket", "time", "ssl", "jwt", "cryptography",
             "wrapt", "msal"}


def test_cache_modules_import_nothing_forbidden() -> None:
    offenders: dict[str, set[str]] = {}
    for path in (CACHE / name for name in CORE):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        if names & FORBIDDEN:
            offenders[path.name] = names & FORBIDDEN
    assert offenders == {}


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
