"""Client assertions: their RFC 7523 type, and ``AutoRefresher`` (msal 1.39's public helper).

A federated credential (a workload identity token file, a Key Vault signature) is costly to
produce and valid for minutes; wrapping its factory in :class:`AutoRefresher` lets every token
request reuse one value.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["JWT_BEARER_ASSERTION_TYPE", "AutoRefresher"]

#: ``client_assertion_type`` of a JWT client assertion (RFC 7523 section 2.2)
JWT_BEARER_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

T = TypeVar("T")


class AutoRefresher(Generic[T]):
    """A callable that returns ``factory()``'s value, calling the factory again only when due.

    Pass one as ``client_credential={"client_assertion": AutoRefresher(get_assertion)}`` so a
    long-running app neither sends an expired assertion nor builds a new one per request::

        refresher = AutoRefresher(read_federated_token, expires_in=3600)
        app = ConfidentialClientApplication(client_id, {"client_assertion": refresher})

    Concurrent callers at the moment of expiry may each call the factory once; no lock is held
    across it (it usually does I/O). An exception from the factory propagates and nothing is
    memoized.
    """

    def __init__(
        self,
        factory: Callable[[], T],
        expires_in: float = 540,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Wrap ``factory``.

        Args:
            factory: A no-argument callable producing the value (e.g. a signed JWT).
            expires_in: Seconds a value is reused (msal's default, 540: nine minutes, under
                the usual ten-minute assertion lifetime).
            clock: Seconds since the epoch; a parameter so tests need not sleep.

        Raises:
            TypeError: ``factory`` is not callable.
            ValueError: ``expires_in`` is negative or not a number.
        """
        if not callable(factory):
            raise TypeError("AutoRefresher needs a callable factory")
        if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)) or (
                expires_in < 0):
            raise ValueError("expires_in must be a non-negative number of seconds")
        self._factory = factory
        self._expires_in = float(expires_in)
        self._clock = clock
        self._memo: tuple[float, T] | None = None  # (expires_at, value), replaced atomically

    def __call__(self) -> T:
        """The memoized value, or a new one from the factory when the old one has expired."""
        now = self._clock()
        memo = self._memo
        if memo is not None and now < memo[0]:
            return memo[1]
        value = self._factory()
        self._memo = (now + self._expires_in, value)
        return value

    def __repr__(self) -> str:
        return f"AutoRefresher(expires_in={self._expires_in:g})"  # never the value
