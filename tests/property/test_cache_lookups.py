"""A token cache with hostile field values never makes get_accounts or silent acquisition
raise (against the emulator: a refresh with a garbage refresh token is an error dict)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import entra_auth as msal
from entra_auth.testing import DEFAULT_TENANT_ID, PUBLIC_CLIENT_ID, Emulator

from .budget import examples
from .strategies import json_scalars, json_values
from .test_cache_roundtrip import documents, text


@pytest.fixture(scope="module")
def silent_app(entra_emulator_session: Emulator) -> Any:
    app = msal.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=entra_emulator_session.authority(),
        verify=entra_emulator_session.ca_bundle, token_cache=msal.SerializableTokenCache(),
        http_cache={})
    app.get_accounts()  # discovery, once
    return app


@examples
@given(documents(st.one_of(json_scalars, text, json_values), env=st.just("127.0.0.1"),
                 client=st.just(PUBLIC_CLIENT_ID), realm=st.just(DEFAULT_TENANT_ID)),
       st.lists(st.sampled_from(["User.Read", "Mail.Read", "Files.Read"]), min_size=1,
                max_size=2, unique=True))
def test_hostile_field_values_never_break_lookups(silent_app: Any, doc: dict[str, Any],
                                                  scopes: list[str]) -> None:
    silent_app.token_cache.deserialize(json.dumps(doc))
    accounts = silent_app.get_accounts()
    assert isinstance(accounts, list)
    for account in accounts[:2]:
        result = silent_app.acquire_token_silent_with_error(scopes, account)
        assert result is None or isinstance(result, dict)
        if isinstance(result, dict) and "access_token" in result:
            assert isinstance(result["access_token"], str)
