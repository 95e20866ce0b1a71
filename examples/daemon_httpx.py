"""A daemon (cron job, service): app-only token from the environment, API call with httpx.

The credential comes from azure-identity's variables through ``entra_auth.from_environment()``:
``AZURE_CLIENT_ID``, ``AZURE_TENANT_ID`` and ``AZURE_CLIENT_SECRET`` (or
``AZURE_CLIENT_CERTIFICATE_PATH``, or ``AZURE_FEDERATED_TOKEN_FILE`` on Kubernetes), plus
``AZURE_AUTHORITY_HOST`` and ``REQUESTS_CA_BUNDLE`` for a private cloud or the emulator. No
secret in code. With none of them set it starts the local emulator in-process.

``python examples/daemon_httpx.py [URL] [--scope SCOPE] [--times N]``
"""

from __future__ import annotations

import argparse
import os
import ssl
import sys
from urllib.parse import urlsplit

import httpx

import entra_auth
from entra_auth import EntraAuth


def run(url: str, scope: str, times: int) -> int:
    app = entra_auth.from_environment()  # EnvironmentConfigError says what is missing
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE")
    verify = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
    auth = EntraAuth(app, [scope], allowed_hosts=[urlsplit(url).netloc])
    with httpx.Client(auth=auth, verify=verify, timeout=30) as client:
        for n in range(times):
            reply = client.get(url)
            print(f"call {n + 1}: HTTP {reply.status_code}", flush=True)
            if reply.status_code >= 400:
                print(reply.text[:300], file=sys.stderr)
                return 1
    print(reply.text)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default="https://graph.microsoft.com/v1.0/users")
    parser.add_argument("--scope", default="https://graph.microsoft.com/.default")
    parser.add_argument("--times", type=int, default=2, help="calls to make (one token)")
    args = parser.parse_args(argv)
    if os.environ.get("AZURE_CLIENT_ID"):
        try:
            return run(args.url, args.scope, args.times)
        except entra_auth.EnvironmentConfigError as exc:
            print(f"daemon: {exc}", file=sys.stderr)
            return 2
    from entra_auth.testing import WEB_APP_ID, WEB_APP_SECRET, Emulator

    with Emulator() as emu:
        os.environ.update({"AZURE_CLIENT_ID": WEB_APP_ID, "AZURE_TENANT_ID": emu.tenant_id,
                           "AZURE_CLIENT_SECRET": WEB_APP_SECRET,
                           "AZURE_AUTHORITY_HOST": emu.base_url,
                           "REQUESTS_CA_BUNDLE": str(emu.ca_bundle)})
        url = args.url if urlsplit(args.url).hostname == "127.0.0.1" else emu.users_url
        return run(url, args.scope, args.times)


if __name__ == "__main__":
    sys.exit(main())
