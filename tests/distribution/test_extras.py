"""Importing an integration without its extra says which extra to install."""

from __future__ import annotations

import subprocess
import sys

import pytest

CASES = [
    ("entra_auth.web.flask", "flask",
     'entra_auth.web.flask needs Flask: pip install "entra-auth[flask]"'),
    ("entra_auth.web.fastapi", "fastapi",
     'entra_auth.web.fastapi needs FastAPI: pip install "entra-auth[fastapi]"'),
    ("entra_auth.web.fastapi", "starlette",
     'entra_auth.web.fastapi needs FastAPI: pip install "entra-auth[fastapi]"'),
]


@pytest.mark.parametrize(("module", "hidden", "message"), CASES)
def test_missing_extra_names_the_extra(module: str, hidden: str, message: str) -> None:
    # A child interpreter where the dependency can't be imported (None in sys.modules).
    code = (
        "import sys\n"
        f"for name in [m for m in list(sys.modules) if m.split('.')[0] == {hidden!r}]:\n"
        "    del sys.modules[name]\n"
        f"sys.modules[{hidden!r}] = None\n"
        "try:\n"
        f"    import {module}\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc, sep=': ')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == f"ImportError: {message}", out.stdout + out.stderr


def test_redis_client_options_without_redis_names_the_extra() -> None:
    code = (
        "import sys\n"
        "sys.modules['redis'] = None\n"
        "import entra_auth\n"
        "try:\n"
        "    entra_auth.redis_client_options()\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == (
        'entra_auth.redis_client_options needs redis: pip install "entra-auth[redis]"')
