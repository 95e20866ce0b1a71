"""What every flow needs: the client's configuration, its cache, a clock and a random source.

Nothing here does I/O. The application builds one :class:`ClientContext` and hands it to the
flows; tests build one with a fixed clock and seeded randomness.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["CacheLike", "ClientAuth", "ClientContext", "FlowError", "SharedState"]


class ClientAuth(Protocol):
    """Client authentication for a confidential client (secret, certificate, assertion)."""

    def form_fields(self, token_endpoint: str, now: float, jti: str) -> dict[str, str]:
        """The form fields that authenticate this client to ``token_endpoint``."""
        ...


class CacheLike(Protocol):
    """The subset of :class:`entra_auth.cache.TokenCache` the flows use."""

    def add(self, event: dict[str, Any], now: Any = None) -> None: ...

    def find_access_token(
        self,
        *,
        client_id: str,
        environments: Sequence[str],
        realm: str,
        scopes: Sequence[str],
        home_account_id: str | None,
        key_id: str | None = None,
        user_assertion_hash: str | None = None,
    ) -> dict[str, Any] | None: ...

    def find_refresh_tokens(
        self,
        *,
        home_account_id: str | None,
        environments: Sequence[str],
        client_id: str | None = None,
        family_id: str | None = None,
        user_assertion_hash: str | None = None,
    ) -> list[dict[str, Any]]: ...

    def get_app_metadata(
        self, *, client_id: str, environments: Sequence[str]
    ) -> dict[str, Any] | None: ...

    def find_accounts(
        self, *, environments: Sequence[str] | None = None, username: str | None = None
    ) -> list[dict[str, Any]]: ...

    def remove_rt(self, rt_item: dict[str, Any]) -> None: ...

    def remove_at(self, at_item: dict[str, Any]) -> None: ...

    def update_rt(self, rt_item: dict[str, Any], new_rt: str) -> None: ...

    def forget_account(
        self, *, home_account_id: str, environments: Sequence[str], client_id: str
    ) -> int: ...

    def remove_app_tokens(
        self, *, client_id: str, environments: Sequence[str] | None = None
    ) -> int: ...


class FlowError(Exception):
    """Raised inside a flow to end it with an MSAL-style error dict (caught at the top)."""

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__(str(result.get("error")))
        self.result = result


@dataclass
class SharedState:
    """Per-application memo of discovered metadata (read-mostly; guarded by a small lock).

    The lock is only held to read or store a value, never across I/O.
    """

    metadata: dict[str, Any] = field(default_factory=dict)
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    region: dict[str, str | None] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class ClientContext:
    """Configuration shared by every flow of one application instance."""

    client_id: str
    cache: CacheLike
    clock: Callable[[], float]
    random_bytes: Callable[[int], bytes]
    client_auth: ClientAuth | None = None
    telemetry_headers: Mapping[str, str] = field(default_factory=dict)
    client_capabilities: Sequence[str] = ()
    exclude_scopes: frozenset[str] = frozenset()
    http_cache: MutableMapping[str, Any] = field(default_factory=dict)
    instance_discovery: bool = True
    validate_authority: bool = True
    azure_region: str | bool | None = None
    environ: Mapping[str, str] = field(default_factory=dict)
    shared: SharedState = field(default_factory=SharedState)
    # In-process durations (throttling, device-code deadlines) run on this clock (the
    # applications pass time.monotonic); without one they fall back to ``clock``.
    monotonic: Callable[[], float] | None = None

    def monotonic_now(self) -> float:
        """Seconds on the monotonic clock (``clock`` when none was given)."""
        return self.monotonic() if self.monotonic is not None else self.clock()
