"""MSAL-compatible client applications (``msal.application`` equivalents) and ``Prompt``."""

from __future__ import annotations

from ._app_base import ClientApplication
from ._app_confidential import ConfidentialClientApplication
from ._app_public import PublicClientApplication

__all__ = ["ClientApplication", "ConfidentialClientApplication", "Prompt",
           "PublicClientApplication"]


class Prompt:
    """OIDC ``prompt`` values (OpenID Connect Core 1.0 section 3.1.2.1)."""

    NONE = "none"
    LOGIN = "login"
    CONSENT = "consent"
    SELECT_ACCOUNT = "select_account"
    CREATE = "create"
