"""``entra-auth emulator``: run the emulator as a standalone server."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the emulator's command-line options."""
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any)")
    parser.add_argument("--config", help="JSON file declaring tenants, apps and users")


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C."""
    raise NotImplementedError("the emulator is not built yet")
