"""Open the system browser at the authorization URL (RFC 8252 §4: use the user's own browser).

Uses the standard :mod:`webbrowser` module, so the ``BROWSER`` environment variable is honoured.
When no browser can be opened, the URL is printed for the user to open by hand.
:func:`open_browser_in_background` opens it from a thread: ``webbrowser.open`` waits for a
``BROWSER`` command to exit, and the loopback listener must answer that browser meanwhile.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import TextIO
from urllib.parse import urlsplit

__all__ = ["open_browser", "open_browser_in_background"]

logger = logging.getLogger(__name__)


def open_browser(url: str, *, stream: TextIO | None = None) -> bool:
    """Open ``url`` in the user's browser, or print it when none can be opened.

    Args:
        url: An ``http``/``https`` URL.
        stream: Where to print the URL when no browser opens (default: ``sys.stderr``,
            so a command's standard output stays clean).

    Returns:
        True when a browser accepted the URL.

    Raises:
        ValueError: ``url`` is not an http(s) URL, or contains control characters.
    """
    _check_url(url)
    import webbrowser  # imported late: it scans the system for browsers when first used

    try:
        opened = webbrowser.open(url)
    except Exception:  # webbrowser.Error, or an OSError from a broken BROWSER entry
        logger.warning("Opening a browser failed", exc_info=True)
        opened = False
    if not opened:
        out = stream if stream is not None else sys.stderr
        print(
            "No web browser could be opened. To sign in, open this address in a browser "
            f"on this computer:\n\n    {url}\n",
            file=out,
            flush=True,
        )
    return opened


def open_browser_in_background(url: str, *, stream: TextIO | None = None) -> threading.Thread:
    """Start opening ``url`` as :func:`open_browser` does, from a daemon thread.

    ``webbrowser.open`` runs a ``BROWSER`` command (a text-mode browser, a wrapper script)
    in the foreground and waits until it exits; the caller keeps serving its loopback
    listener meanwhile, so that browser's redirect is answered at once.

    Args:
        url: An ``http``/``https`` URL.
        stream: As for :func:`open_browser`.

    Returns:
        The started thread (it ends when the browser command returns).

    Raises:
        ValueError: ``url`` is not an http(s) URL, or contains control characters
            (checked before the thread starts).
    """
    _check_url(url)
    thread = threading.Thread(
        target=open_browser, args=(url,), kwargs={"stream": stream},
        name="entra-auth-open-browser", daemon=True,
    )
    thread.start()
    return thread


def _check_url(url: str) -> None:
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError("The authorization URL must be an http or https URL")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        # A newline could smuggle a second argument to a BROWSER command line.
        raise ValueError("The authorization URL contains control characters")
