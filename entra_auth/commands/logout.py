"""``entra-auth logout``: remove an account (or every account) and its tokens from the cache.

``--all`` also resets a cache that can't be read, after moving it aside to a timestamped backup.
"""

from __future__ import annotations

import argparse

from ..errors import CacheError
from ._cache import RESETTABLE, move_aside
from ._common import (
    EXIT_NOT_SIGNED_IN,
    EXIT_OK,
    CliError,
    add_common_arguments,
    build_app,
    cache_path,
    call,
    guarded,
)

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``logout``'s options."""
    which = parser.add_mutually_exclusive_group()
    which.add_argument("-u", "--username", help="the account to sign out (default: all)")
    which.add_argument("--all", action="store_true",
                       help="sign out every account; a cache that can't be read is moved "
                            "aside to a timestamped backup and started afresh")
    add_common_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Sign out."""
    return guarded(args, _logout)


def _logout(args: argparse.Namespace) -> int:
    app = build_app(args)
    try:
        accounts = call(app, "get_accounts")
    except CacheError as exc:
        if not args.all or exc.error not in RESETTABLE:
            raise
        path = cache_path(args)
        backup = move_aside(app.token_cache, path)
        print(f"The token cache {path} could not be read; moved it to {backup}.")
        print("No account is signed in now; run `entra-auth login` to sign in again.")
        return EXIT_OK
    if args.username:
        accounts = [a for a in accounts
                    if str(a.get("username", "")).lower() == args.username.lower()]
        if not accounts:
            raise CliError(f"{args.username} is not signed in", EXIT_NOT_SIGNED_IN)
    for account in accounts:
        call(app, "remove_account", account)
        print(f"Signed out {account.get('username')}.")
    if not accounts:
        print("No account was signed in.")
    return EXIT_OK
