"""pytest plugin (entry point ``pytest11``): fixtures that run the Entra ID emulator.

One emulator per test session (``entra_emulator_session``); ``entra_emulator`` hands it to a
test freshly reset and fails the test if the emulator hit an internal error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .emulator import Emulator
    from .model import EmulatorConfig

__all__ = ["entra_emulator", "entra_emulator_config", "entra_emulator_session"]


@pytest.fixture(scope="session")
def entra_emulator_config() -> EmulatorConfig:
    """The directory the session's emulator starts with; override it in a conftest.py."""
    from .config import default_config

    return default_config()


@pytest.fixture(scope="session")
def entra_emulator_session(entra_emulator_config: EmulatorConfig) -> Iterator[Emulator]:
    """A running HTTPS emulator shared by the whole session (state carries across tests)."""
    from .emulator import Emulator

    emulator = Emulator(entra_emulator_config).start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def entra_emulator(entra_emulator_session: Emulator) -> Iterator[Emulator]:
    """The session's emulator, reset to its configuration for this test."""
    entra_emulator_session.reset()
    yield entra_emulator_session
    errors = entra_emulator_session.internal_errors
    entra_emulator_session.reset()
    if errors:
        pytest.fail("the Entra emulator hit an internal error:\n" + errors[0], pytrace=False)
