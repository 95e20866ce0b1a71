"""PublicClientApplication.acquire_token_interactive takes msal's positional parameters."""

from __future__ import annotations

import inspect

import msal

import entra_auth


def test_positional_parameters_match_msal() -> None:
    ours = list(inspect.signature(entra_auth.PublicClientApplication.acquire_token_interactive)
                .parameters)
    theirs = list(inspect.signature(msal.PublicClientApplication.acquire_token_interactive)
                  .parameters)
    # msal's positional order up to its broker-only auth_scheme parameter
    cut = theirs.index("on_before_launching_ui") + 1
    assert ours[:cut] == theirs[:cut]
