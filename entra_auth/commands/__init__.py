"""Subcommands of the ``entra-auth`` command line, one module each (see docs/cli.md).

Each module has ``add_arguments(parser)`` and ``run(args) -> int`` and is registered in
:data:`entra_auth.cli._COMMANDS`.
"""
