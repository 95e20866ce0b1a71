"""EntraAuth refuses, at construction, scopes Entra would refuse at the first request."""

from __future__ import annotations

import pytest

import entra_auth
from entra_auth import EntraAuth
from entra_auth.protocol.scope_shape import scope_shape_problem
from entra_auth.testing import PUBLIC_CLIENT_ID, WEB_API_ID, Emulator

GRAPH = "https://graph.microsoft.com"


@pytest.fixture
def app(entra_emulator: Emulator) -> entra_auth.PublicClientApplication:
    return entra_auth.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=entra_emulator.authority(), verify=entra_emulator.ca_bundle)


@pytest.mark.parametrize(("scopes", "says"), [
    ([GRAPH], f"'{GRAPH}/.default'"),
    ([f"{GRAPH}/"], f"'{GRAPH}/User.Read'"),
    (["User.Read", f"{GRAPH}/.default"], f"pass ['{GRAPH}/.default'] alone"),
    ([f"{GRAPH}/User.Read", f"api://{WEB_API_ID}/access_as_user"], "one EntraAuth per API"),
    (["User.Read", "https://management.azure.com/.default"], "these scopes name 2"),
    ([".default"], "'<resource>/.default'"),
])
def test_wrong_shapes_raise_value_error_saying_what_to_pass(
    app: entra_auth.PublicClientApplication, entra_emulator: Emulator, scopes: list[str],
    says: str,
) -> None:
    with pytest.raises(ValueError, match="scopes") as raised:
        EntraAuth(app, scopes)
    assert says in str(raised.value)
    assert entra_emulator.requests_to("token") == []  # refused before any request


@pytest.mark.parametrize("scopes", [
    ["User.Read", "Mail.Read"],
    [f"{GRAPH}/User.Read", "Mail.Read", "offline_access"],
    [f"{GRAPH}/.default"],
    [f"{GRAPH}/.default", "offline_access", "openid"],
    [f"api://{WEB_API_ID}/access_as_user", f"{WEB_API_ID}/access_as_user"],  # id and URI
    ["00000003-0000-0000-c000-000000000000/User.Read", "Mail.Read"],  # Graph's app id
    ["https://management.core.windows.net//.default"],
])
def test_right_shapes_pass(scopes: list[str]) -> None:
    assert scope_shape_problem(scopes) is None
