"""One emulator (HTTPS on loopback) for the application tests, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import entra_auth as msal
from entra_auth.testing import GRAPH_RESOURCE, PUBLIC_CLIENT_ID, Emulator

ALICE = "alice@contoso.onmicrosoft.com"
ALICE_PW = "alice-password"
USER_READ = f"{GRAPH_RESOURCE}/User.Read"


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def emu(emulator: Emulator) -> Iterator[Emulator]:
    emulator.reset()
    yield emulator
    assert emulator.internal_errors == []


def public_app(emu: Emulator, client_id: str = PUBLIC_CLIENT_ID, **kwargs: Any) -> Any:
    kwargs.setdefault("authority", emu.authority())
    kwargs.setdefault("verify", emu.ca_bundle)
    return msal.PublicClientApplication(client_id, **kwargs)


def sign_in(app: Any, scopes: list[str] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = app.acquire_token_by_username_password(
        ALICE, ALICE_PW, scopes or [USER_READ])
    assert "access_token" in result, result.get("error_description")
    return result
