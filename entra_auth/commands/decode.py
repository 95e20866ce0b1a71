"""``entra-auth decode TOKEN``: show a JWT's header and claims (the signature is not checked)."""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import sys
from typing import Any

from ._common import EXIT_ERROR, EXIT_OK, CliError, guarded, print_json

__all__ = ["add_arguments", "decode_jwt", "run"]

_TIMES = ("exp", "iat", "nbf", "auth_time")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``decode``'s options."""
    parser.add_argument("token", nargs="?", default="-", metavar="TOKEN",
                        help="the JWT, or - to read it from stdin (default)")
    parser.add_argument("-v", "--verbose", action="store_true", help="more detail on errors")


def run(args: argparse.Namespace) -> int:
    """Print the decoded token."""
    return guarded(args, _decode)


def _segment(text: str, what: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        value = json.loads(raw)
    except ValueError:
        raise CliError(f"not a JWT: its {what} is not base64url-encoded JSON",
                       EXIT_ERROR) from None
    if not isinstance(value, dict):
        raise CliError(f"not a JWT: its {what} is not a JSON object", EXIT_ERROR)
    return value


def decode_jwt(token: str) -> dict[str, Any]:
    """Split and decode a JWT (no signature check).

    Raises:
        CliError: not three base64url JSON segments (the token is never quoted back).
    """
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise CliError(f"not a JWT: expected 3 dot-separated parts, got {len(parts)}",
                       EXIT_ERROR)
    header, payload = _segment(parts[0], "header"), _segment(parts[1], "payload")
    times = {}
    for name in _TIMES:
        if isinstance(payload.get(name), (int, float)):
            times[name] = datetime.datetime.fromtimestamp(
                payload[name], datetime.timezone.utc).isoformat()
    return {"header": header, "payload": payload, "times": times}


def _decode(args: argparse.Namespace) -> int:
    token = sys.stdin.read() if args.token == "-" else args.token
    print_json(decode_jwt(token))
    return EXIT_OK
