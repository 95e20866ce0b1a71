"""``entra-auth accounts``: list the accounts signed in (in the persistent cache) as JSON."""

from __future__ import annotations

import argparse

from ._common import EXIT_OK, add_common_arguments, build_app, call, guarded, print_json

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``accounts``' options."""
    add_common_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Print the accounts."""
    return guarded(args, _accounts)


def _accounts(args: argparse.Namespace) -> int:
    app = build_app(args)
    print_json([
        {"username": a.get("username"), "home_account_id": a.get("home_account_id"),
         "environment": a.get("environment"), "tenant_id": a.get("realm")}
        for a in call(app, "get_accounts")
    ])
    return EXIT_OK
