"""Web API and Azure SDK modules stay cheap to import: heavy dependencies load on first use."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("requests", "httpx", "jwt", "cryptography", "wrapt", "flask", "fastapi", "django",
         "azure")


def test_importing_the_web_and_credential_apis_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, entra_auth, entra_auth.web, entra_auth.azure.credential\n"
        "from entra_auth import TokenValidator, WebApi, EntraTokenCredential\n"
        "from entra_auth.aio import EntraTokenCredential as Async\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
