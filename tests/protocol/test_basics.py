"""Authority parsing, scopes, PKCE, claims merging, id_token checks, region hosts."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest

from entra_auth.protocol.authority import AuthorityBuilder, parse_authority, parse_oidc_authority
from entra_auth.protocol.claims import merge_claims
from entra_auth.protocol.id_token import IdTokenError, check_id_token, decode_id_token_claims
from entra_auth.protocol.pkce import make_pkce, nonce_hash, uuid4
from entra_auth.protocol.region import regional_endpoint, regional_host, valid_region
from entra_auth.protocol.scopes import decorate_scopes

from .helpers import id_token


@pytest.mark.parametrize(
    ("url", "kind", "tenant", "instance"),
    [
        ("https://login.microsoftonline.com/common", "aad", "common", "login.microsoftonline.com"),
        ("https://login.microsoftonline.com/organizations/", "aad", "organizations",
         "login.microsoftonline.com"),
        ("https://login.microsoftonline.com/consumers", "aad", "consumers",
         "login.microsoftonline.com"),
        ("https://login.microsoftonline.com/3f1d2c4b-5a6e-4f70-8a9b-0c1d2e3f4a5b", "aad",
         "3f1d2c4b-5a6e-4f70-8a9b-0c1d2e3f4a5b", "login.microsoftonline.com"),
        ("https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signin", "b2c",
         "contoso.onmicrosoft.com", "contoso.b2clogin.com"),
        ("https://fs.contoso.com/adfs", "adfs", "adfs", "fs.contoso.com"),
        ("https://contoso.ciamlogin.com", "ciam", "contoso.onmicrosoft.com",
         "contoso.ciamlogin.com"),
        ("https://contoso.ciamlogin.com/tenant-guid", "ciam", "tenant-guid",
         "contoso.ciamlogin.com"),
        ("http://127.0.0.1:8443/tenant", "aad", "tenant", "127.0.0.1"),
        ("http://localhost:1/tenant", "aad", "tenant", "localhost"),
    ],
)
def test_authority_kinds(url: str, kind: str, tenant: str, instance: str) -> None:
    auth = parse_authority(url)
    assert (auth.kind, auth.tenant, auth.instance) == (kind, tenant, instance)
    assert not auth.url.endswith("/")


@pytest.mark.parametrize(
    "url",
    ["http://login.microsoftonline.com/common", "https://login.microsoftonline.com",
     "ftp://x/y", "", "https:///tenant"],
)
def test_bad_authorities_raise_value_error(url: str) -> None:
    with pytest.raises(ValueError, match="authority"):
        parse_authority(url)


def test_authority_builder_and_oidc() -> None:
    assert str(AuthorityBuilder("login.microsoftonline.us/", "/contoso.com")) == (
        "https://login.microsoftonline.us/contoso.com")
    assert parse_authority(AuthorityBuilder("login.microsoftonline.com", "x")).tenant == "x"
    assert parse_oidc_authority("https://idp.example.com/realms/a/").url == (
        "https://idp.example.com/realms/a")
    with pytest.raises(ValueError, match="https"):
        parse_oidc_authority("http://idp.example.com")


def test_decorate_scopes() -> None:
    assert decorate_scopes(["User.Read"]) == ["User.Read", "offline_access", "openid", "profile"]
    assert decorate_scopes(["User.Read"], {"offline_access"}) == ["User.Read", "openid", "profile"]
    with pytest.raises(ValueError, match="reserved"):
        decorate_scopes(["openid", "User.Read"])
    with pytest.raises(ValueError, match="list"):
        decorate_scopes("User.Read")


def test_pkce_and_nonce_shapes() -> None:
    pkce = make_pkce(lambda n: bytes(range(n)))
    assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", pkce.verifier)
    digest = hashlib.sha256(pkce.verifier.encode()).digest()
    assert pkce.challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert nonce_hash("abc") == hashlib.sha256(b"abc").hexdigest()
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        uuid4(lambda n: b"\xff" * n))


def test_merge_claims() -> None:
    assert merge_claims(None, None) is None
    assert merge_claims('{"id_token":{"x":1}}', None) == '{"id_token":{"x":1}}'
    merged = json.loads(merge_claims('{"access_token":{"nbf":{"essential":true}}}', ["CP1"]) or "")
    assert merged == {"access_token": {"nbf": {"essential": True},
                                       "xms_cc": {"values": ["CP1"]}}}
    with pytest.raises(ValueError, match="JSON object"):
        merge_claims("[1]", ["CP1"])


def test_id_token_checks() -> None:
    claims = decode_id_token_claims(id_token(nonce=nonce_hash("n"), auth_time=1000))
    check_id_token(claims, nonce="n", max_age=60, now=1000 + 60 + 120)
    with pytest.raises(IdTokenError, match="nonce"):
        check_id_token(claims, nonce="other", max_age=None, now=0)
    with pytest.raises(IdTokenError, match="max_age"):
        check_id_token(claims, nonce=None, max_age=60, now=1000 + 60 + 121)
    with pytest.raises(IdTokenError, match="auth_time"):
        check_id_token({}, nonce=None, max_age=60, now=0)
    with pytest.raises(IdTokenError):
        decode_id_token_claims("not-a-jwt")
    with pytest.raises(IdTokenError, match="JSON"):
        decode_id_token_claims("a.!!!.c")


def test_region_hosts() -> None:
    assert regional_host("westus", "login.microsoftonline.com") == "westus.login.microsoft.com"
    assert regional_host("westus", "login.microsoftonline.us") == "westus.login.microsoftonline.us"
    assert regional_endpoint("https://login.microsoftonline.com/t/oauth2/v2.0/token",
                             "eastus2") == "https://eastus2.login.microsoft.com/t/oauth2/v2.0/token"
    assert valid_region(" West US ") == "westus"
    assert valid_region("bad/region") is None
