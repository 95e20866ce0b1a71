"""MSAL-compatible client applications (``msal.application`` equivalents) and ``Prompt``."""

from __future__ import annotations

from ._app_base import ClientApplication
from ._app_confidential import ConfidentialClientApplication
from ._app_public import PublicClientApplication

__all__ = ["ClientApplication", "ConfidentialClientApplication", "Prompt",
           "PublicClientApplication", "extract_certs"]


def extract_certs(public_cert_content: str) -> list[str]:
    """msal's ``msal.application.extract_certs``: the certificates of a PEM text, for ``x5c``.

    Each ``BEGIN/END CERTIFICATE`` block gives its base64 body; text without such blocks is
    taken as one certificate body.

    Raises:
        ValueError: the text holds a private key instead of a certificate.
    """
    from .credentials.certificate import pem_certificates

    return pem_certificates(public_cert_content)


class Prompt:
    """OIDC ``prompt`` values (OpenID Connect Core 1.0 section 3.1.2.1)."""

    NONE = "none"
    LOGIN = "login"
    CONSENT = "consent"
    SELECT_ACCOUNT = "select_account"
    CREATE = "create"
