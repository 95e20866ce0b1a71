"""entra_auth's asyncio API: MSAL's applications as coroutines, and the async Azure credentials.

``entra_auth.aio.PublicClientApplication`` and ``ConfidentialClientApplication`` take the sync
classes' arguments and return the same dicts, awaited (:mod:`entra_auth.aio.application`);
``EntraTokenCredential``, ``DefaultAzureCredential`` and ``get_bearer_token_provider`` are
azure-identity's ``azure.identity.aio`` shapes (:mod:`entra_auth.azure`).
"""

from __future__ import annotations

from ..azure.credential_async import EntraTokenCredential
from ..azure.default_credential_async import DefaultAzureCredential
from ..azure.token_provider import get_bearer_token_provider_async as get_bearer_token_provider
from .application import ClientApplication, ConfidentialClientApplication, PublicClientApplication

__all__ = [
    "ClientApplication",
    "ConfidentialClientApplication",
    "DefaultAzureCredential",
    "EntraTokenCredential",
    "PublicClientApplication",
    "get_bearer_token_provider",
]
