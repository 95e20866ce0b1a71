"""azure-core's own types when azure-core is installed: tokens, token infos and errors.

Azure SDK code checks ``isinstance(token, azure.core.credentials.AccessToken)`` (kiota's
``AzureIdentityAccessTokenProvider`` drops a look-alike silently) and catches
``ClientAuthenticationError`` / azure-identity's ``CredentialUnavailableError``. With those
packages importable, credentials hand out and raise exactly those types (subclassed so that the
token never shows in a repr, and so that our own exception classes still match); without them,
entra_auth's look-alikes (:class:`AccessToken`, :class:`AccessTokenInfo`, defined here). Nothing
here imports azure-core before a credential is used.
"""

from __future__ import annotations

import functools
import importlib
import sys
from typing import Any, NamedTuple, TypedDict

from ..errors import EntraAuthError

__all__ = [
    "AccessToken",
    "AccessTokenInfo",
    "TokenRequestOptions",
    "access_token",
    "access_token_info",
    "azure_error",
    "has_azure_core",
]


class AccessToken(NamedTuple):
    """azure-core's ``AccessToken``: the token and its expiry (Unix time)."""

    token: str
    expires_on: int

    def __repr__(self) -> str:
        return f"AccessToken(token=<redacted>, expires_on={self.expires_on})"


class AccessTokenInfo:
    """azure-core's ``AccessTokenInfo``: a token with its type and proactive-refresh time."""

    def __init__(
        self,
        token: str,
        expires_on: int,
        *,
        token_type: str = "Bearer",
        refresh_on: int | None = None,
    ) -> None:
        self.token = token
        self.expires_on = expires_on
        self.token_type = token_type
        self.refresh_on = refresh_on

    def __repr__(self) -> str:
        return (f"AccessTokenInfo(token=<redacted>, expires_on={self.expires_on}, "
                f"token_type={self.token_type!r}, refresh_on={self.refresh_on})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AccessTokenInfo):
            return NotImplemented
        return (self.token, self.expires_on, self.token_type, self.refresh_on) == (
            other.token, other.expires_on, other.token_type, other.refresh_on)

    __hash__ = None  # type: ignore[assignment]


class TokenRequestOptions(TypedDict, total=False):
    """azure-core's ``TokenRequestOptions``, for ``EntraTokenCredential.get_token_info``."""

    claims: str
    tenant_id: str
    enable_cae: bool


@functools.lru_cache(maxsize=1)
def _core() -> Any:
    try:
        return importlib.import_module("azure.core.credentials")
    except ImportError:
        return None


def has_azure_core() -> bool:
    """Whether azure-core can be imported here."""
    return _core() is not None


@functools.lru_cache(maxsize=1)
def _token_classes() -> tuple[type, type] | None:
    core = _core()
    if core is None:
        return None

    class AccessToken(core.AccessToken):  # type: ignore[misc,name-defined]
        """azure-core's ``AccessToken`` whose repr never shows the token."""

        __slots__ = ()

        def __repr__(self) -> str:
            return f"AccessToken(token=<redacted>, expires_on={self.expires_on})"

    class AccessTokenInfo(core.AccessTokenInfo):  # type: ignore[misc,name-defined]
        """azure-core's ``AccessTokenInfo`` whose repr never shows the token."""

        def __repr__(self) -> str:
            return (f"AccessTokenInfo(token=<redacted>, expires_on={self.expires_on}, "
                    f"token_type={self.token_type!r}, refresh_on={self.refresh_on})")

    return AccessToken, AccessTokenInfo


def access_token(token: str, expires_on: int) -> Any:
    """azure-core's ``AccessToken`` if installed, else entra_auth's look-alike."""
    classes = _token_classes()
    if classes is None:
        return AccessToken(token, expires_on)
    return classes[0](token, expires_on)


def access_token_info(token: str, expires_on: int, *, token_type: str = "Bearer",
                      refresh_on: int | None = None) -> Any:
    """azure-core's ``AccessTokenInfo`` if installed, else entra_auth's look-alike."""
    classes = _token_classes()
    if classes is None:
        return AccessTokenInfo(token, expires_on, token_type=token_type, refresh_on=refresh_on)
    return classes[1](token, expires_on, token_type=token_type, refresh_on=refresh_on)


@functools.lru_cache(maxsize=1)
def _client_auth_error() -> type[BaseException] | None:
    try:
        exceptions = importlib.import_module("azure.core.exceptions")
    except ImportError:
        return None
    failed: type[BaseException] = exceptions.ClientAuthenticationError
    return failed


def _unavailable_error(failed: type[BaseException]) -> type[BaseException]:
    # ChainedTokenCredential moves on only for azure-identity's own class; whoever uses it has
    # imported azure.identity already, and nobody else needs us to import it (it pulls in msal).
    identity = sys.modules.get("azure.identity")
    found = getattr(identity, "CredentialUnavailableError", None)
    return found if isinstance(found, type) and issubclass(found, failed) else failed


_COMBINED: dict[tuple[type[Any], type[Any]], type[EntraAuthError]] = {}


def _combined(cls: type[EntraAuthError], base: type[BaseException]) -> type[EntraAuthError]:
    found = _COMBINED.get((cls, base))
    if found is None:
        # Same name and module, so tracebacks and logs read as our own class.
        found = type(cls.__name__, (cls, base), {"__module__": cls.__module__,
                                                "__qualname__": cls.__qualname__})
        _COMBINED[(cls, base)] = found
    return found


def azure_error(exc: EntraAuthError) -> EntraAuthError:
    """``exc`` as an instance of its own class and azure-core's ``ClientAuthenticationError``.

    An unavailable credential (:class:`~entra_auth.errors.CredentialUnavailableError`) becomes
    azure-identity's ``CredentialUnavailableError`` when that is installed. Without azure-core,
    ``exc`` itself.
    """
    failed = _client_auth_error()
    if failed is None or isinstance(exc, failed):
        return exc
    from ..errors import CredentialUnavailableError

    base = _unavailable_error(failed) if isinstance(exc, CredentialUnavailableError) else failed
    cls = _combined(type(exc), base)
    converted = cls.__new__(cls)
    converted.__dict__.update(exc.__dict__)
    converted.args = exc.args
    message = str(exc)
    # What AzureError.__init__/HttpResponseError.__init__ would have set; `error` stays ours
    # (the OAuth error code), as azure-identity's readers only use `message` and str().
    converted.__dict__.update({
        "message": message, "exc_msg": message, "exc_type": None, "exc_value": None,
        "exc_traceback": None, "inner_exception": None, "continuation_token": None,
        "reason": None, "status_code": None, "response": None, "model": None,
    })
    converted.__cause__ = exc.__cause__
    converted.__suppress_context__ = True
    return converted
