"""``entra-auth token``: print an access token as JSON (or just the token with ``--raw``)."""

from __future__ import annotations

import argparse
import time

from ._common import (
    EXIT_OK,
    add_account_argument,
    add_common_arguments,
    add_scope_arguments,
    guarded,
    print_json,
)
from ._tokens import acquire, add_identity_arguments, resolve_scopes

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``token``'s options."""
    add_scope_arguments(parser, "default: https://graph.microsoft.com/.default")
    parser.add_argument("--raw", action="store_true",
                        help="print only the access token (for $(...) in scripts)")
    add_account_argument(parser)
    add_identity_arguments(parser)
    add_common_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Print the token."""
    return guarded(args, _token)


def _token(args: argparse.Namespace) -> int:
    scopes = resolve_scopes(args)
    result = acquire(args, scopes)
    if args.raw:
        print(result["access_token"])
        return EXIT_OK
    expires_in = int(result.get("expires_in") or 0)
    account = result.get("_account") or {}
    print_json({
        "access_token": result["access_token"],
        "token_type": result.get("token_type", "Bearer"),
        "expires_in": expires_in,
        "expires_on": int(time.time()) + expires_in,
        "scopes": scopes,
        "account": account.get("username"),
        "token_source": result.get("token_source"),
    })
    return EXIT_OK
