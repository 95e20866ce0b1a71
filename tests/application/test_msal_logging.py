"""``log_as_msal()``: a logging setup for ``msal`` receives entra_auth's records (issue 18 point 6).

Same levels (the msal logger's), each record once, no secrets; switching off restores the
``entra_auth`` hierarchy. Flows run against the emulator over loopback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

import entra_auth as msal
from entra_auth.testing import GRAPH_RESOURCE, WEB_APP_ID, WEB_APP_SECRET, Emulator

DEFAULT = [f"{GRAPH_RESOURCE}/.default"]


class Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def msal_logging() -> Iterator[dict[str, Any]]:
    """A drop-in user's msal logging setup: a handler and a level on ``msal``."""
    names = ["msal", "msal.application", "msal.token_cache", "entra_auth", ""]
    saved = {n: (logging.getLogger(n).level, list(logging.getLogger(n).handlers)) for n in names}
    on_msal, on_root = Keep(), Keep()
    logging.getLogger("msal").addHandler(on_msal)
    logging.getLogger().addHandler(on_root)
    try:
        yield {"msal": on_msal, "root": on_root}
    finally:
        msal.log_as_msal(False)
        for name, (level, handlers) in saved.items():
            logger = logging.getLogger(name)
            logger.setLevel(level)
            logger.handlers[:] = handlers


def _client_credentials(emu: Emulator) -> dict[str, Any]:
    app = msal.ConfidentialClientApplication(
        WEB_APP_ID, WEB_APP_SECRET, authority=emu.authority(), verify=emu.ca_bundle)
    result: dict[str, Any] = app.acquire_token_for_client(DEFAULT)
    assert "access_token" in result, result
    return result


def test_without_the_switch_msal_logging_sees_nothing(
    emu: Emulator, msal_logging: dict[str, Keep]
) -> None:
    logging.getLogger("msal").setLevel(logging.DEBUG)
    _client_credentials(emu)
    assert msal_logging["msal"].records == []


def test_msal_level_and_handlers_apply_to_our_records(
    emu: Emulator, msal_logging: dict[str, Keep]
) -> None:
    msal.log_as_msal()
    msal.log_as_msal()  # idempotent
    logging.getLogger("msal").setLevel(logging.DEBUG)
    result = _client_credentials(emu)
    got = msal_logging["msal"].records
    assert any(r.name == "entra_auth.application" and r.levelno == logging.DEBUG for r in got)
    assert logging.getLogger("entra_auth.application").parent is logging.getLogger(
        "msal.application")
    # Each record once at the root, too (entra_auth -> msal -> root is one chain).
    root_ids = [id(r) for r in msal_logging["root"].records]
    assert len(root_ids) == len(set(root_ids)) and set(map(id, got)) <= set(root_ids)
    text = "\n".join(r.getMessage() for r in got)
    assert WEB_APP_SECRET not in text and result["access_token"][:16] not in text

    # The msal level decides: at WARNING our DEBUG records are not even created.
    logging.getLogger("msal").setLevel(logging.WARNING)
    msal_logging["msal"].records.clear()
    emu.reset()
    _client_credentials(emu)
    assert [r for r in msal_logging["msal"].records if r.levelno < logging.WARNING] == []


def test_a_child_msal_logger_configuration_applies(
    emu: Emulator, msal_logging: dict[str, Keep]
) -> None:
    msal.log_as_msal()
    only_app = Keep()
    logging.getLogger("msal.application").addHandler(only_app)
    logging.getLogger("msal.application").setLevel(logging.DEBUG)
    _client_credentials(emu)
    assert only_app.records and {r.name for r in only_app.records} == {"entra_auth.application"}


def test_switching_off_restores_the_entra_auth_hierarchy(
    emu: Emulator, msal_logging: dict[str, Keep]
) -> None:
    msal.log_as_msal()
    msal.log_as_msal(False)
    assert logging.getLogger("entra_auth").parent is logging.getLogger()
    assert logging.getLogger("entra_auth.cache").parent is logging.getLogger("entra_auth")
    logging.getLogger("msal").setLevel(logging.DEBUG)
    _client_credentials(emu)
    assert msal_logging["msal"].records == []


def test_cache_debug_log_names_request_fields_and_masks_their_values(
    emu: Emulator, msal_logging: dict[str, Keep]
) -> None:
    import json

    msal.log_as_msal()
    on_cache = Keep()
    logging.getLogger("msal.token_cache").addHandler(on_cache)
    logging.getLogger("msal.token_cache").setLevel(logging.DEBUG)
    claims = json.dumps({"access_token": {"xms_ftd": {"value": "SENSITIVE-CLAIM"}}})
    app = msal.ConfidentialClientApplication(
        WEB_APP_ID, WEB_APP_SECRET, authority=emu.authority(), verify=emu.ca_bundle)
    result = app.acquire_token_for_client(DEFAULT, fmi_path="a/b",
                                          forwarded_client_claims=claims)
    assert "access_token" in result, result
    text = "\n".join(r.getMessage() for r in on_cache.records)
    assert "client_claims=********" in text and "claims=********" in text
    assert "client_secret=********" in text and "fmi_path=********" in text
    assert f"client_id={WEB_APP_ID}" in text
    assert "SENSITIVE-CLAIM" not in text and WEB_APP_SECRET not in text
    assert result["access_token"][:16] not in text
