"""Per-endpoint fault injection: delays, error statuses with Retry-After, broken bodies, drops.

Rules are matched in the order added; each fires ``times`` times (or forever with ``None``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

__all__ = ["ENDPOINTS", "FAULT_KINDS", "Fault", "FaultKind", "Faults"]

FaultKind = Literal[
    "delay", "status", "malformed_json", "html", "empty", "truncated", "drop", "reset",
    "wrong_content_type",
]
FAULT_KINDS: tuple[str, ...] = (
    "delay", "status", "malformed_json", "html", "empty", "truncated", "drop", "reset",
    "wrong_content_type",
)
ENDPOINTS: tuple[str, ...] = (
    "openid_configuration", "instance_discovery", "keys", "authorize", "token", "devicecode",
    "userrealm", "devicelogin", "graph", "echo", "imds", "app_service", "end_session",
    "userinfo", "graph_users", "graph_throttled",
)


@dataclass
class Fault:
    """One injected fault rule.

    Attributes:
        endpoint: An endpoint name from ``ENDPOINTS``, or ``"*"`` for all.
        kind: What happens (see ``FAULT_KINDS``).
        times: How many requests it affects; None means every one.
        status: HTTP status for ``status`` (e.g. 429, 500, 503) and ``html``.
        retry_after: ``Retry-After`` seconds sent with ``status``.
        seconds: Delay before answering normally, for ``delay``.
        fired: How many requests it has affected so far.
    """

    endpoint: str
    kind: str
    times: int | None = 1
    status: int = 503
    retry_after: int | None = None
    seconds: float = 0.0
    fired: int = 0

    @property
    def exhausted(self) -> bool:
        """Whether the rule has fired as many times as asked."""
        return self.times is not None and self.fired >= self.times


class Faults:
    """The active fault rules (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        """Activate a rule.

        Raises:
            ValueError: Unknown endpoint or kind, or a nonsensical count/status.
        """
        if fault.endpoint != "*" and fault.endpoint not in ENDPOINTS:
            raise ValueError(
                f"unknown endpoint {fault.endpoint!r}; expected '*' or one of {ENDPOINTS}"
            )
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; expected one of {FAULT_KINDS}")
        if fault.times is not None and fault.times < 1:
            raise ValueError("times must be a positive count, or None for always")
        if not 100 <= fault.status <= 599:
            raise ValueError("status must be an HTTP status code")
        if fault.seconds < 0 or (fault.retry_after is not None and fault.retry_after < 0):
            raise ValueError("delays must not be negative")
        with self._lock:
            self._rules.append(fault)
        return fault

    def take(self, endpoint: str) -> Fault | None:
        """The first live rule for this endpoint, counted as fired; None if none applies."""
        with self._lock:
            for rule in self._rules:
                if rule.endpoint in ("*", endpoint) and not rule.exhausted:
                    rule.fired += 1
                    return rule
        return None

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[Fault]:
        """A snapshot of the rules."""
        with self._lock:
            return list(self._rules)
