"""The end-to-end demo: a Graph-style script against the built-in Entra ID emulator.

The whole story, with no Azure tenant: a public client signs Alice in with the device code flow
(the emulator's test user approves on the device-login page), calls the Graph-shaped ``/v1.0/me``
through ``requests`` and through ``httpx.AsyncClient`` (an ``entra_auth.aio`` app sharing the same
cache), reuses the cached token silently, then Alice's sessions are revoked, the API answers with
a Continuous Access Evaluation claims challenge, and the adapter recovers. Finally a daemon gets
an app-only token. Run it with ``scripts/demo``.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import sys
import threading
from collections.abc import Callable

import httpx

import entra_auth
from entra_auth import EntraAuth, aio
from entra_auth.testing import (
    PUBLIC_CLIENT_ID,
    WEB_APP_ID,
    WEB_APP_SECRET,
    Emulator,
    enter_device_code,
)

USER, PASSWORD = "alice@contoso.onmicrosoft.com", "alice-password"
SCOPES = ["User.Read"]
_CODE = re.compile(r"open the page (\S+) and enter the code (\S+)")


def step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def alice_reads(emu: Emulator) -> Callable[[str], None]:
    """The device-code prompt: show the message, and let 'Alice' approve it on her phone."""

    def prompt(message: str) -> None:
        print(f"   prompt: {message}")
        match = _CODE.search(message)
        if match is None:
            raise SystemExit("demo: the device-code message has no URL and code")
        flow = {"verification_uri": match.group(1), "user_code": match.group(2)}

        def approve() -> None:
            enter_device_code(flow, USER, PASSWORD, verify=emu.ca_bundle or True)
            print(f"   (Alice entered {flow['user_code']} and signed in on her phone)")

        threading.Thread(target=approve, daemon=True).start()

    return prompt


def token_requests(emu: Emulator) -> int:
    return len(emu.requests_to("token"))


async def async_calls(emu: Emulator, cache: entra_auth.SerializableTokenCache) -> list[int]:
    app = aio.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle, token_cache=cache)
    auth = EntraAuth(app, SCOPES, allowed_hosts=["127.0.0.1"])
    tls = ssl.create_default_context(cafile=emu.ca_bundle)
    async with app, httpx.AsyncClient(auth=auth, verify=tls) as client:
        responses = await asyncio.gather(*(client.get(emu.graph_url) for _ in range(20)))
    return [r.status_code for r in responses]


def main() -> int:
    with Emulator() as emu:
        emu.settings.device_poll_interval = 1  # poll every second (Entra asks for 5)
        step(f"Entra ID emulator at {emu.base_url} (its CA: {emu.ca_bundle})")
        cache = entra_auth.SerializableTokenCache()
        app = entra_auth.PublicClientApplication(
            PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle, token_cache=cache)
        auth = EntraAuth(app, SCOPES, fallback="device", prompt=alice_reads(emu),
                         allowed_hosts=["127.0.0.1"])
        session = emu.requests_session()  # a requests.Session that trusts the emulator's CA
        session.auth = auth

        step("requests: GET /v1.0/me; no one is signed in, so the device code flow starts")
        me = session.get(emu.graph_url, timeout=30)
        me.raise_for_status()
        print(f"   200 OK: displayName={me.json()['displayName']!r}")
        print(f"   accounts in the cache: {[a['username'] for a in app.get_accounts()]}")

        step("requests: three more calls reuse the cached token silently")
        before = token_requests(emu)
        codes = [session.get(emu.graph_url, timeout=30).status_code for _ in range(3)]
        print(f"   statuses {codes}, token requests sent: {token_requests(emu) - before}")

        step("httpx.AsyncClient: 20 concurrent calls through an entra_auth.aio app, same cache")
        before = token_requests(emu)
        codes = asyncio.run(async_calls(emu, cache))
        print(f"   {codes.count(200)} x 200 OK, token requests sent: "
              f"{token_requests(emu) - before}")

        step("A CAE event (Alice moved to another network): Graph challenges her access token")
        emu.revoke_access_tokens(USER)
        before = token_requests(emu)
        me = session.get(emu.graph_url, timeout=30)
        print(f"   EntraAuth answered the claims challenge silently (refresh token + claims) "
              f"and re-sent the call: {me.status_code} {'OK' if me.ok else ''}; "
              f"token requests: {token_requests(emu) - before}")
        if not me.ok:
            return 1

        step("Alice's sessions are revoked (password reset); Graph now challenges her token")
        emu.revoke_sessions(USER)
        raw = emu.requests_session().get(
            emu.graph_url, headers={"Authorization": f"Bearer {auth.get_token()}"}, timeout=30)
        print(f"   without the adapter: {raw.status_code}, "
              f"WWW-Authenticate: {raw.headers.get('WWW-Authenticate', '')[:90]}...")
        before = token_requests(emu)
        me = session.get(emu.graph_url, timeout=30)
        print(f"   with EntraAuth: the claims challenge is answered (silent refresh is refused, "
              f"so the device flow signs Alice in again), then {me.status_code} "
              f"{'OK' if me.ok else ''}; token requests: {token_requests(emu) - before}")
        if not me.ok:
            return 1

        step("A daemon: app-only token (client credentials) through httpx.Client")
        daemon = entra_auth.ConfidentialClientApplication(
            WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
            verify=emu.ca_bundle)
        tls = ssl.create_default_context(cafile=emu.ca_bundle)
        with httpx.Client(auth=EntraAuth(daemon, ["https://graph.microsoft.com/.default"],
                                         allowed_hosts=["127.0.0.1"]), verify=tls) as client:
            echo = client.get(emu.echo_url)
        print(f"   {echo.status_code}: the resource saw roles="
              f"{echo.json().get('claims', {}).get('roles')}")

        step("Done: every token came from the local emulator, over HTTPS on 127.0.0.1")
        return 0 if echo.status_code == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
