"""Small helpers shared by the emulator's tests: raw protocol calls and error-shape checks."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import jwt
import requests

from entra_auth.testing import PUBLIC_CLIENT_ID, Emulator, complete_authorization

REDIRECT = "http://localhost:8400"


def assert_entra_error(resp: requests.Response, status: int, error: str, code: int,
                       correlation_id: str | None = None) -> dict[str, Any]:
    """Check Entra's error shape; return the body."""
    assert resp.status_code == status, resp.text
    body: dict[str, Any] = resp.json()
    assert body["error"] == error, body
    assert body["error_description"].startswith(f"AADSTS{code}: "), body["error_description"]
    assert body["error_codes"] == [code]
    assert body["timestamp"] and uuid.UUID(body["trace_id"])
    uuid.UUID(body["correlation_id"])
    if correlation_id is not None:
        assert body["correlation_id"] == correlation_id
        assert resp.headers["client-request-id"] == correlation_id
    return body


def token(http: requests.Session, emu: Emulator, form: dict[str, str],
          tenant: str | None = None, **kwargs: Any) -> requests.Response:
    """POST the token endpoint."""
    return http.post(emu.token_endpoint(tenant), data=form, timeout=10, **kwargs)


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(emu: Emulator, **params: str) -> str:
    """An authorize URL for the public client with sensible defaults."""
    query = {"client_id": PUBLIC_CLIENT_ID, "response_type": "code", "redirect_uri": REDIRECT,
             "scope": "openid profile offline_access User.Read", "state": "st4te"}
    query.update(params)
    return f"{emu.authority()}/oauth2/v2.0/authorize?{urlencode(query)}"


def get_code(emu: Emulator, username: str, password: str, challenge: str | None = None,
             **params: str) -> str:
    """Sign in through the pages and return an authorization code."""
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    resp = complete_authorization(authorize_url(emu, **params), username, password,
                                  verify=emu.ca_bundle or True)
    assert "code" in resp, resp
    return resp["code"]


def sign_assertion(key_pem: str, client_id: str, audience: str, *, x5t: str | None = None,
                   lifetime: int = 600, issuer: str | None = None,
                   algorithm: str = "RS256") -> str:
    """A hand-made client assertion (RFC 7523), as a pre-signed credential would be."""
    now = int(time.time())
    headers = {"x5t": x5t} if x5t else {}
    claims = {"aud": audience, "iss": issuer or client_id, "sub": client_id,
              "iat": now, "nbf": now, "exp": now + lifetime, "jti": str(uuid.uuid4())}
    return jwt.encode(claims, key_pem, algorithm=algorithm, headers=headers)


def x5t_of(sha1_hex: str) -> str:
    """The x5t header value for an uppercase hex SHA-1 thumbprint."""
    return base64.urlsafe_b64encode(bytes.fromhex(sha1_hex)).rstrip(b"=").decode()
