"""The fault matrix: every flow x every fault the emulator injects, against the emulator.

Each cell checks the outcome defined in outcomes.py (and docs/reliability.md), that nothing
but the documented exception escapes, that a failed call leaves the token cache byte-for-byte
unchanged, that a non-idempotent step is sent exactly once, and that a Retry-After answer is
replayed from the http_cache rather than re-sent.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from entra_auth.testing import Emulator

from .flows import FAULTS, FLOWS, FlowSpec
from .outcomes import Outcome, expected


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _sent(emu: Emulator, spec: FlowSpec) -> int:
    return sum(1 for r in emu.requests_to(spec.endpoint) if r.method == spec.method)


def _run(act: Any) -> tuple[str, Any]:
    try:
        return "value", act()
    except Exception as exc:  # the cell decides whether this exception is the defined one
        return "raise", exc


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def _check(outcome: Outcome, got: tuple[str, Any], valid_token: str | None) -> None:
    how, value = got
    if outcome.kind == "raise":
        assert how == "raise", f"expected {outcome.exception}, got {value!r:.300}"
        assert type(value).__name__ == outcome.exception, repr(value)
        if outcome.error:
            assert value.error == outcome.error
        return
    assert how == "value", f"unexpected exception {value!r}"
    if not isinstance(value, dict):  # the adapter's response from the echo resource
        assert value.status_code == 200, value.text
        sent = value.json()["claims"]["uti"]
        if outcome.kind == "cached":
            assert valid_token and sent == _claims(valid_token)["uti"]
        else:
            assert outcome.kind == "token" and sent
            assert not valid_token or sent != _claims(valid_token)["uti"]
        return
    assert isinstance(value, dict), value
    if outcome.kind == "error":
        assert value.get("error") == outcome.error, value
        assert "access_token" not in value and value.get("error_description")
        assert value.get("correlation_id")
    elif outcome.kind == "cached":
        assert value.get("access_token") == valid_token, value.get("error")
        assert value.get("token_source") == "cache"
    elif outcome.kind == "token":
        assert value.get("token_source") == "identity_provider", value.get("error")
        assert value["access_token"] != valid_token
    else:  # a device flow dict
        assert value.get("user_code") and value.get("device_code"), value


@pytest.mark.parametrize("fault", list(FAULTS), ids=[_slug(f) for f in FAULTS])
@pytest.mark.parametrize("spec", FLOWS, ids=[_slug(s.name) for s in FLOWS])
def test_fault_matrix(entra_emulator: Emulator, spec: FlowSpec, fault: str) -> None:
    emu = entra_emulator
    outcome = expected(spec.name, fault)
    cell = spec.prepare(emu)
    try:
        before = cell.cache.serialize()
        sent_before = _sent(emu, spec)
        emu.inject_fault(spec.endpoint, times=None, **FAULTS[fault])
        got = _run(cell.act)
        _check(outcome, got, cell.valid_token)
        assert _sent(emu, spec) - sent_before == outcome.requests
        if outcome.kind in ("error", "raise", "cached", "flow"):
            assert cell.cache.serialize() == before, "a failed call changed the token cache"
        else:
            assert cell.cache.serialize() != before, "the new token was not cached"
        if spec.method == "POST" and FAULTS[fault].get("retry_after"):
            # Throttled: the same request is answered from the http_cache, not re-sent.
            again = _run(cell.act)
            _check(outcome, again, cell.valid_token)
            assert _sent(emu, spec) - sent_before == outcome.requests
            assert cell.cache.serialize() == before
    finally:
        cell.cleanup()
