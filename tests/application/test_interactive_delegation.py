"""acquire_token_interactive delegates to entra_auth.interactive (built by the interactive task)."""

from __future__ import annotations

from typing import Any

import pytest

import entra_auth as msal


def test_acquire_token_interactive_delegates(monkeypatch: pytest.MonkeyPatch) -> None:
    import entra_auth.interactive as interactive

    seen: list[Any] = []

    def fake(app: Any, scopes: list[str], **kwargs: Any) -> dict[str, Any]:
        seen.append((app, scopes, kwargs))
        return {"access_token": "x"}

    monkeypatch.setattr(interactive, "acquire_token_interactive", fake)
    app = msal.PublicClientApplication("id", authority="https://login.microsoftonline.com/t",
                                       enable_broker_on_windows=True)
    assert app.acquire_token_interactive(["User.Read"], prompt="login") == {"access_token": "x"}
    assert len(seen) == 1 and seen[0][:2] == (app, ["User.Read"])
    passed = {k: v for k, v in seen[0][2].items() if v is not None}
    assert passed == {"prompt": "login"}
    assert app.is_pop_supported() is False
