"""Auth adapters for requests and httpx that wrap an Entra client application.

See docs/adapters.md. :class:`EntraAuth` is the one public entry point.
"""

from __future__ import annotations

from .auth import EntraAuth
from .policy import DestinationPolicy, UnsafeDestinationError

__all__ = ["DestinationPolicy", "EntraAuth", "UnsafeDestinationError"]
