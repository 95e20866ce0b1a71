"""CLI tests: the emulator polls device codes every second; each test has its own config dir."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from entra_auth.testing import Emulator


@pytest.fixture
def emu(entra_emulator: Emulator) -> Iterator[Emulator]:
    entra_emulator.settings.device_poll_interval = 1
    yield entra_emulator
