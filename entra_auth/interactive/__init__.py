"""Interactive sign-in through the system browser and a loopback redirect listener (RFC 8252).

``acquire_token_interactive(app, scopes, ...)`` and its asyncio twin work with any application
object that has MSAL's ``initiate_auth_code_flow`` and ``acquire_token_by_auth_code_flow``.
"""

from __future__ import annotations

from .acquire import acquire_token_interactive, acquire_token_interactive_async
from .browser import open_browser
from .listener import AsyncLoopbackListener, LoopbackListener

__all__ = [
    "AsyncLoopbackListener",
    "LoopbackListener",
    "acquire_token_interactive",
    "acquire_token_interactive_async",
    "open_browser",
]
