"""Token caches in MSAL's unified schema: in memory (indexed) and serializable to MSAL's JSON.

See docs/cache.md. ``TokenCache`` and ``SerializableTokenCache`` are drop-ins for msal's.
"""

from __future__ import annotations

from .schema import AuthorityType, CredentialType, compute_ext_cache_key
from .serializable_cache import SerializableTokenCache
from .token_cache import TokenCache

__all__ = [
    "AuthorityType",
    "CredentialType",
    "SerializableTokenCache",
    "TokenCache",
    "compute_ext_cache_key",
]
