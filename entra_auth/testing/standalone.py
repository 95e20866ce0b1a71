"""``entra-auth emulator``: run the emulator as a standalone server until Ctrl-C.

Prints one JSON line (authorities, CA bundle path, tenants, apps, users) so that other
programs, in any language, can find and use it.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the emulator's command-line options."""
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any)")
    parser.add_argument("--config", help="JSON file declaring tenants, apps and users")
    parser.add_argument("--http", action="store_true",
                        help="serve plain HTTP instead of HTTPS")
    parser.add_argument("--auto-approve", action="store_true",
                        help="skip the sign-in page (sign in the login_hint or first user)")


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C (SIGINT) or SIGTERM; returns the exit code."""
    from .config import ConfigError, default_config, load_config
    from .emulator import Emulator

    try:
        config = load_config(args.config) if args.config else default_config()
    except ConfigError as exc:
        print(f"entra-auth emulator: {exc}", file=sys.stderr)
        return 2
    if args.auto_approve:
        config.settings.auto_approve = True
    if not 0 <= args.port <= 65535:
        print("entra-auth emulator: --port must be 0..65535", file=sys.stderr)
        return 2
    emulator = Emulator(config, port=args.port, https=not args.http)
    try:
        emulator.start()
    except OSError as exc:
        print(f"entra-auth emulator: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}",
              file=sys.stderr)
        return 1
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _on_signal)
    try:
        print(json.dumps(emulator.describe()), flush=True)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        emulator.stop()
    return 0
