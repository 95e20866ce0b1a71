"""Fixtures for the web API tests: the emulator, tokens for the web API, forged tokens."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

import entra_auth
from entra_auth.testing import PUBLIC_CLIENT_ID, WEB_API_ID, WEB_API_SECRET, Emulator
from entra_auth.web import TokenValidator

ALICE = "alice@contoso.onmicrosoft.com"
ALICE_PASSWORD = "alice-password"
API_SCOPE = f"api://{WEB_API_ID}/access_as_user"
GRAPH_SCOPE = "https://graph.microsoft.com/User.Read"
OTHER_TENANT = "0b1c2d3e-4f50-4617-8a9b-aabbccddeeff"


@pytest.fixture(scope="session")
def _emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def emu(_emulator: Emulator) -> Iterator[Emulator]:
    _emulator.reset()
    yield _emulator
    assert not _emulator.internal_errors


def public_app(emu: Emulator, **kwargs: Any) -> entra_auth.PublicClientApplication:
    return entra_auth.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), http_client=emu.requests_session(),
        instance_discovery=False, **kwargs,
    )


def api_app(emu: Emulator, **kwargs: Any) -> entra_auth.ConfidentialClientApplication:
    """The web API's own confidential client (for on-behalf-of)."""
    return entra_auth.ConfidentialClientApplication(
        WEB_API_ID, client_credential=WEB_API_SECRET, authority=emu.authority(),
        http_client=emu.requests_session(), instance_discovery=False, **kwargs,
    )


def user_token(emu: Emulator, scopes: list[str] | None = None) -> str:
    result = public_app(emu).acquire_token_by_username_password(
        ALICE, ALICE_PASSWORD, scopes=scopes or [API_SCOPE])
    assert "access_token" in result, result.get("error_description")
    return str(result["access_token"])


def validator(emu: Emulator, **kwargs: Any) -> TokenValidator:
    kwargs.setdefault("authority", emu.authority())
    kwargs.setdefault("clock", emu.now)
    return TokenValidator(WEB_API_ID, verify=emu.ca_bundle, **kwargs)


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return data


def emulator_signed(emu: Emulator, **changes: Any) -> str:
    """A token signed with the emulator's real key: a valid API token's claims with changes
    (None removes a claim). Reaches into the emulator to forge what Entra would never issue."""
    claims = claims_of(user_token(emu))
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return str(emu._core.signer.sign(claims))


def self_signed(claims: dict[str, Any], kid: str = "forged-kid") -> str:
    """A token signed with a key the authority never published."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def keys_fetches(emu: Emulator) -> int:
    return len(emu.requests_to("keys"))
