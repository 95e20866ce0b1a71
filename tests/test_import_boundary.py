"""`import entra_auth` stays cheap, and the I/O-free core never imports I/O modules."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "entra_auth"
HEAVY = ("requests", "httpx", "jwt", "cryptography", "wrapt")


def test_import_entra_auth_imports_no_heavy_dependency() -> None:
    code = (
        "import sys, entra_auth\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"import entra_auth pulled in: {out}"


def _imported_modules(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_protocol_core_does_no_io() -> None:
    forbidden = {"requests", "httpx", "asyncio", "socket", "time", "ssl", "urllib3"}
    offenders = {}
    for path in (PACKAGE / "protocol").rglob("*.py"):
        bad = _imported_modules(path) & forbidden
        if bad:
            offenders[str(path.relative_to(PACKAGE))] = sorted(bad)
    assert offenders == {}


def test_every_public_name_resolves() -> None:
    import entra_auth

    assert set(entra_auth.__all__) - {"__version__"} == set(entra_auth._EXPORTS)
    for name in entra_auth.__all__:
        assert getattr(entra_auth, name) is not None
