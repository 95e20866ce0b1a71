"""Managed identity tests: never let a test reach the real IMDS at 169.254.169.254."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# A loopback port nobody listens on (discard): a client that ignores our override fails fast.
UNREACHABLE = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def _no_real_imds(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", UNREACHABLE)
    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT",
                 "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    yield
