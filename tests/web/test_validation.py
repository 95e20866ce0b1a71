"""TokenValidator against the emulator's discovery document and JWKS over real HTTPS."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import pytest

from entra_auth.protocol.www_authenticate import parse_challenges
from entra_auth.testing import DEFAULT_TENANT_ID, WEB_API_ID, WEB_APP_ID, WEB_APP_SECRET, Emulator
from entra_auth.web import InsufficientScopeError, InvalidTokenError, TokenValidator

from .conftest import (
    GRAPH_SCOPE,
    OTHER_TENANT,
    b64url,
    claims_of,
    emulator_signed,
    keys_fetches,
    self_signed,
    user_token,
    validator,
)


def rejected(check: TokenValidator, token: str, **kwargs: object) -> InvalidTokenError:
    with pytest.raises(InvalidTokenError) as caught:
        check.validate(token, **kwargs)  # type: ignore[arg-type]
    error = caught.value
    assert error.status_code == 401 and error.error == "invalid_token"
    assert token not in str(error) and token not in error.www_authenticate()
    return error


def test_valid_token_passes_and_keys_are_fetched_once(emu: Emulator) -> None:
    check = validator(emu)
    token = user_token(emu)
    for _ in range(3):
        validated = check.validate(token, scopes=["access_as_user"])
    assert validated.username == "alice@contoso.onmicrosoft.com"
    assert validated.tenant_id == DEFAULT_TENANT_ID
    assert "access_as_user" in validated.scopes and not validated.is_app_only
    assert keys_fetches(emu) == 1
    assert token not in repr(validated)


def test_bad_signature(emu: Emulator) -> None:
    header, payload, signature = user_token(emu).split(".")
    claims = json.loads(b64url_decode(payload))
    claims["oid"] = "00000000-0000-0000-0000-000000000bad"
    tampered = ".".join([header, b64url(json.dumps(claims).encode()), signature])
    error = rejected(validator(emu), tampered)
    assert error.error_description == "the token's signature is invalid"


def b64url_decode(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_unknown_kid_refetches_once_then_is_rate_limited(emu: Emulator) -> None:
    now = [emu.now()]
    check = validator(emu, clock=lambda: now[0])
    check.validate(user_token(emu))
    assert keys_fetches(emu) == 1
    forged = self_signed(claims_of(user_token(emu)))
    error = rejected(check, forged)
    assert "signing key" in (error.error_description or "")
    assert keys_fetches(emu) == 2  # one refetch, in case the authority rotated its keys
    for _ in range(5):
        rejected(check, self_signed(claims_of(user_token(emu)), kid="another-kid"))
    assert keys_fetches(emu) == 2  # garbage kids can't make us hammer the keys endpoint
    now[0] += 301
    rejected(check, forged)
    assert keys_fetches(emu) == 3


def test_rotated_signing_key_is_picked_up(emu: Emulator) -> None:
    check = validator(emu)
    check.validate(user_token(emu))
    new_kid = emu.rotate_signing_key()
    token = user_token(emu)
    assert json.loads(b64url_decode(token.split(".")[0]))["kid"] == new_kid
    assert check.validate(token).claims["oid"]
    assert new_kid in check.keys.known_kids


def test_wrong_issuer(emu: Emulator) -> None:
    token = emulator_signed(emu, iss=f"https://login.example.net/{DEFAULT_TENANT_ID}/v2.0")
    error = rejected(validator(emu), token)
    assert "authority" in (error.error_description or "")


def test_wrong_tenant_single_and_multi_tenant(emu: Emulator) -> None:
    other_issuer = f"{emu.base_url}/{OTHER_TENANT}/v2.0"
    other = emulator_signed(emu, iss=other_issuer, tid=OTHER_TENANT)
    rejected(validator(emu), other)  # single tenant: another tenant's issuer
    multi = validator(emu, authority=emu.authority("organizations"))
    assert multi.validate(other).tenant_id == OTHER_TENANT  # {tenantid} filled from tid
    restricted = validator(emu, authority=emu.authority("organizations"),
                           allowed_tenants=[DEFAULT_TENANT_ID])
    assert "not allowed" in (rejected(restricted, other).error_description or "")
    assert restricted.validate(user_token(emu)).tenant_id == DEFAULT_TENANT_ID
    # The issuer's tenant and tid must agree: {tenantid} is checked against tid.
    mismatched = emulator_signed(emu, iss=other_issuer)
    rejected(multi, mismatched)
    # A single-tenant API also refuses a token whose tid disagrees with its own issuer.
    rejected(validator(emu), emulator_signed(emu, tid=OTHER_TENANT))


def test_wrong_audience_and_app_id_uri_audience(emu: Emulator) -> None:
    graph_token = user_token(emu, [GRAPH_SCOPE])
    error = rejected(validator(emu), graph_token)
    assert "audience" in (error.error_description or "")
    by_uri = emulator_signed(emu, aud=f"api://{WEB_API_ID}")
    assert validator(emu).validate(by_uri).claims["aud"] == f"api://{WEB_API_ID}"
    custom = validator(emu, audiences=["https://api.contoso.example"])
    rejected(custom, user_token(emu))


def test_expired_with_leeway(emu: Emulator) -> None:
    token = user_token(emu)
    exp = claims_of(token)["exp"]
    assert validator(emu, clock=lambda: exp + 30).validate(token)  # within the 60 s leeway
    error = rejected(validator(emu, clock=lambda: exp + 61), token)
    assert error.error_description == "the token has expired"
    rejected(validator(emu, clock=lambda: exp + 1, leeway=0), token)


def test_not_yet_valid_with_leeway(emu: Emulator) -> None:
    token = user_token(emu)
    nbf = claims_of(token)["nbf"]
    assert validator(emu, clock=lambda: nbf - 30).validate(token)
    error = rejected(validator(emu, clock=lambda: nbf - 120), token)
    assert error.error_description == "the token is not valid yet"


def test_missing_scope_is_403_insufficient_scope(emu: Emulator) -> None:
    check = validator(emu)
    with pytest.raises(InsufficientScopeError) as caught:
        check.validate(user_token(emu), scopes=["Data.Write"], roles=["Data.Write.All"])
    error = caught.value
    assert error.status_code == 403
    [challenge] = parse_challenges(error.www_authenticate())
    assert challenge.scheme == "bearer"
    assert challenge.params["error"] == "insufficient_scope"
    assert challenge.params["scope"] == "Data.Write"


def test_app_roles(emu: Emulator) -> None:
    import entra_auth

    app = entra_auth.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        http_client=emu.requests_session(), instance_discovery=False)
    result = app.acquire_token_for_client([f"api://{WEB_API_ID}/.default"])
    token = result["access_token"]
    validated = validator(emu).validate(token, scopes=["access_as_user"], roles=["Data.Read.All"])
    assert validated.is_app_only and validated.roles == {"Data.Read.All"}
    with pytest.raises(InsufficientScopeError):
        validator(emu).validate(token, scopes=["access_as_user"])


def test_alg_none_is_rejected_without_a_key_fetch(emu: Emulator) -> None:
    claims = claims_of(user_token(emu))
    header = {"alg": "none", "typ": "JWT", "kid": "x"}
    unsigned = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}."
    before = len(emu.requests)
    error = rejected(validator(emu), unsigned)
    assert "algorithm" in (error.error_description or "")
    assert len(emu.requests) == before


def test_hs256_with_the_public_key_as_secret_is_rejected(emu: Emulator) -> None:
    import requests
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    token = user_token(emu)
    header = json.loads(b64url_decode(token.split(".")[0]))
    jwks = requests.get(f"{emu.authority()}/discovery/v2.0/keys", verify=emu.ca_bundle).json()
    [jwk] = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    cert = x509.load_der_x509_certificate(__import__("base64").b64decode(jwk["x5c"][0]))
    public_pem = cert.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    forged_header = {"alg": "HS256", "typ": "JWT", "kid": header["kid"]}
    signing_input = (f"{b64url(json.dumps(forged_header).encode())}."
                     f"{b64url(json.dumps(claims_of(token)).encode())}")
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    error = rejected(validator(emu), f"{signing_input}.{b64url(mac)}")
    assert "algorithm" in (error.error_description or "")
    # Even when HS256 were listed, the validator refuses to be configured for it.
    with pytest.raises(ValueError):
        validator(emu, algorithms=["RS256", "HS256"])


def test_token_version(emu: Emulator) -> None:
    v1 = emulator_signed(emu, ver="1.0", iss=f"https://sts.windows.net/{DEFAULT_TENANT_ID}/")
    assert "version" in (rejected(validator(emu), v1).error_description or "")
    accepting = validator(emu, accepted_versions=["1.0", "2.0"])
    assert accepting.validate(v1).claims["ver"] == "1.0"
    rejected(accepting, emulator_signed(emu, ver="1.0"))  # a v1 token with the v2 issuer


def test_not_an_access_token(emu: Emulator) -> None:
    id_token_like = emulator_signed(emu, scp=None)
    assert "scopes or roles" in (rejected(validator(emu), id_token_like).error_description or "")
    for garbage in ("abc", "a.b", "..", "e30.e30.", "!!.!!.!!"):
        rejected(validator(emu), garbage)


def test_async_validation_fetches_keys_with_httpx(emu: Emulator) -> None:
    check = validator(emu)
    token = user_token(emu)

    async def run() -> None:
        assert (await check.validate_async(token)).username
        with pytest.raises(InvalidTokenError):
            await check.validate_async(self_signed(claims_of(token)))

    asyncio.run(run())
    assert keys_fetches(emu) == 2
