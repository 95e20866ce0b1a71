"""A Graph script: sign in with a device code, then read /v1.0/me with requests + EntraAuth.

Tokens are kept in a cache file, so the second run signs in silently. Configuration (same names
as the ``entra-auth`` CLI)::

    ENTRA_AUTH_CLIENT_ID   public client id     (--client-id)
    ENTRA_AUTH_AUTHORITY   authority URL        (--authority)
    ENTRA_AUTH_CA_BUNDLE   CA bundle (emulator) (--ca-bundle)
    ENTRA_AUTH_GRAPH_URL   Graph base URL       (--graph-url, default https://graph.microsoft.com)

With no authority given it starts the local emulator in-process and signs in as its test user.
``python examples/graph_device_code.py [--cache-file FILE]``
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading
from typing import Any
from urllib.parse import urlsplit

import requests

import entra_auth
from entra_auth import EntraAuth

GRAPH_CLI_CLIENT_ID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"  # Microsoft Graph Command Line Tools


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client-id", default=env("ENTRA_AUTH_CLIENT_ID", GRAPH_CLI_CLIENT_ID))
    parser.add_argument("--authority", default=env("ENTRA_AUTH_AUTHORITY"))
    parser.add_argument("--ca-bundle", default=env("ENTRA_AUTH_CA_BUNDLE"))
    parser.add_argument("--graph-url", default=env("ENTRA_AUTH_GRAPH_URL",
                                                   "https://graph.microsoft.com"))
    parser.add_argument("--cache-file", default="graph_device_code_cache.json")
    return parser.parse_args(argv)


def show_and_play(emu: Any) -> Any:
    """With the in-process emulator, 'the user' approves the code from another thread."""
    from entra_auth.testing import enter_device_code

    def prompt(message: str) -> None:
        print(message, flush=True)
        code = re.search(r"enter the code (\S+)", message)
        if code:
            threading.Thread(target=enter_device_code, daemon=True, args=(
                {"user_code": code.group(1), "verification_uri": emu.device_login_url},
                "alice@contoso.onmicrosoft.com", "alice-password"),
                kwargs={"verify": emu.ca_bundle}).start()

    return prompt


def main(args: argparse.Namespace, prompt: Any = None) -> int:
    from entra_auth.cache.file_cache import FileTokenCache

    app = entra_auth.PublicClientApplication(
        args.client_id, authority=args.authority, verify=args.ca_bundle or True,
        token_cache=FileTokenCache(args.cache_file))
    graph = args.graph_url.rstrip("/")
    session = requests.Session()
    session.auth = EntraAuth(app, ["User.Read"], fallback="device",
                             prompt=prompt or (lambda m: print(m, flush=True)),
                             allowed_hosts=[urlsplit(graph).netloc])
    reply = session.get(f"{graph}/v1.0/me", verify=args.ca_bundle or True, timeout=30)
    if reply.status_code != 200:
        print(f"Graph answered HTTP {reply.status_code}: {reply.text[:200]}", file=sys.stderr)
        return 1
    me = reply.json()
    print(f"Hello, {me['displayName']} ({me['userPrincipalName']})")
    return 0


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.authority:
        sys.exit(main(arguments))
    from entra_auth.testing import PUBLIC_CLIENT_ID, Emulator

    with Emulator() as emulator:
        emulator.settings.device_poll_interval = 1
        arguments.client_id, arguments.authority = PUBLIC_CLIENT_ID, emulator.authority()
        arguments.ca_bundle, arguments.graph_url = emulator.ca_bundle, emulator.base_url
        sys.exit(main(arguments, show_and_play(emulator)))
