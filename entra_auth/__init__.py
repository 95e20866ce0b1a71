"""entra_auth: call APIs protected by Microsoft Entra ID.

An MSAL-Python-compatible client (``import entra_auth as msal`` works), auth adapters for
requests and httpx, and a local Entra ID emulator in :mod:`entra_auth.testing`.

Names are imported lazily, so ``import entra_auth`` stays cheap and pulls in none of
requests, httpx, PyJWT, cryptography or wrapt until a feature needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

# public name -> module that defines it (relative to this package)
_EXPORTS: dict[str, str] = {
    "AutoRefresher": ".credentials.assertion",
    "EntraAuthError": ".errors",
    "TokenRequestError": ".errors",
    "InteractionRequiredError": ".errors",
    "ProtocolError": ".errors",
    "TransportFailure": ".errors",
    "CacheError": ".errors",
    "TokenCache": ".cache",
    "SerializableTokenCache": ".cache",
    "FileTokenCache": ".cache.file_cache",
    "RedisTokenCache": ".cache.redis_cache",
    "SqliteTokenCache": ".cache.sqlite_cache",
    "AsyncRedisTokenCache": ".cache.redis_async",
    "redis_client_options": ".cache.redis_settings",
    "CacheEncryption": ".cache.encryption",
    "ClientApplication": ".application",
    "PublicClientApplication": ".application",
    "ConfidentialClientApplication": ".application",
    "Prompt": ".application",
    "AuthorityBuilder": ".protocol.authority",
    "AZURE_PUBLIC": ".protocol.authority",
    "AZURE_CHINA": ".protocol.authority",
    "AZURE_US_GOVERNMENT": ".protocol.authority",
    "IdTokenError": ".protocol.id_token",
    "EntraAuth": ".adapters",
    "UnsafeDestinationError": ".adapters",
    "from_environment": ".environment",
    "EnvironmentConfigError": ".environment",
    "ManagedIdentity": ".managed_identity",
    "ManagedIdentityClient": ".managed_identity",
    "AsyncManagedIdentityClient": ".managed_identity",
    "ManagedIdentityError": ".managed_identity",
    "ManagedIdentityUnavailableError": ".managed_identity",
    "SystemAssignedManagedIdentity": ".managed_identity",
    "UserAssignedManagedIdentity": ".managed_identity",
    "EntraTokenCredential": ".azure.credential",
    "get_bearer_token_provider": ".azure.token_provider",
    "DefaultAzureCredential": ".azure.default_credential",
    "ChainedCredential": ".azure.default_credential",
    "DefaultCredentialError": ".azure.default_credential",
    "AzureCliCredential": ".azure.developer_credentials",
    "AzureDeveloperCliCredential": ".azure.developer_credentials",
    "EntraAuthCliCredential": ".azure.developer_credentials",
    "EnvironmentCredential": ".azure.service_credentials",
    "WorkloadIdentityCredential": ".azure.service_credentials",
    "ManagedIdentityCredential": ".azure.service_credentials",
    "CredentialUnavailableError": ".errors",
    "TokenValidator": ".web",
    "WebApi": ".web",
    "log_as_msal": "._app_core",
}

__all__ = [
    "AZURE_CHINA",
    "AZURE_PUBLIC",
    "AZURE_US_GOVERNMENT",
    "AuthorityBuilder",
    "AsyncRedisTokenCache",
    "AutoRefresher",
    "CacheEncryption",
    "CacheError",
    "ClientApplication",
    "ConfidentialClientApplication",
    "EntraAuth",
    "IdTokenError",
    "Prompt",
    "PublicClientApplication",
    "EntraAuthError",
    "InteractionRequiredError",
    "ProtocolError",
    "FileTokenCache",
    "RedisTokenCache",
    "redis_client_options",
    "SerializableTokenCache",
    "SqliteTokenCache",
    "TokenCache",
    "TokenRequestError",
    "TransportFailure",
    "UnsafeDestinationError",
    "from_environment",
    "EnvironmentConfigError",
    "ManagedIdentity",
    "ManagedIdentityClient",
    "AsyncManagedIdentityClient",
    "ManagedIdentityError",
    "ManagedIdentityUnavailableError",
    "SystemAssignedManagedIdentity",
    "UserAssignedManagedIdentity",
    "EntraTokenCredential",
    "get_bearer_token_provider",
    "DefaultAzureCredential",
    "ChainedCredential",
    "DefaultCredentialError",
    "AzureCliCredential",
    "AzureDeveloperCliCredential",
    "EntraAuthCliCredential",
    "EnvironmentCredential",
    "WorkloadIdentityCredential",
    "ManagedIdentityCredential",
    "CredentialUnavailableError",
    "TokenValidator",
    "WebApi",
    "log_as_msal",
    "__version__",
]

if TYPE_CHECKING:
    from ._app_core import log_as_msal
    from .adapters import EntraAuth, UnsafeDestinationError
    from .application import (
        ClientApplication,
        ConfidentialClientApplication,
        Prompt,
        PublicClientApplication,
    )
    from .azure.credential import EntraTokenCredential
    from .azure.default_credential import (
        ChainedCredential,
        DefaultAzureCredential,
        DefaultCredentialError,
    )
    from .azure.developer_credentials import (
        AzureCliCredential,
        AzureDeveloperCliCredential,
        EntraAuthCliCredential,
    )
    from .azure.service_credentials import (
        EnvironmentCredential,
        ManagedIdentityCredential,
        WorkloadIdentityCredential,
    )
    from .azure.token_provider import get_bearer_token_provider
    from .cache import SerializableTokenCache, TokenCache
    from .cache.encryption import CacheEncryption
    from .cache.file_cache import FileTokenCache
    from .cache.redis_async import AsyncRedisTokenCache
    from .cache.redis_cache import RedisTokenCache
    from .cache.redis_settings import redis_client_options
    from .cache.sqlite_cache import SqliteTokenCache
    from .credentials.assertion import AutoRefresher
    from .environment import EnvironmentConfigError, from_environment
    from .errors import (
        CacheError,
        CredentialUnavailableError,
        EntraAuthError,
        InteractionRequiredError,
        ProtocolError,
        TokenRequestError,
        TransportFailure,
    )
    from .managed_identity import (
        AsyncManagedIdentityClient,
        ManagedIdentity,
        ManagedIdentityClient,
        ManagedIdentityError,
        ManagedIdentityUnavailableError,
        SystemAssignedManagedIdentity,
        UserAssignedManagedIdentity,
    )
    from .protocol.authority import (
        AZURE_CHINA,
        AZURE_PUBLIC,
        AZURE_US_GOVERNMENT,
        AuthorityBuilder,
    )
    from .protocol.id_token import IdTokenError
    from .web import TokenValidator, WebApi


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'entra_auth' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
