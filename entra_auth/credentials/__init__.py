"""Client credentials of a confidential client: secret, certificate assertion, assertions.

:func:`build_client_auth` turns MSAL's ``client_credential`` argument into an object with
``form_fields(token_endpoint, now, jti)``; PyJWT and cryptography are imported only for
certificates.
"""

from __future__ import annotations

from .factory import AssertionAuth, SecretAuth, build_client_auth

__all__ = ["AssertionAuth", "SecretAuth", "build_client_auth"]
