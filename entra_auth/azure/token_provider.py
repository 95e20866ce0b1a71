"""Bearer-token callbacks for SDKs that take one (azure-identity's ``get_bearer_token_provider``).

The OpenAI SDK's ``AzureOpenAI(azure_ad_token_provider=...)``, LangChain's Azure clients and
others call a zero-argument function before each request and put its string in an
``Authorization: Bearer`` header. These providers hand out a cached token and refresh it ahead
of expiry (sync: a callable returning ``str``; async: one returning an awaitable ``str``), from
a credential (``get_token_info``/``get_token``), an application, or an ``EntraAuth``.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from ..protocol.messages import app_call
from ..transport.driver import run_async

__all__ = ["get_bearer_token_provider", "get_bearer_token_provider_async"]

# A cached token this close to expiry is not handed out (it could expire in flight).
_EXPIRY_SKEW = 30.0


def _kind(source: Any) -> str:
    if hasattr(source, "get_token") and hasattr(source, "get_token_async"):
        return "entra_auth"
    if hasattr(source, "get_token_info") or hasattr(source, "get_token"):
        return "credential"
    if hasattr(source, "acquire_token_for_client") or hasattr(
            source, "acquire_token_silent_with_error"):
        return "app"
    raise TypeError(
        "expected a credential (get_token/get_token_info), a client application or an "
        f"EntraAuth, not {type(source).__name__}")


def _scopes(scopes: tuple[str, ...]) -> list[str]:
    if not scopes or not all(isinstance(s, str) and s.strip() for s in scopes):
        raise ValueError("give at least one scope, e.g. "
                         "'https://cognitiveservices.azure.com/.default'")
    return list(scopes)


def _entra_auth(source: Any, scopes: tuple[str, ...]) -> Any:
    kind = _kind(source)
    if kind == "entra_auth":
        if scopes:
            raise ValueError("an EntraAuth has its own scopes; pass no scopes with it")
        return source
    if kind == "app":
        from ..adapters import EntraAuth

        # The provider never sends the token itself: the SDK decides where it goes, so no
        # destination is derived from the scopes (which need not name a host).
        return EntraAuth(source, _scopes(scopes), allowed_hosts=["token-provider.invalid"])
    return None


class _CredentialSlot:
    """One cached token from a credential, refreshed at ``refresh_on``; lock never held
    across the credential call (callers that arrive meanwhile wait for the same call)."""

    def __init__(self, credential: Any, scopes: list[str], clock: Callable[[], float]) -> None:
        self.credential = credential
        self.scopes = scopes
        self.clock = clock
        self.token: str | None = None
        self.expires_on = 0.0
        self.refresh_on = 0.0

    def fresh(self) -> str | None:
        """The cached token if it needs no refresh yet."""
        if self.token is not None and self.clock() < min(self.refresh_on,
                                                         self.expires_on - _EXPIRY_SKEW):
            return self.token
        return None

    def usable(self) -> str | None:
        """The cached token if it has not (nearly) expired."""
        if self.token is not None and self.clock() < self.expires_on - _EXPIRY_SKEW:
            return self.token
        return None

    def retry_later(self) -> None:
        """After a failed proactive refresh: keep the token, try again in 30 seconds."""
        self.refresh_on = self.clock() + 30.0

    def store(self, result: Any) -> str:
        token = str(result.token)
        self.token, self.expires_on = token, float(result.expires_on)
        refresh_on = getattr(result, "refresh_on", None)
        self.refresh_on = (float(refresh_on) if refresh_on is not None
                           else self.expires_on - 300.0)
        return token

    @property
    def method(self) -> str:
        """The credential's method to call: ``get_token_info`` where available."""
        return "get_token_info" if hasattr(self.credential, "get_token_info") else "get_token"

    def call(self) -> Any:
        """The credential's token for our scopes."""
        return getattr(self.credential, self.method)(*self.scopes)


def get_bearer_token_provider(
    source: Any, *scopes: str, clock: Callable[[], float] = time.time
) -> Callable[[], str]:
    """A callable returning a bearer token for ``scopes``, cached and refreshed.

    Example::

        provider = get_bearer_token_provider(
            DefaultAzureCredential(), "https://cognitiveservices.azure.com/.default")
        client = openai.AzureOpenAI(azure_endpoint=ENDPOINT, api_version="2024-06-01",
                                    azure_ad_token_provider=provider)

    Args:
        source: An Azure SDK credential (entra_auth's or azure-identity's), a client
            application (app-only tokens for a confidential one, the signed-in user's
            for a public one), or an :class:`~entra_auth.EntraAuth` (give no scopes then).
        scopes: The scopes to ask for.
        clock: Seconds since the epoch.

    Returns:
        A thread-safe zero-argument callable returning the access token string.

    Raises:
        TypeError: ``source`` is none of the above.
        ValueError: No scopes (or scopes with an ``EntraAuth``).
    """
    auth = _entra_auth(source, scopes)
    if auth is not None:
        get: Callable[[], str] = auth.get_token
        return get
    slot = _CredentialSlot(source, _scopes(scopes), clock)
    lock = threading.Lock()

    def provider() -> str:
        token = slot.fresh()
        if token is not None:
            return token
        with lock:  # one refresh at a time; the others wait and then reuse its token
            token = slot.fresh()
            if token is not None:
                return token
            try:
                return slot.store(slot.call())
            except Exception:
                token = slot.usable()
                if token is None:
                    raise
                slot.retry_later()
                return token  # a failed proactive refresh: the old token still works

    return provider


def get_bearer_token_provider_async(
    source: Any, *scopes: str, clock: Callable[[], float] = time.time
) -> Callable[[], Awaitable[str]]:
    """The asyncio twin of :func:`get_bearer_token_provider` (``entra_auth.aio`` exports it
    as ``get_bearer_token_provider``): a zero-argument coroutine function returning the token.

    ``source`` may be an async credential or application (awaited) or a sync one (called in
    a worker thread, so the event loop never blocks).
    """
    auth = _entra_auth(source, scopes)
    if auth is not None:
        get: Callable[[], Awaitable[str]] = auth.get_token_async
        return get
    slot = _CredentialSlot(source, _scopes(scopes), clock)
    locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
        weakref.WeakKeyDictionary())

    async def call() -> Any:
        # The async driver's rule: a coroutine method is awaited, a sync one runs in a thread.
        return await run_async(app_call(slot.method, *slot.scopes), app=source)

    async def provider() -> str:
        token = slot.fresh()
        if token is not None:
            return token
        lock = locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        async with lock:
            token = slot.fresh()
            if token is not None:
                return token
            try:
                return slot.store(await call())
            except Exception:
                token = slot.usable()
                if token is None:
                    raise
                slot.retry_later()
                return token

    return provider
