"""Tokens already validated, remembered so a client re-sending its token costs a lookup.

An entry answers only for the exact token string that passed every check, only while a fresh
validation would pass the time checks (``exp``/``nbf`` with the validator's leeway), and only
while the authority still publishes the key that signed it. The size is bounded; the oldest
entries leave first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["ValidatedTokenCache"]


class _Validated(Protocol):
    """What the cache reads of a validated token (``validation.ValidatedToken``)."""

    @property
    def token(self) -> str: ...

    @property
    def claims(self) -> Mapping[str, Any]: ...


ValidatedToken = TypeVar("ValidatedToken", bound=_Validated)


class _Entry(Generic[ValidatedToken]):
    __slots__ = ("exp", "jwk", "kid", "nbf", "validated")

    def __init__(self, validated: ValidatedToken, kid: str, jwk: Mapping[str, Any],
                 exp: float, nbf: float | None) -> None:
        self.validated = validated
        self.kid = kid
        self.jwk = jwk
        self.exp = exp
        self.nbf = nbf


class ValidatedTokenCache(Generic[ValidatedToken]):
    """Validated tokens by their exact text, at most ``size`` of them (0 turns it off).

    Reads take no lock; writes do. Thread-safe.
    """

    def __init__(self, size: int = 2048) -> None:
        if size < 0:
            raise ValueError("size must be >= 0")
        self.size = size
        self._entries: dict[str, _Entry[ValidatedToken]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(
        self,
        token: str,
        now: float,
        leeway: float,
        current_key: Callable[[str, float], Mapping[str, Any] | None],
    ) -> ValidatedToken | None:
        """The validated token, if it was validated and would still pass now.

        Args:
            token: The bearer token.
            now: The current time.
            leeway: The validator's clock-skew allowance.
            current_key: The authority's current JWK for a kid (None once it is gone).
        """
        entry = self._entries.get(token)
        if entry is None:
            return None
        if now >= entry.exp + leeway or (entry.nbf is not None and now + leeway < entry.nbf):
            self._drop(token)
            return None
        jwk = current_key(entry.kid, now)
        if jwk is None or (jwk is not entry.jwk and jwk != entry.jwk):
            self._drop(token)  # the key was rotated out (or the key set is stale): re-check
            return None
        return entry.validated

    def put(self, validated: ValidatedToken, kid: str, jwk: Mapping[str, Any]) -> None:
        """Remember a token that just passed validation."""
        if self.size == 0:
            return
        exp, nbf = validated.claims.get("exp"), validated.claims.get("nbf")
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            return
        nbf_value = float(nbf) if isinstance(nbf, (int, float)) and not isinstance(nbf, bool) \
            else None
        entry = _Entry(validated, kid, jwk, float(exp), nbf_value)
        with self._lock:
            while len(self._entries) >= self.size:
                del self._entries[next(iter(self._entries))]
            self._entries[validated.token] = entry

    def clear(self) -> None:
        """Forget every token."""
        with self._lock:
            self._entries.clear()

    def _drop(self, token: str) -> None:
        with self._lock:
            self._entries.pop(token, None)
