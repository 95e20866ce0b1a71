"""Token caches in MSAL's unified schema: in memory (indexed) and serializable to MSAL's JSON.

See docs/cache.md. ``TokenCache`` and ``SerializableTokenCache`` are drop-ins for msal's;
``CacheIO``/``AsyncCacheIO`` and ``CallReads`` are the protocol a cache backend with storage
I/O implements (:mod:`entra_auth.cache.backend`, docs/cache.md "Writing a cache backend").
"""

from __future__ import annotations

from .backend import AsyncCacheIO, CacheIO, CallReads
from .schema import AuthorityType, CredentialType, compute_ext_cache_key
from .serializable_cache import SerializableTokenCache
from .token_cache import TokenCache

__all__ = [
    "AsyncCacheIO",
    "AuthorityType",
    "CacheIO",
    "CallReads",
    "CredentialType",
    "SerializableTokenCache",
    "TokenCache",
    "compute_ext_cache_key",
]
