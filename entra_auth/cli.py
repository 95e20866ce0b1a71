"""The ``entra-auth`` command line. Subcommands are registered in ``_COMMANDS``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

# subcommand -> (module implementing add_arguments(parser) and run(args) -> int, help)
_COMMANDS: dict[str, tuple[str, str]] = {
    "login": ("entra_auth.commands.login", "sign in (device code, or --browser)"),
    "accounts": ("entra_auth.commands.accounts", "list the signed-in accounts"),
    "logout": ("entra_auth.commands.logout", "sign out and forget the account's tokens"),
    "token": ("entra_auth.commands.token", "print an access token (JSON, or --raw)"),
    "get": ("entra_auth.commands.rest", "GET a URL with a bearer token"),
    "post": ("entra_auth.commands.rest", "POST to a URL with a bearer token"),
    "put": ("entra_auth.commands.rest", "PUT to a URL with a bearer token"),
    "patch": ("entra_auth.commands.rest", "PATCH a URL with a bearer token"),
    "delete": ("entra_auth.commands.rest", "DELETE a URL with a bearer token"),
    "decode": ("entra_auth.commands.decode", "show a JWT's header and claims"),
    "emulator": (
        "entra_auth.testing.standalone",
        "run the local Entra ID emulator until Ctrl-C",
    ),
}


class _Parser(argparse.ArgumentParser):
    """Reports bad arguments as one line (exit 2) instead of usage plus an error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    from ._version import __version__

    parser = _Parser(
        prog="entra-auth", description="Microsoft Entra ID tokens from the command line."
    )
    parser.add_argument("--version", action="version", version=f"entra-auth {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in _COMMANDS.items():
        module = importlib.import_module(module_name)
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(sub_parser)
        sub_parser.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    module = getattr(args, "_module", None)
    if module is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        code: int = module.run(args)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
