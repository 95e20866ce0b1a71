"""Sign a user in through the system browser and print who signed in.

    python examples/interactive_sign_in.py --client-id <app id> --authority https://login.microsoftonline.com/<tenant>

Register the app's "Mobile and desktop applications" redirect URI as ``http://localhost``.
Set ``BROWSER`` to choose the browser; without one, the sign-in URL is printed.
A second run finds the account in the token cache file and signs in silently.
"""

from __future__ import annotations

import argparse
import os
import sys

import entra_auth as msal


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--authority", default="https://login.microsoftonline.com/organizations")
    parser.add_argument("--scope", action="append", default=None, help="repeatable")
    parser.add_argument("--login-hint")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--cache", default="interactive_sign_in.cache.json")
    parser.add_argument("--verify", help="CA bundle (e.g. the emulator's)", default=None)
    args = parser.parse_args()
    scopes = args.scope or ["User.Read"]

    cache = msal.SerializableTokenCache()
    if os.path.exists(args.cache):
        with open(args.cache, encoding="utf-8") as f:
            cache.deserialize(f.read())
    options = {"verify": args.verify} if args.verify else {}
    app = msal.PublicClientApplication(
        args.client_id, authority=args.authority, token_cache=cache, **options
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

    if cache.has_state_changed:
        with open(args.cache, "w", encoding="utf-8") as f:
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
