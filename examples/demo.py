"""End-to-end demo against the built-in Entra ID emulator, with plain ``requests``.

Starts the emulator, gets an app-only token (client credentials) and a user token
(authorization code + PKCE, the sign-in page played over HTTP), calls the Graph-shaped
``/v1.0/me``, then revokes the user's sessions and shows the CAE claims challenge and recovery.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import sys
from typing import Any
from urllib.parse import urlencode

from entra_auth.testing import (
    PUBLIC_CLIENT_ID,
    WEB_APP_ID,
    WEB_APP_SECRET,
    Emulator,
    complete_authorization,
)

USER, PASSWORD = "alice@contoso.onmicrosoft.com", "alice-password"
REDIRECT_URI = "http://localhost:8400"


def claims_of(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


def step(text: str) -> None:
    print(f"\n== {text}")


def sign_in(emu: Emulator, endpoints: dict[str, str], claims: str | None = None) -> str:
    """Authorization code + PKCE; returns an access token for Graph."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    params = {
        "client_id": PUBLIC_CLIENT_ID, "response_type": "code", "redirect_uri": REDIRECT_URI,
        "scope": "openid profile offline_access User.Read", "state": secrets.token_hex(8),
        "code_challenge": challenge.rstrip(b"=").decode(), "code_challenge_method": "S256",
        "login_hint": USER,
    }
    if claims:
        params["claims"] = claims
    url = f"{endpoints['authorization_endpoint']}?{urlencode(params)}"
    print("   the browser opens the sign-in page and Alice types her password...")
    response = complete_authorization(url, USER, PASSWORD, verify=emu.ca_bundle or True)
    assert response["state"] == params["state"], "state mismatch"
    print("   ...and the redirect URI receives:", ", ".join(sorted(response)))
    with emu.requests_session() as http:
        tokens = http.post(endpoints["token_endpoint"], data={
            "grant_type": "authorization_code", "client_id": PUBLIC_CLIENT_ID,
            "code": response["code"], "redirect_uri": REDIRECT_URI, "code_verifier": verifier,
            "scope": params["scope"], "client_info": "1", **({"claims": claims} if claims else {}),
        }, timeout=10).json()
    print(f"   token response: {', '.join(sorted(tokens))}")
    return str(tokens["access_token"])


def main() -> int:
    with Emulator() as emu, emu.requests_session() as http:
        step(f"Emulator running at {emu.base_url} (CA bundle {emu.ca_bundle})")
        endpoints = http.get(f"{emu.authority()}/v2.0/.well-known/openid-configuration",
                             timeout=10).json()
        print("   token endpoint:", endpoints["token_endpoint"])

        step("Client credentials: the web app asks for a Graph token with its secret")
        app_token = http.post(endpoints["token_endpoint"], data={
            "grant_type": "client_credentials", "client_id": WEB_APP_ID,
            "client_secret": WEB_APP_SECRET, "scope": "https://graph.microsoft.com/.default",
        }, timeout=10).json()
        claims = claims_of(app_token["access_token"])
        print(f"   got a {app_token['token_type']} token for aud={claims['aud']} "
              f"with roles={claims.get('roles')} (expires in {app_token['expires_in']} s)")

        step("A user flow: authorization code with PKCE for Alice")
        user_token = sign_in(emu, endpoints)

        step("Calling the Graph-shaped API: GET /v1.0/me")
        me = http.get(emu.graph_url, headers={"Authorization": f"Bearer {user_token}"},
                      timeout=10)
        print(f"   {me.status_code}: hello, {me.json()['displayName']} "
              f"<{me.json()['userPrincipalName']}>")

        step("An admin revokes Alice's sessions (Continuous Access Evaluation)")
        emu.revoke_sessions(USER)
        denied = http.get(emu.graph_url, headers={"Authorization": f"Bearer {user_token}"},
                          timeout=10)
        header = denied.headers["WWW-Authenticate"]
        challenge = base64.b64decode(header.split('claims="')[1].split('"')[0]).decode()
        print(f"   {denied.status_code}: {denied.json()['error']['message']}")
        print(f"   claims challenge: {challenge}")

        step("Alice signs in again, passing the challenge as the claims parameter")
        fresh = sign_in(emu, endpoints, claims=challenge)
        again = http.get(emu.graph_url, headers={"Authorization": f"Bearer {fresh}"},
                         timeout=10)
        print(f"   {again.status_code}: hello again, {again.json()['displayName']}")
        ok = me.status_code == 200 and denied.status_code == 401 and again.status_code == 200
        step(f"Done: the emulator answered {len(emu.requests)} requests")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
