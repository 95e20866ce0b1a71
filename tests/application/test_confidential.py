"""Confidential client flows end to end: client credentials (every credential), OBO."""

from __future__ import annotations

import base64
import json
import pathlib
import time
import uuid
from typing import Any

import pytest

import entra_auth as msal
from entra_auth.testing import (
    GRAPH_RESOURCE,
    WEB_API_ID,
    WEB_API_SECRET,
    WEB_APP_ID,
    WEB_APP_SECRET,
    WEB_APP_SUBJECT,
    Emulator,
    default_web_app_certificate,
)

from .conftest import public_app, sign_in

DEFAULT = [f"{GRAPH_RESOURCE}/.default"]


def cca(emu: Emulator, credential: Any, client_id: str = WEB_APP_ID, **kw: Any) -> Any:
    return msal.ConfidentialClientApplication(
        client_id, credential, authority=emu.authority(), verify=emu.ca_bundle, **kw)


def _header(assertion: str) -> dict[str, Any]:
    part = assertion.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # type: ignore[no-any-return]


def _assertion_header(emu: Emulator) -> dict[str, Any]:
    # The emulator redacts the assertion in its log; decode what it was sent from the app side.
    form = emu.requests_to("token")[-1].form
    assert form["client_assertion_type"] == (
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    return form


def test_client_credentials_secret_cache_first(emu: Emulator) -> None:
    app = cca(emu, WEB_APP_SECRET)
    first = app.acquire_token_for_client(DEFAULT)
    assert first["token_source"] == "identity_provider", first
    [token] = emu.requests_to("token")
    assert token.form["grant_type"] == "client_credentials"
    assert token.form["scope"] == DEFAULT[0] and "client_secret" in token.form
    second = app.acquire_token_for_client(DEFAULT)
    assert second["token_source"] == "cache" and second["access_token"] == first["access_token"]
    assert len(emu.requests_to("token")) == 1
    app.remove_tokens_for_client()
    assert app.acquire_token_for_client(DEFAULT)["token_source"] == "identity_provider"


def test_wrong_secret_is_an_error_dict(emu: Emulator) -> None:
    result = cca(emu, "wrong").acquire_token_for_client(DEFAULT)
    assert result["error"] == "invalid_client" and result["correlation_id"]


@pytest.mark.parametrize("shape", ["thumbprint", "public_certificate", "pfx", "pfx_passphrase"])
def test_certificate_credentials(emu: Emulator, tmp_path: pathlib.Path, shape: str) -> None:
    cert = default_web_app_certificate()
    if shape == "thumbprint":
        credential: dict[str, Any] = {"private_key": cert.private_key_pem,
                                      "thumbprint": cert.thumbprint_sha1}
    elif shape == "public_certificate":
        credential = {"private_key": cert.private_key_pem,
                      "public_certificate": cert.certificate_pem}
    elif shape == "pfx":
        credential = cert.write_pfx(str(tmp_path / "c.pfx"))
    else:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.serialization import pkcs12

        key = serialization.load_pem_private_key(cert.private_key_pem.encode(), None)
        data = pkcs12.serialize_key_and_certificates(
            b"t", key, x509.load_pem_x509_certificate(cert.certificate_pem.encode()),  # type: ignore[arg-type]
            None, serialization.BestAvailableEncryption(b"s3cret"))
        (tmp_path / "e.pfx").write_bytes(data)
        credential = {"private_key_pfx_path": str(tmp_path / "e.pfx"), "passphrase": "s3cret",
                      "public_certificate": True}
    app = cca(emu, credential)
    auth = app._ctx.client_auth
    header = _header(auth.form_fields("https://aud", time.time(), "j")["client_assertion"])
    expected = {"thumbprint": ("RS256", "x5t"), "public_certificate": ("PS256", "x5t#S256"),
                "pfx": ("PS256", "x5t#S256"), "pfx_passphrase": ("PS256", "x5t#S256")}[shape]
    assert (header["alg"], expected[1] in header) == (expected[0], True)
    assert ("x5c" in header) == (shape in ("public_certificate", "pfx_passphrase"))
    result = app.acquire_token_for_client(DEFAULT)
    assert "access_token" in result, result
    _assertion_header(emu)


def test_wrong_pfx_passphrase_is_a_value_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "c.pfx"
    default_web_app_certificate().write_pfx(str(path))
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(ValueError, match="PFX"):
        msal.ConfidentialClientApplication(
            WEB_APP_ID, {"private_key_pfx_path": str(path), "passphrase": "x"},
            authority="https://login.microsoftonline.com/t")


def test_subject_name_issuer_x5c(emu: Emulator) -> None:
    cert = emu.issue_client_certificate(WEB_APP_ID, WEB_APP_SUBJECT.removeprefix("CN="))
    app = cca(emu, {"private_key": cert.private_key_pem,
                    "public_certificate": cert.chain_pem or cert.certificate_pem})
    result = app.acquire_token_for_client(DEFAULT)
    assert "access_token" in result, result


def test_assertion_string_and_callable(emu: Emulator) -> None:
    import jwt

    cert = default_web_app_certificate()
    endpoint = emu.token_endpoint()
    calls = []

    def make() -> str:
        calls.append(1)
        now = int(time.time())
        return jwt.encode(
            {"aud": endpoint, "iss": WEB_APP_ID, "sub": WEB_APP_ID, "iat": now, "nbf": now,
             "exp": now + 600, "jti": str(uuid.uuid4())},
            cert.private_key_pem, algorithm="RS256",
            headers={"x5t": base64.urlsafe_b64encode(bytes.fromhex(cert.thumbprint_sha1))
                     .rstrip(b"=").decode()})

    result = cca(emu, {"client_assertion": make}).acquire_token_for_client(DEFAULT)
    assert "access_token" in result, result
    assert calls == [1]
    emu.reset()
    result = cca(emu, {"client_assertion": make()}).acquire_token_for_client(DEFAULT)
    assert "access_token" in result, result


def test_on_behalf_of_is_cached_per_assertion(emu: Emulator) -> None:
    user = sign_in(public_app(emu), [f"api://{WEB_API_ID}/access_as_user"])
    api = cca(emu, WEB_API_SECRET, client_id=WEB_API_ID)
    scopes = [f"{GRAPH_RESOURCE}/User.Read"]
    first = api.acquire_token_on_behalf_of(user["access_token"], scopes)
    assert first["token_source"] == "identity_provider", first
    obo = emu.requests_to("token")[-1]
    assert obo.form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert obo.form["requested_token_use"] == "on_behalf_of"
    count = len(emu.requests_to("token"))
    again = api.acquire_token_on_behalf_of(user["access_token"], scopes)
    assert again["token_source"] == "cache" and again["access_token"] == first["access_token"]
    assert len(emu.requests_to("token")) == count
    # A different assertion is a different partition.
    other = sign_in(public_app(emu), [f"api://{WEB_API_ID}/access_as_user"])
    assert api.acquire_token_on_behalf_of(other["access_token"], scopes)["token_source"] == (
        "identity_provider")
    # The serialized cache stays loadable by MSAL.
    import msal as real_msal

    cache = msal.SerializableTokenCache()
    api2 = cca(emu, WEB_API_SECRET, client_id=WEB_API_ID, token_cache=cache)
    api2.acquire_token_on_behalf_of(user["access_token"], scopes)
    theirs = real_msal.SerializableTokenCache()
    theirs.deserialize(cache.serialize())
    assert list(theirs.search(real_msal.TokenCache.CredentialType.ACCESS_TOKEN))


def test_public_client_refuses_secret_and_confidential_needs_one() -> None:
    with pytest.raises(ValueError, match="public client"):
        msal.PublicClientApplication("id", client_credential="secret")
    with pytest.raises(ValueError, match="client_credential"):
        msal.ConfidentialClientApplication("id")
    with pytest.raises(ValueError, match="https"):
        msal.PublicClientApplication("id", authority="http://login.example.com/tenant")
    app = msal.PublicClientApplication("id", authority="https://login.microsoftonline.com/t")
    with pytest.raises(ValueError, match="reserved"):
        app.acquire_token_by_username_password("u", "p", ["openid"])
