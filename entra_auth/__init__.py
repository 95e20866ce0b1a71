"""entra_auth: call APIs protected by Microsoft Entra ID.

An MSAL-Python-compatible client (``import entra_auth as msal`` works), auth adapters for
requests and httpx, and a local Entra ID emulator in :mod:`entra_auth.testing`.

Names are imported lazily, so ``import entra_auth`` stays cheap and pulls in none of
requests, httpx, PyJWT, cryptography or wrapt until a feature needs them.

The public API is listed once, in the ``if TYPE_CHECKING or _SOURCELESS:`` block below: one
``from <module> import <name> as <name>`` line per name (the ``as`` form is what marks a
re-export for type checkers). At run time that block does not run; :func:`_read_exports` reads
it from this file's source into ``_EXPORTS`` (name -> module), which ``__all__`` and the lazy
:func:`__getattr__` use. To add a public name, add its line there. Installed without source
(a frozen application, a ``.pyc``-only install), the block runs: the names are imported at
once, slower but complete.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__ as __version__


def _read_exports() -> dict[str, str] | None:
    """Public name -> its module (relative), from this file's listing block below.

    The block (up to its first blank line) is a run of ``from <module> import <name> as
    <name>`` statements, one name or several in parentheses per statement, as ruff formats
    them. Plain string work: ``ast`` (or ``tokenize``, which ``get_source`` imports) would
    double the time ``import entra_auth`` takes. ``None`` when the package has no source
    (a frozen application, a ``.pyc``-only install): the block then runs as plain imports.
    """
    try:
        if not __file__.endswith(".py"):  # a .pyc-only install
            raise OSError(__file__)
        with open(__file__, encoding="utf-8") as file:
            source: str | None = file.read()
    except OSError:  # a zip archive's importer has the source; a frozen one has none
        get_source = getattr(globals().get("__loader__"), "get_source", None)
        try:
            source = get_source(__name__) if callable(get_source) else None
        except ImportError:
            source = None
    if not source or _MARKER not in source:
        return None
    block = source.split(_MARKER, 1)[1].split("\n\n", 1)[0]
    words = block.replace("(", " ").replace(")", " ").replace(",", " ").split()
    exports: dict[str, str] = {}
    module = ""
    at = 0
    while at < len(words):
        if words[at] == "from" and words[at + 2] == "import":
            module, at = words[at + 1], at + 3
        elif words[at + 1] == "as" and words[at] == words[at + 2] and module:
            exports[words[at]] = module
            at += 3
        else:
            raise ImportError(f"{__file__}: the listing block is not a list of "
                              f"'from <module> import <name> as <name>' (at {words[at]!r})")
    return exports or None


_MARKER = "\nif TYPE_CHECKING or _SOURCELESS:\n"
_READ = _read_exports()
_SOURCELESS = _READ is None
_BEFORE = set(globals())

if TYPE_CHECKING or _SOURCELESS:
    from ._app_core import log_as_msal as log_as_msal
    from .adapters import EntraAuth as EntraAuth
    from .adapters import UnsafeDestinationError as UnsafeDestinationError
    from .application import ClientApplication as ClientApplication
    from .application import ConfidentialClientApplication as ConfidentialClientApplication
    from .application import Prompt as Prompt
    from .application import PublicClientApplication as PublicClientApplication
    from .azure.credential import EntraTokenCredential as EntraTokenCredential
    from .azure.default_credential import ChainedCredential as ChainedCredential
    from .azure.default_credential import DefaultAzureCredential as DefaultAzureCredential
    from .azure.default_credential import DefaultCredentialError as DefaultCredentialError
    from .azure.developer_credentials import AzureCliCredential as AzureCliCredential
    from .azure.developer_credentials import (
        AzureDeveloperCliCredential as AzureDeveloperCliCredential,
    )
    from .azure.developer_credentials import EntraAuthCliCredential as EntraAuthCliCredential
    from .azure.service_credentials import EnvironmentCredential as EnvironmentCredential
    from .azure.service_credentials import ManagedIdentityCredential as ManagedIdentityCredential
    from .azure.service_credentials import WorkloadIdentityCredential as WorkloadIdentityCredential
    from .azure.token_provider import get_bearer_token_provider as get_bearer_token_provider
    from .cache import SerializableTokenCache as SerializableTokenCache
    from .cache import TokenCache as TokenCache
    from .cache.encryption import CacheEncryption as CacheEncryption
    from .cache.file_cache import FileTokenCache as FileTokenCache
    from .cache.redis_cache import RedisTokenCache as RedisTokenCache
    from .cache.redis_cache_async import AsyncRedisTokenCache as AsyncRedisTokenCache
    from .cache.redis_settings import redis_client_options as redis_client_options
    from .cache.sqlite_cache import SqliteTokenCache as SqliteTokenCache
    from .credentials.assertion import AutoRefresher as AutoRefresher
    from .environment import EnvironmentConfigError as EnvironmentConfigError
    from .environment import from_environment as from_environment
    from .errors import CacheError as CacheError
    from .errors import CredentialUnavailableError as CredentialUnavailableError
    from .errors import EntraAuthError as EntraAuthError
    from .errors import InteractionRequiredError as InteractionRequiredError
    from .errors import ProtocolError as ProtocolError
    from .errors import TokenRequestError as TokenRequestError
    from .errors import TransportFailure as TransportFailure
    from .managed_identity import AsyncManagedIdentityClient as AsyncManagedIdentityClient
    from .managed_identity import ManagedIdentity as ManagedIdentity
    from .managed_identity import ManagedIdentityClient as ManagedIdentityClient
    from .managed_identity import ManagedIdentityError as ManagedIdentityError
    from .managed_identity import ManagedIdentityUnavailableError as ManagedIdentityUnavailableError
    from .managed_identity import SystemAssignedManagedIdentity as SystemAssignedManagedIdentity
    from .managed_identity import UserAssignedManagedIdentity as UserAssignedManagedIdentity
    from .protocol.authority import AZURE_CHINA as AZURE_CHINA
    from .protocol.authority import AZURE_PUBLIC as AZURE_PUBLIC
    from .protocol.authority import AZURE_US_GOVERNMENT as AZURE_US_GOVERNMENT
    from .protocol.authority import AuthorityBuilder as AuthorityBuilder
    from .protocol.id_token import IdTokenError as IdTokenError
    from .web import TokenValidator as TokenValidator
    from .web import WebApi as WebApi


# The public names: read from the block above, or (no source) what it just imported.
_EXPORTS: dict[str, str] = _READ if _READ is not None else {
    name: "" for name in set(globals()) - _BEFORE - {"_BEFORE"}
    if not isinstance(globals()[name], type(importlib))}  # not the submodules it imported
__all__ = [*_EXPORTS, "__version__"]
del _READ, _BEFORE

def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'entra_auth' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
