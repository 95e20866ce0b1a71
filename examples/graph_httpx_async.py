"""Call Microsoft Graph concurrently with httpx.AsyncClient, EntraAuth and entra_auth.aio.

Runs against the local emulator: signs in with the device code once, then sends 50
concurrent requests that share one token. ``python examples/graph_httpx_async.py``
"""

from __future__ import annotations

import asyncio
import sys

import httpx

from entra_auth import EntraAuth, aio
from entra_auth.testing.config import PUBLIC_CLIENT_ID
from entra_auth.testing.emulator import Emulator
from entra_auth.testing.user_agent import enter_device_code


async def main(emu: Emulator) -> None:
    def prompt(message: str) -> None:
        # Stand-in for the user: type the code on the emulator's device-login page.
        print(message, file=sys.stderr)
        code = message.split("enter the code ")[1].split()[0]
        enter_device_code({"user_code": code, "verification_uri": emu.device_login_url},
                          "alice@contoso.onmicrosoft.com", "alice-password",
                          verify=emu.ca_bundle or True)

    async with aio.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle,
        instance_discovery=False,
    ) as app:
        auth = EntraAuth(app, ["User.Read"], fallback="device", prompt=prompt,
                         allowed_hosts=["127.0.0.1"])
        async with httpx.AsyncClient(auth=auth, verify=emu.ca_bundle or True) as client:
            replies = await asyncio.gather(*(client.get(emu.graph_url) for _ in range(50)))
    names = {r.json()["displayName"] for r in replies}
    tokens = len(emu.requests_to("token"))
    print(f"{len(replies)} replies for {names}; {tokens} token request(s) in all")


if __name__ == "__main__":
    with Emulator() as emulator:
        asyncio.run(main(emulator))
