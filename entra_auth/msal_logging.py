"""``log_as_msal()``: one switch that sends entra_auth's log records through msal's loggers.

For drop-in users (``import entra_auth as msal``) whose logging is configured on ``msal`` and
its children: with the switch on, each entra_auth logger becomes a child of its msal
counterpart, so the level set on the msal logger decides what is emitted and the handlers on
it (and its ancestors) receive the records. Record names stay ``entra_auth.*``; nothing else
changes in the records (no token or secret is logged at any level, on either name).
"""

from __future__ import annotations

import logging
import threading

__all__ = ["MSAL_LOGGERS", "log_as_msal"]

#: entra_auth logger -> the msal logger it is attached under by :func:`log_as_msal`
MSAL_LOGGERS: dict[str, str] = {
    "entra_auth": "msal",
    "entra_auth.application": "msal.application",
    "entra_auth.cache": "msal.token_cache",
    "entra_auth.managed_identity": "msal.managed_identity",
    "entra_auth.region": "msal.region",
    "entra_auth.interactive": "msal.oauth2cli.authcode",
    "entra_auth.adapters": "msal",
}

_lock = threading.Lock()
_saved_parents: dict[str, logging.Logger | None] = {}


def log_as_msal(enabled: bool = True) -> None:
    """Route entra_auth's log records through msal's loggers (or stop doing so).

    Each logger in :data:`MSAL_LOGGERS` gets its msal counterpart as parent: an entra_auth
    logger with no level of its own then uses the msal logger's level, and its records reach
    the msal logger's handlers, then its ancestors' (the root's), each once. A level or
    handler set on an entra_auth logger itself still applies. Calling it twice is harmless.

    Args:
        enabled: False restores the loggers' own hierarchy (``entra_auth`` under the root).
    """
    with _lock:
        if enabled:
            for ours, theirs in MSAL_LOGGERS.items():
                logger = logging.getLogger(ours)
                if ours not in _saved_parents:
                    _saved_parents[ours] = logger.parent
                logger.parent = logging.getLogger(theirs)
        else:
            for ours, parent in _saved_parents.items():
                logging.getLogger(ours).parent = parent
            _saved_parents.clear()
        _clear_level_caches()


def _clear_level_caches() -> None:
    # Loggers memoize isEnabledFor(); a new parent changes the answer.
    logging.root.manager._clear_cache()  # type: ignore[attr-defined]
