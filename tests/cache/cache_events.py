"""Token events shaped like the ones msal's application layer hands to TokenCache.add()."""

from __future__ import annotations

import base64
import json
from typing import Any

NOW = 1_700_000_000
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
OTHER_CLIENT_ID = "99999999-2222-3333-4444-555555555555"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
AUTHORITY_HOST = "login.microsoftonline.com"
TOKEN_ENDPOINT = f"https://{AUTHORITY_HOST}/{TENANT}/oauth2/v2.0/token"


def b64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def jwt(claims: dict[str, Any]) -> str:
    """An unsigned JWT: the cache only decodes the payload."""
    return f"{b64url({'alg': 'none', 'typ': 'JWT'})}.{b64url(claims)}.c2ln"


def client_info(uid: str, utid: str = TENANT) -> str:
    return b64url({"uid": uid, "utid": utid})


def user_event(
    uid: str = "uid-1",
    *,
    username: str | None = "alice@contoso.com",
    grant_type: str = "authorization_code",
    scope: list[str] | None = None,
    client_id: str = CLIENT_ID,
    token_endpoint: str | None = None,
    environment: str | None = AUTHORITY_HOST,
    tenant: str = TENANT,
    home_tenant: str = TENANT,
    **response_extra: Any,
) -> dict[str, Any]:
    """A user's token event; ``tenant`` is the authority's, ``home_tenant`` the account's."""
    claims: dict[str, Any] = {
        "iss": f"https://{AUTHORITY_HOST}/{tenant}/v2.0",
        "sub": f"sub-{uid}",
        "oid": f"oid-{uid}",
        "tid": tenant,
        "aud": client_id,
        "exp": NOW + 3600,
        "iat": NOW,
    }
    if username is not None:
        claims["preferred_username"] = username
    response: dict[str, Any] = {
        "token_type": "Bearer",
        "scope": " ".join(scope or ["User.Read"]),
        "expires_in": 3599,
        "ext_expires_in": 3599,
        "access_token": f"at-{uid}-secret",
        "refresh_token": f"rt-{uid}-secret",
        "id_token": jwt(claims),
        "client_info": client_info(uid, home_tenant),
    }
    response.update(response_extra)
    event: dict[str, Any] = {
        "client_id": client_id,
        "scope": scope or ["User.Read", "openid", "profile", "offline_access"],
        "token_endpoint": token_endpoint
        or f"https://{AUTHORITY_HOST}/{tenant}/oauth2/v2.0/token",
        "response": {k: v for k, v in response.items() if v is not None},
        "params": {},
        "data": {"grant_type": grant_type, "scope": "User.Read openid profile offline_access"},
        "grant_type": grant_type,
    }
    if environment is not None:
        event["environment"] = environment
    return event


def app_event(
    scope: str = "https://graph.microsoft.com/.default",
    *,
    client_id: str = CLIENT_ID,
    tenant: str = TENANT,
    **response_extra: Any,
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "token_type": "Bearer",
        "expires_in": 3599,
        "ext_expires_in": 3599,
        "access_token": f"app-at-{tenant}-secret",
    }
    response.update(response_extra)
    return {
        "client_id": client_id,
        "scope": [scope],
        "token_endpoint": f"https://{AUTHORITY_HOST}/{tenant}/oauth2/v2.0/token",
        "environment": AUTHORITY_HOST,
        "response": response,
        "params": {},
        "data": {"grant_type": "client_credentials", "scope": scope},
        "grant_type": "client_credentials",
    }
