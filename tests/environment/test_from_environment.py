"""from_environment() against the emulator: each credential kind, and the documented errors."""

from __future__ import annotations

import asyncio
import pathlib
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

import entra_auth
from entra_auth.environment import (
    EnvironmentConfigError,
    FederatedTokenFile,
    from_environment,
    read_environment,
)
from entra_auth.testing import WEB_APP_ID, WEB_APP_SECRET, ClientCertificate, Emulator

GRAPH_DEFAULT = ["https://graph.microsoft.com/.default"]


def _env(emu: Emulator, **extra: str) -> dict[str, str]:
    env = {"AZURE_CLIENT_ID": WEB_APP_ID, "AZURE_TENANT_ID": emu.tenant_id,
           "AZURE_AUTHORITY_HOST": emu.base_url}
    env.update(extra)
    return env


def _token(app: Any, emu: Emulator) -> dict[str, Any]:
    result: dict[str, Any] = app.acquire_token_for_client(GRAPH_DEFAULT)
    assert "access_token" in result, result.get("error_description")
    return result


def _assertion_type(emu: Emulator) -> str:
    return emu.requests_to("token")[-1].form.get("client_assertion_type", "")


def test_client_secret(entra_emulator: Emulator) -> None:
    app = from_environment(environ=_env(entra_emulator, AZURE_CLIENT_SECRET=WEB_APP_SECRET),
                           verify=entra_emulator.ca_bundle)
    assert isinstance(app, entra_auth.ConfidentialClientApplication)
    _token(app, entra_emulator)
    form = entra_emulator.requests_to("token")[-1].form
    assert form["client_secret"] == "<redacted>" and form["client_id"] == WEB_APP_ID


def test_authority_host_without_scheme_and_ca_from_requests_ca_bundle(
        entra_emulator: Emulator) -> None:
    env = _env(entra_emulator, AZURE_CLIENT_SECRET=WEB_APP_SECRET,
               AZURE_AUTHORITY_HOST=entra_emulator.base_url.removeprefix("https://") + "/",
               REQUESTS_CA_BUNDLE=str(entra_emulator.ca_bundle))
    settings = read_environment(env)
    assert settings.authority == f"{entra_emulator.base_url}/{entra_emulator.tenant_id}"
    assert WEB_APP_SECRET not in repr(settings)
    _token(from_environment(environ=env), entra_emulator)


def test_wrong_ca_fails_as_an_error_dict(entra_emulator: Emulator) -> None:
    app = from_environment(environ=_env(entra_emulator, AZURE_CLIENT_SECRET=WEB_APP_SECRET),
                           verify=True)  # the system CAs don't know the emulator
    result = app.acquire_token_for_client(GRAPH_DEFAULT)
    assert "access_token" not in result and result["error"]


def _pem_file(tmp: pathlib.Path, cert: ClientCertificate, password: str | None = None,
              chain: bool = False) -> str:
    key_pem = cert.private_key_pem
    if password:
        key = serialization.load_pem_private_key(key_pem.encode(), None)
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password.encode())).decode()
    path = tmp / "cert.pem"
    path.write_text(key_pem + (cert.chain_pem if chain else cert.certificate_pem))
    return str(path)


def test_certificate_pem(entra_emulator: Emulator, tmp_path: pathlib.Path) -> None:
    cert = entra_emulator.add_client_certificate(WEB_APP_ID)
    env = _env(entra_emulator, AZURE_CLIENT_CERTIFICATE_PATH=_pem_file(tmp_path, cert))
    assert read_environment(env).kind == "client_certificate"
    _token(from_environment(environ=env, verify=entra_emulator.ca_bundle), entra_emulator)
    assert _assertion_type(entra_emulator).endswith("jwt-bearer")


def test_certificate_pem_with_password(entra_emulator: Emulator, tmp_path: pathlib.Path) -> None:
    cert = entra_emulator.add_client_certificate(WEB_APP_ID)
    env = _env(entra_emulator, AZURE_CLIENT_CERTIFICATE_PATH=_pem_file(tmp_path, cert, "pw1"),
               AZURE_CLIENT_CERTIFICATE_PASSWORD="pw1")
    _token(from_environment(environ=env, verify=entra_emulator.ca_bundle), entra_emulator)
    with pytest.raises(ValueError):  # wrong password: the app can't load the key
        from_environment(environ=dict(env, AZURE_CLIENT_CERTIFICATE_PASSWORD="nope"),
                         verify=entra_emulator.ca_bundle)


def test_certificate_pfx_with_password(entra_emulator: Emulator, tmp_path: pathlib.Path) -> None:
    cert = entra_emulator.add_client_certificate(WEB_APP_ID)
    key = serialization.load_pem_private_key(cert.private_key_pem.encode(), None)
    from cryptography import x509

    data = pkcs12.serialize_key_and_certificates(
        b"t", key, x509.load_pem_x509_certificate(cert.certificate_pem.encode()),  # type: ignore[arg-type]
        None, serialization.BestAvailableEncryption(b"pfx-pw"))
    path = tmp_path / "cert.pfx"
    path.write_bytes(data)
    env = _env(entra_emulator, AZURE_CLIENT_CERTIFICATE_PATH=str(path),
               AZURE_CLIENT_CERTIFICATE_PASSWORD="pfx-pw")
    _token(from_environment(environ=env, verify=entra_emulator.ca_bundle), entra_emulator)


def test_certificate_chain_for_subject_name_issuer_auth(
        entra_emulator: Emulator, tmp_path: pathlib.Path) -> None:
    cert = entra_emulator.issue_client_certificate(WEB_APP_ID, "env.contoso.test")
    path = _pem_file(tmp_path, cert, chain=True)
    without = from_environment(environ=_env(entra_emulator, AZURE_CLIENT_CERTIFICATE_PATH=path),
                               verify=entra_emulator.ca_bundle)
    refused = without.acquire_token_for_client(GRAPH_DEFAULT)
    assert refused["error"] == "invalid_client"  # not registered: only x5c can work
    env = _env(entra_emulator, AZURE_CLIENT_CERTIFICATE_PATH=path,
               AZURE_CLIENT_SEND_CERTIFICATE_CHAIN="True")
    _token(from_environment(environ=env, verify=entra_emulator.ca_bundle), entra_emulator)


def _assertion(emu: Emulator, cert: ClientCertificate) -> str:
    now = int(time.time())
    return jwt.encode(
        {"iss": WEB_APP_ID, "sub": WEB_APP_ID, "aud": emu.token_endpoint(), "iat": now,
         "nbf": now, "exp": now + 600, "jti": str(uuid.uuid4())},
        cert.private_key_pem, algorithm="RS256",
        headers={"x5t": jwt.utils.base64url_encode(
            bytes.fromhex(cert.thumbprint_sha1)).decode()})


def test_workload_identity_rereads_the_rotated_token_file(
        entra_emulator: Emulator, tmp_path: pathlib.Path) -> None:
    cert = entra_emulator.add_client_certificate(WEB_APP_ID)
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(_assertion(entra_emulator, cert))
    env = _env(entra_emulator, AZURE_FEDERATED_TOKEN_FILE=str(token_file))
    app = from_environment(environ=env, verify=entra_emulator.ca_bundle)
    _token(app, entra_emulator)
    assert _assertion_type(entra_emulator).endswith("jwt-bearer")
    # Kubernetes rotates the file: an expired/garbage token is now there, then a good one
    token_file.write_text("not-a-jwt-anymore")
    app.remove_tokens_for_client()
    refused = app.acquire_token_for_client(GRAPH_DEFAULT)
    # Entra answers a malformed client assertion with AADSTS50027 (invalid_request)
    assert refused["error"] == "invalid_request" and 50027 in refused["error_codes"]
    token_file.write_text(_assertion(entra_emulator, cert))
    _token(app, entra_emulator)


def test_federated_token_file_reads_only_when_changed(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "token"
    path.write_text("first\n")
    now = [0.0]
    source = FederatedTokenFile(str(path), max_age=60, clock=lambda: now[0])
    assert source() == "first"
    path.unlink()  # unchanged as far as we know? no: stat fails -> clear error
    with pytest.raises(ValueError, match="cannot read the federated token file"):
        source()
    path.write_text("second-longer")
    assert source() == "second-longer"
    path.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        source()
    path.write_text("third-token!!")  # same size as before: max_age still forces a re-read
    now[0] += 61
    assert source() == "third-token!!"


def test_asynchronous_application(entra_emulator: Emulator) -> None:
    app = from_environment(environ=_env(entra_emulator, AZURE_CLIENT_SECRET=WEB_APP_SECRET),
                           verify=entra_emulator.ca_bundle, asynchronous=True)

    async def main() -> dict[str, Any]:
        async with app:
            result: dict[str, Any] = await app.acquire_token_for_client(GRAPH_DEFAULT)
            return result

    assert "access_token" in asyncio.run(main())


# -- the documented errors ----------------------------------------------------------------


def _error(env: dict[str, str], **kwargs: Any) -> EnvironmentConfigError:
    with pytest.raises(EnvironmentConfigError) as info:
        read_environment(env, **kwargs)
    assert isinstance(info.value, ValueError) and isinstance(info.value, entra_auth.EntraAuthError)
    for value in env.values():
        if len(value) > 8:
            assert value not in str(info.value)  # no secret (or any value) in the message
    return info.value


def test_nothing_configured() -> None:
    err = _error({"PATH": "/bin"})
    assert err.missing == ["AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET"]
    assert "no credential in the environment" in str(err)


def test_missing_ids() -> None:
    err = _error({"AZURE_CLIENT_SECRET": "s3cret-value-123", "AZURE_TENANT_ID": "t"})
    assert err.missing == ["AZURE_CLIENT_ID"]
    assert str(err) == "AZURE_CLIENT_ID is not set (needed with AZURE_CLIENT_SECRET)"
    err = _error({"AZURE_FEDERATED_TOKEN_FILE": "/x", "AZURE_CLIENT_ID": " "})
    assert err.missing == ["AZURE_CLIENT_ID", "AZURE_TENANT_ID"]


def test_conflicts_are_errors_unless_not_strict(tmp_path: pathlib.Path) -> None:
    env = {"AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t",
           "AZURE_CLIENT_SECRET": "s3cret-value-123",
           "AZURE_CLIENT_CERTIFICATE_PATH": str(tmp_path / "nope.pem")}
    err = _error(env)
    assert err.conflicting == ["AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH"]
    assert read_environment(env, strict=False).kind == "client_secret"  # azure-identity order
    err = _error({"AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t",
                  "AZURE_CLIENT_SECRET": "s3cret-value-123",
                  "AZURE_CLIENT_CERTIFICATE_PASSWORD": "pw-value-12345"})
    assert err.conflicting == ["AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD"]
    token = tmp_path / "token"
    token.write_text("x")
    env = {"AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t",
           "AZURE_CLIENT_CERTIFICATE_PATH": "/x", "AZURE_FEDERATED_TOKEN_FILE": str(token)}
    assert _error(env).conflicting == ["AZURE_CLIENT_CERTIFICATE_PATH",
                                       "AZURE_FEDERATED_TOKEN_FILE"]


def test_username_password_is_reported_unsupported() -> None:
    err = _error({"AZURE_CLIENT_ID": "c", "AZURE_USERNAME": "u", "AZURE_PASSWORD": "pw-12345678"})
    assert "not supported" in str(err) and err.conflicting == ["AZURE_USERNAME", "AZURE_PASSWORD"]


def test_bad_values(tmp_path: pathlib.Path) -> None:
    base = {"AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t", "AZURE_CLIENT_SECRET": "secretvalue1"}
    assert _error(dict(base, AZURE_TENANT_ID="a/b")).conflicting == ["AZURE_TENANT_ID"]
    assert "https" in str(_error(dict(base, AZURE_AUTHORITY_HOST="http://login.example.com")))
    assert _error(dict(base, AZURE_AUTHORITY_HOST="https://h/x")).conflicting == [
        "AZURE_AUTHORITY_HOST"]
    assert read_environment(dict(base, AZURE_AUTHORITY_HOST="http://127.0.0.1:8443")).authority \
        == "http://127.0.0.1:8443/t"
    assert read_environment(dict(base, AZURE_AUTHORITY_HOST="login.microsoftonline.us")
                            ).authority == "https://login.microsoftonline.us/t"
    no_cert = {"AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t",
               "AZURE_CLIENT_CERTIFICATE_PATH": str(tmp_path / "missing.pem")}
    assert "cannot be read" in str(_error(no_cert))
    key_only = tmp_path / "key.pem"
    key_only.write_text("-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n")
    assert "certificate" in str(_error(dict(no_cert, AZURE_CLIENT_CERTIFICATE_PATH=str(key_only))))
    missing_file = {"AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t",
                    "AZURE_FEDERATED_TOKEN_FILE": str(tmp_path / "no-token")}
    assert _error(missing_file).conflicting == ["AZURE_FEDERATED_TOKEN_FILE"]


def test_default_authority_is_public_cloud() -> None:
    settings = read_environment({"AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "contoso.com",
                                 "AZURE_CLIENT_SECRET": "x"})
    assert settings.authority == "https://login.microsoftonline.com/contoso.com"
    assert settings.variables == ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET")
