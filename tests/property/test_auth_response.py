"""acquire_token_by_auth_code_flow with hostile auth_response dicts, against the emulator:
the outcome is ValueError (CSRF / malformed) or an error dict, never a token, never another
exception, and the cache stays empty."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import entra_auth as msal
from entra_auth.testing import PUBLIC_CLIENT_ID, Emulator

from .budget import examples
from .strategies import hostile_text, json_values

FIELDS = ["state", "code", "error", "error_description", "error_uri", "suberror",
          "client_info", "id_token", "access_token", "refresh_token", "session_state",
          "correlation_id", "claims"]


@pytest.fixture(scope="module")
def app_and_flow(entra_emulator_session: Emulator) -> tuple[Any, dict[str, Any]]:
    app = msal.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=entra_emulator_session.authority(),
        verify=entra_emulator_session.ca_bundle, token_cache=msal.SerializableTokenCache(),
        http_cache={})
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri="http://localhost:8400")
    return app, flow


def _utf8(text: str) -> bool:
    # A lone surrogate can't come from a decoded URL; such a code is refused as ValueError
    # (a UnicodeEncodeError) before anything is sent.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@st.composite
def auth_responses(draw: st.DrawFn, state: str) -> dict[Any, Any]:
    values = st.one_of(json_values, hostile_text, st.just(state))
    response: dict[Any, Any] = draw(st.dictionaries(
        st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), values, max_size=6))
    if draw(st.booleans()):
        response["state"] = state  # get past the CSRF check often
    if draw(st.booleans()):
        response[draw(st.sampled_from(["code", "error"]))] = draw(hostile_text)
    return response


@examples
@given(st.data())
def test_hostile_auth_responses(app_and_flow: tuple[Any, dict[str, Any]],
                                data: st.DataObject) -> None:
    app, flow = app_and_flow
    original = dict(flow)
    response = data.draw(auth_responses(flow["state"]))
    try:
        result = app.acquire_token_by_auth_code_flow(flow, response)
    except ValueError:
        code = response.get("code")
        assert response.get("state") != flow["state"] or not (
            isinstance(code, str) and code) or not _utf8(code)
    else:
        assert isinstance(result, dict) and isinstance(result.get("error"), str)
        for smuggled in ("access_token", "refresh_token", "id_token", "client_info"):
            assert smuggled not in result
    assert flow == original
    assert app.get_accounts() == []
