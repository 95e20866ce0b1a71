"""Call Microsoft Graph with requests and EntraAuth (device-code sign-in on first use).

Runs against the local emulator by default (``python examples/graph_requests.py``); pass
``--tenant <id> --client-id <id>`` to use a real Entra tenant and Graph instead.
"""

from __future__ import annotations

import argparse
import sys

import requests

import entra_auth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenant", help="a real tenant id or domain (default: the emulator)")
    parser.add_argument("--client-id", help="a public client app registered in that tenant")
    args = parser.parse_args()

    if args.tenant and args.client_id:
        app = entra_auth.PublicClientApplication(
            args.client_id, authority=f"https://login.microsoftonline.com/{args.tenant}")
        run(app, "https://graph.microsoft.com/v1.0/me", verify=True, allowed_hosts=None)
        return

    from entra_auth.testing.config import PUBLIC_CLIENT_ID
    from entra_auth.testing.emulator import Emulator
    from entra_auth.testing.user_agent import enter_device_code

    with Emulator() as emu:
        app = entra_auth.PublicClientApplication(
            PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle,
            instance_discovery=False)

        def prompt(message: str) -> None:
            # Stand-in for the user: type the code on the emulator's device-login page.
            print(message, file=sys.stderr)
            code = message.split("enter the code ")[1].split()[0]
            enter_device_code({"user_code": code, "verification_uri": emu.device_login_url},
                              "alice@contoso.onmicrosoft.com", "alice-password",
                              verify=emu.ca_bundle or True)

        run(app, emu.graph_url, verify=emu.ca_bundle, allowed_hosts=["127.0.0.1"],
            prompt=prompt)
        emu.require_auth_context("c1")  # Graph now answers with a step-up claims challenge
        run(app, emu.graph_url, verify=emu.ca_bundle, allowed_hosts=["127.0.0.1"],
            prompt=prompt)


def run(app: entra_auth.PublicClientApplication, url: str, *, verify: str | bool | None,
        allowed_hosts: list[str] | None, prompt: object = None) -> None:
    session = requests.Session()
    session.verify = verify if verify is not None else True
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override session.verify
    session.auth = entra_auth.EntraAuth(
        app, ["User.Read"], fallback="device", allowed_hosts=allowed_hosts,
        prompt=prompt if callable(prompt) else None)
    response = session.get(url, timeout=30)
    response.raise_for_status()
    retried = " (after answering a claims challenge)" if response.history else ""
    print(f"Hello, {response.json()['displayName']}{retried}")


if __name__ == "__main__":
    main()
