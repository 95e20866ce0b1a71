"""Waits measured on the monotonic clock, so wall-clock steps never stretch or cut them.

State that outlives one call (a throttled reply in ``http_cache``, a device flow's deadline)
keeps MSAL's wall-clock ``expires_at``, meaningful to other processes, plus a monotonic
deadline tagged with this process's id. In this process the monotonic deadline decides; for
state written elsewhere the wall clock decides, and state stamped in the future (its writer's
clock was ahead, or ours stepped back) is treated as expired.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["PROCESS_ID", "mark", "mark_expired"]

# Identifies this process's monotonic clock. A forked child shares it, which is right: on
# Linux, macOS and Windows the monotonic clock is system-wide. A restart gets a new id.
PROCESS_ID = os.urandom(8).hex()


def mark(monotonic_now: float, seconds: float) -> list[Any]:
    """A JSON- and pickle-friendly monotonic deadline ``seconds`` from ``monotonic_now``."""
    return [PROCESS_ID, monotonic_now + seconds]


def mark_expired(value: object, monotonic_now: float) -> bool | None:
    """Whether a :func:`mark` has passed; None when it is not this process's (or malformed)."""
    if not (isinstance(value, (list, tuple)) and len(value) == 2 and value[0] == PROCESS_ID):
        return None
    deadline = value[1]
    if isinstance(deadline, bool) or not isinstance(deadline, (int, float)):
        return None
    return bool(deadline <= monotonic_now)
