"""Shared fixtures for the emulator's tests (the emulator itself comes from the plugin)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from entra_auth.testing import Emulator

ALICE = "alice@contoso.onmicrosoft.com"
ALICE_PASSWORD = "alice-password"
BOB = "bob@contoso.onmicrosoft.com"
BOB_PASSWORD = "bob-password"


@pytest.fixture
def emu(entra_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The reset emulator, trusted by requests (msal's verify= loses to REQUESTS_CA_BUNDLE)."""
    assert entra_emulator.ca_bundle is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", entra_emulator.ca_bundle)
    entra_emulator.settings.device_poll_interval = 1
    return entra_emulator


@pytest.fixture
def http(emu: Emulator) -> Iterator[requests.Session]:
    """A requests session that trusts the emulator."""
    session = emu.requests_session()
    yield session
    session.close()
