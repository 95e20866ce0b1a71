"""entra_auth.testing stands alone: no client-library modules, heavy imports only when used."""

from __future__ import annotations

import subprocess
import sys

import pytest

from entra_auth.testing import enter_device_code


def test_importing_the_emulator_pulls_in_no_client_code_or_heavy_deps() -> None:
    code = (
        "import sys, entra_auth.testing\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('requests', 'httpx', 'jwt', 'cryptography', 'wrapt', 'msal') or "
        "m.startswith(('entra_auth.protocol', 'entra_auth.cache', 'entra_auth.application', "
        "'entra_auth.adapters', 'entra_auth.credentials', 'entra_auth.transport'))]\n"
        "print(','.join(sorted(bad)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == ""


def test_enter_device_code_rejects_a_non_flow() -> None:
    with pytest.raises(ValueError, match="user_code"):
        enter_device_code({"error": "invalid_client"}, "u", "p")
