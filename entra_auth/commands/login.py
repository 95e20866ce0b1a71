"""``entra-auth login``: sign in with a device code (default) or the browser (``--browser``).

While waiting for a device-code sign-in it shows the code and a live countdown on a terminal;
Ctrl-C cancels the sign-in cleanly (exit 130).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, TextIO

from ._cache import check_cache
from ._common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    CliError,
    add_common_arguments,
    add_scope_arguments,
    build_app,
    cache_path,
    call,
    fail_from_result,
    guarded,
)
from ._tokens import resolve_scopes

if TYPE_CHECKING:
    from ..protocol.client_app import SyncPublicApp

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``login``'s options."""
    add_scope_arguments(parser, "default: https://graph.microsoft.com/.default")
    parser.add_argument("--browser", action="store_true",
                        help="sign in with the system browser instead of a device code")
    parser.add_argument("--login-hint", metavar="USERNAME",
                        help="pre-fill the account to sign in with (browser)")
    add_common_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Sign in and store the account in the cache."""
    return guarded(args, _login)


def _login(args: argparse.Namespace) -> int:
    app = build_app(args)
    scopes = resolve_scopes(args)
    check_cache(app, cache_path(args))  # a cache that can't hold the sign-in fails first
    if args.browser:
        result = call(app, "acquire_token_interactive", scopes, login_hint=args.login_hint,
                      timeout=600)
    else:
        result = _device_code(app, scopes)
    if "access_token" not in result:
        fail_from_result(result, "sign-in failed")
    claims = result.get("id_token_claims") or {}
    who = claims.get("preferred_username") or claims.get("upn") or "the account"
    print(f"Signed in as {who}.")
    return EXIT_OK


def _format(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def _device_code(app: SyncPublicApp, scopes: list[str]) -> dict[str, Any]:
    flow = call(app, "initiate_device_flow", scopes)
    if "user_code" not in flow:
        fail_from_result(flow, "could not start the device code sign-in")
    out: TextIO = sys.stderr
    print(flow.get("message") or (f"Open {flow['verification_uri']} and enter the code "
                                  f"{flow['user_code']}."), file=out, flush=True)
    outcome: dict[str, Any] = {}

    def wait() -> None:
        try:
            outcome["result"] = call(app, "acquire_token_by_device_flow", flow)
        except Exception as exc:  # reported by the main thread
            outcome["error"] = exc

    worker = threading.Thread(target=wait, name="entra-auth-device-flow", daemon=True)
    worker.start()
    live = out.isatty()
    try:
        while worker.is_alive():
            if live:
                left = float(flow.get("expires_at", 0)) - time.time()
                out.write(f"\rWaiting for sign-in, code {flow['user_code']}: "
                          f"{_format(left)} left (Ctrl-C to cancel) ")
                out.flush()
            worker.join(timeout=1.0)
    except KeyboardInterrupt:
        flow["expires_at"] = 0  # tells the polling loop to stop
        if live:
            out.write("\n")
        raise CliError("sign-in cancelled", EXIT_INTERRUPTED) from None
    if live:
        out.write("\r" + " " * 72 + "\r")
        out.flush()
    if "error" in outcome:
        raise outcome["error"]
    result: dict[str, Any] = outcome["result"]
    return result
