"""Service Fabric's pinned session trusts one origin by thumbprint and reaches nothing else."""

from __future__ import annotations

import re

import pytest
import requests

from entra_auth.transport.pinned_session import pinned_session

THUMBPRINT = "AB" * 20


def test_other_origins_are_refused_not_sent_unverified() -> None:
    session = pinned_session("https://127.0.0.1:2377/metadata/identity/oauth2/token", THUMBPRINT)
    for url in ("https://127.0.0.1:9/token", "https://localhost:2377/token",
                "http://127.0.0.1:2377/token"):
        with pytest.raises(requests.ConnectionError, match=re.escape("reaches only https://127.0.0.1:2377")):
            session.get(url, timeout=1)


def test_a_thumbprint_must_be_a_digest() -> None:
    with pytest.raises(ValueError, match="thumbprint"):
        pinned_session("https://127.0.0.1:2377/", "not-a-thumbprint")
    with pytest.raises(ValueError, match="https"):
        pinned_session("http://127.0.0.1:2377/", THUMBPRINT)
