"""Open the system browser at the authorization URL (RFC 8252 §4: use the user's own browser).

Uses the standard :mod:`webbrowser` module, so the ``BROWSER`` environment variable is honoured.
When no browser can be opened, the URL is printed for the user to open by hand.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO
from urllib.parse import urlsplit

__all__ = ["open_browser"]

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
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError("The authorization URL must be an http or https URL")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        # A newline could smuggle a second argument to a BROWSER command line.
        raise ValueError("The authorization URL contains control characters")
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
