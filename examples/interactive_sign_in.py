"""Sign a user in through the system browser and print who signed in.

Against Microsoft Entra ID (register the redirect URI ``http://localhost`` under "Mobile and
desktop applications")::

    python examples/interactive_sign_in.py --client-id <app id> \\
        --authority https://login.microsoftonline.com/<tenant>

Against the local emulator, no tenant needed (sign in as alice@contoso.onmicrosoft.com with
password alice-password; your browser will warn about the emulator's throwaway certificate)::

    python examples/interactive_sign_in.py --emulator

Set ``BROWSER`` to choose the browser; without one, the sign-in URL is printed. With a real
tenant, a second run finds the account in the cache file and gets the token silently.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

import entra_auth as msal


@contextlib.contextmanager
def identity_provider(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """Yield the application's settings: the emulator's when asked for, else the arguments'."""
    if not args.emulator:
        if not args.client_id:
            sys.exit("--client-id is required (or use --emulator)")
        yield {"client_id": args.client_id, "authority": args.authority, "cache": args.cache}
        return
    from entra_auth.testing import PUBLIC_CLIENT_ID, Emulator

    with Emulator() as emu:
        yield {
            "client_id": PUBLIC_CLIENT_ID,
            "authority": emu.authority(),
            "verify": emu.ca_bundle,
            "instance_discovery": False,
            "cache": None,  # every emulator run is a new directory: nothing to keep
        }


def main() -> int:
    parser = argparse.ArgumentParser(description="Sign in through the system browser.")
    parser.add_argument("--client-id")
    parser.add_argument("--authority", default="https://login.microsoftonline.com/organizations")
    parser.add_argument("--emulator", action="store_true", help="use a local Entra emulator")
    parser.add_argument("--scope", action="append", default=None, help="repeatable")
    parser.add_argument("--login-hint")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--cache", default="interactive_sign_in.cache.json")
    args = parser.parse_args()
    scopes = args.scope or ["User.Read"]

    with identity_provider(args) as settings:
        cache_path = settings.pop("cache")
        cache = msal.SerializableTokenCache()
        if cache_path and os.path.exists(cache_path):
            with open(cache_path, encoding="utf-8") as f:
                cache.deserialize(f.read())
        app = msal.PublicClientApplication(
            settings.pop("client_id"), token_cache=cache, **settings
        )

        result = None
        accounts = app.get_accounts(username=args.login_hint)
        if accounts:
            result = app.acquire_token_silent(scopes, account=accounts[0])
        if not result:
            result = app.acquire_token_interactive(
                scopes,
                login_hint=args.login_hint,
                timeout=args.timeout,
                on_before_launching_ui=lambda ui="browser", **_: print(
                    f"Opening a {ui} window to sign in...", file=sys.stderr
                ),
            )

        if cache_path and cache.has_state_changed:
            with open(cache_path, "w", encoding="utf-8") as f:
                f.write(cache.serialize())
    if "access_token" not in result:
        print(f"Sign-in failed: {result.get('error')}: {result.get('error_description')}")
        return 1
    claims = result.get("id_token_claims", {})
    source = result.get("token_source")
    print(f"Signed in as {claims.get('preferred_username')} (token from {source})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
