"""OIDC discovery, instance discovery (1.0 and 1.1), JWKS and user realm."""

from __future__ import annotations

import jwt
import msal
import pytest
import requests

from entra_auth.testing import (
    DEFAULT_TENANT_DOMAIN,
    PUBLIC_CLIENT_ID,
    WEB_APP_ID,
    WEB_APP_SECRET,
    Emulator,
)

from .conftest import ALICE
from .helpers import assert_entra_error, token


def _oidc(http: requests.Session, base: str, tenant: str) -> requests.Response:
    return http.get(f"{base}/{tenant}/v2.0/.well-known/openid-configuration", timeout=10)


def test_tenant_by_id_and_domain(http: requests.Session, emu: Emulator) -> None:
    for tenant in (emu.tenant_id, DEFAULT_TENANT_DOMAIN):
        doc = _oidc(http, emu.base_url, tenant).json()
        assert doc["issuer"] == f"{emu.base_url}/{emu.tenant_id}/v2.0"
        assert doc["token_endpoint"] == emu.token_endpoint()  # realm = tenant GUID
        assert doc["authorization_endpoint"].endswith("/oauth2/v2.0/authorize")
        assert doc["device_authorization_endpoint"].endswith("/oauth2/v2.0/devicecode")
        assert "private_key_jwt" in doc["token_endpoint_auth_methods_supported"]


@pytest.mark.parametrize("alias", ["common", "organizations", "consumers"])
def test_aliases(http: requests.Session, emu: Emulator, alias: str) -> None:
    doc = _oidc(http, emu.base_url, alias).json()
    assert doc["issuer"] == f"{emu.base_url}/{{tenantid}}/v2.0"
    assert doc["token_endpoint"] == f"{emu.base_url}/{alias}/oauth2/v2.0/token"


def test_msa_tenant_id_is_consumers(http: requests.Session, emu: Emulator) -> None:
    doc = _oidc(http, emu.base_url, "9188040d-6c67-4c5b-b112-36a304b66dad").json()
    assert doc["token_endpoint"].endswith("/consumers/oauth2/v2.0/token")


def test_unknown_tenant(http: requests.Session, emu: Emulator) -> None:
    assert_entra_error(_oidc(http, emu.base_url, "nosuch.onmicrosoft.com"), 400,
                       "invalid_tenant", 90002)


def test_localhost_alias_keeps_its_host(http: requests.Session, emu: Emulator) -> None:
    doc = _oidc(http, emu.localhost_url, emu.tenant_id).json()
    assert doc["token_endpoint"].startswith(emu.localhost_url)
    assert doc["issuer"].startswith(emu.base_url)  # one issuer for every alias


def _instance(http: requests.Session, emu: Emulator, **params: str) -> requests.Response:
    return http.get(emu.instance_discovery_url, params=params, timeout=10)


def test_instance_discovery_shapes(http: requests.Session, emu: Emulator) -> None:
    v1 = _instance(http, emu, **{"api-version": "1.0",
                                 "authorization_endpoint":
                                     f"{emu.authority()}/oauth2/v2.0/authorize"}).json()
    assert v1 == {"tenant_discovery_endpoint":
                  f"{emu.authority()}/v2.0/.well-known/openid-configuration"}
    v11 = _instance(http, emu, **{"api-version": "1.1", "authorization_endpoint":
                                  f"{emu.base_url}/common/oauth2/authorize"}).json()
    assert v11["tenant_discovery_endpoint"] == (
        f"{emu.base_url}/common/.well-known/openid-configuration")
    (meta,) = v11["metadata"]
    host = f"127.0.0.1:{emu.port}"
    assert meta["preferred_network"] == meta["preferred_cache"] == host
    assert meta["aliases"] == [host, f"localhost:{emu.port}"]


def test_instance_discovery_errors(http: requests.Session, emu: Emulator) -> None:
    unknown = _instance(http, emu, **{"api-version": "1.1", "authorization_endpoint":
                                      "https://login.example.test/common/oauth2/authorize"})
    assert_entra_error(unknown, 400, "invalid_instance", 50049)
    assert_entra_error(_instance(http, emu, **{"authorization_endpoint": "x"}), 400,
                       "invalid_request", 50050)
    assert_entra_error(_instance(http, emu, **{"api-version": "9.9",
                                               "authorization_endpoint": "x"}),
                       400, "invalid_request", 50050)
    assert_entra_error(_instance(http, emu, **{"api-version": "1.0"}), 400,
                       "invalid_request", 50050)


def test_msal_uses_instance_discovery_endpoint(emu: Emulator) -> None:
    app = msal.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        http_client=emu.requests_session(), instance_discovery=emu.instance_discovery_url)
    result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    assert "access_token" in result, result.get("error_description")
    assert [r.endpoint for r in emu.requests][:2] == ["instance_discovery",
                                                      "openid_configuration"]


def test_msal_on_the_localhost_alias(emu: Emulator) -> None:
    app = msal.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET,
        authority=emu.authority(host="localhost"), http_client=emu.requests_session(),
        instance_discovery=False)
    assert "access_token" in app.acquire_token_for_client(
        ["https://graph.microsoft.com/.default"])
    assert emu.requests_to("token")[0].headers["host"] == f"localhost:{emu.port}"


def test_jwks_verifies_issued_tokens(http: requests.Session, emu: Emulator) -> None:
    body = token(http, emu, {"grant_type": "client_credentials", "client_id": WEB_APP_ID,
                             "client_secret": WEB_APP_SECRET,
                             "scope": "https://graph.microsoft.com/.default"}).json()
    jwks_uri = _oidc(http, emu.base_url, emu.tenant_id).json()["jwks_uri"]
    keys = http.get(jwks_uri, timeout=10).json()["keys"]
    kid = jwt.get_unverified_header(body["access_token"])["kid"]
    (jwk,) = [k for k in keys if k["kid"] == kid]
    assert jwk["kty"] == "RSA" and jwk["use"] == "sig" and jwk["x5c"]
    key = jwt.PyJWK(jwk).key
    claims = jwt.decode(body["access_token"], key, algorithms=["RS256"],
                        audience="00000003-0000-0000-c000-000000000000",
                        issuer=f"{emu.base_url}/{emu.tenant_id}/v2.0")
    assert claims["ver"] == "2.0" and claims["idtyp"] == "app"
    new_kid = emu.rotate_signing_key()
    assert new_kid != kid
    kids = {k["kid"] for k in http.get(jwks_uri, timeout=10).json()["keys"]}
    assert kids == {kid, new_kid}


def test_user_realm(http: requests.Session, emu: Emulator) -> None:
    url = f"{emu.base_url}/common/userrealm"
    known = http.get(f"{url}/{ALICE}", params={"api-version": "1.0"}, timeout=10).json()
    assert known["account_type"] == "Managed"
    assert known["domain_name"] == DEFAULT_TENANT_DOMAIN
    unknown = http.get(f"{url}/x@unknown.test", params={"api-version": "1.0"}, timeout=10)
    assert unknown.json()["account_type"] == "Unknown"
    assert_entra_error(http.get(f"{url}/{ALICE}", timeout=10), 400, "invalid_request", 50050)


def test_public_client_id_is_listed_in_describe(emu: Emulator) -> None:
    described = emu.describe()
    assert PUBLIC_CLIENT_ID in {a["client_id"] for a in described["apps"]}
    assert described["ca_bundle"] == emu.ca_bundle
    assert described["authorities"] == [emu.authority()]


def test_keys_of_unknown_tenant(http: requests.Session, emu: Emulator) -> None:
    resp = http.get(f"{emu.base_url}/nosuch.example/discovery/v2.0/keys", timeout=10)
    assert_entra_error(resp, 400, "invalid_tenant", 90002)
