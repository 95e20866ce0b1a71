"""``entra-auth logout``: remove an account (or every account) and its tokens from the cache."""

from __future__ import annotations

import argparse

from ._common import (
    EXIT_NOT_SIGNED_IN,
    EXIT_OK,
    CliError,
    add_common_arguments,
    build_app,
    guarded,
)

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``logout``'s options."""
    parser.add_argument("-u", "--username", help="the account to sign out (default: all)")
    add_common_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Sign out."""
    return guarded(args, _logout)


def _logout(args: argparse.Namespace) -> int:
    app = build_app(args)
    accounts = app.get_accounts()
    if args.username:
        accounts = [a for a in accounts
                    if str(a.get("username", "")).lower() == args.username.lower()]
        if not accounts:
            raise CliError(f"{args.username} is not signed in", EXIT_NOT_SIGNED_IN)
    for account in accounts:
        app.remove_account(account)
        print(f"Signed out {account.get('username')}.")
    if not accounts:
        print("No account was signed in.")
    return EXIT_OK
