"""Workload identity as it really works: federated credentials and an external issuer's tokens.

The test plays the external issuer (a Kubernetes cluster, GitHub Actions) with
``emu.add_token_issuer``; the app trusts it through a federated identity credential; clients
read the token from a file as ``WorkloadIdentityCredential`` does.
"""

from __future__ import annotations

import pathlib
from typing import Any

import msal
import pytest
import requests

from entra_auth.environment import from_environment
from entra_auth.testing import WEB_APP_ID, Emulator, config_from_dict, config_to_dict

from .helpers import assert_entra_error, token

K8S = "https://oidc.prod-aks.azure.test/3f1d2c4b-issuer/"
SUBJECT = "system:serviceaccount:default:workload-identity-sa"
GRAPH_DEFAULT = ["https://graph.microsoft.com/.default"]
ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture
def issuer(emu: Emulator) -> Any:
    emu.add_federated_credential(WEB_APP_ID, K8S, SUBJECT)
    return emu.add_token_issuer(K8S)


def _form(assertion: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": WEB_APP_ID,
            "client_assertion_type": ASSERTION, "client_assertion": assertion,
            "scope": "https://graph.microsoft.com/.default"}


def test_external_token_is_accepted_through_a_federated_credential(
    http: requests.Session, emu: Emulator, issuer: Any,
) -> None:
    reply = token(http, emu, _form(issuer.token(SUBJECT)))
    assert reply.status_code == 200, reply.text
    assert reply.json()["access_token"]


@pytest.mark.parametrize(("change", "code"), [
    ({"subject": "system:serviceaccount:default:someone-else"}, 70021),
    ({"subject": SUBJECT.upper()}, 70021),  # case-sensitive, as Entra since 2025
    ({"audience": "api://SomethingElse"}, 70021),
])
def test_no_matching_federated_credential_is_70021(
    http: requests.Session, emu: Emulator, issuer: Any, change: dict[str, str], code: int,
) -> None:
    subject = change.get("subject", SUBJECT)
    audience = change.get("audience", "api://AzureADTokenExchange")
    body = assert_entra_error(token(http, emu, _form(issuer.token(subject, audience=audience))),
                              400, "invalid_request", code)
    assert f"Assertion Issuer: '{K8S}'" in body["error_description"]
    assert f"Assertion Subject: '{subject}'" in body["error_description"]
    assert f"Assertion Audience: '{audience}'" in body["error_description"]


def test_unknown_issuer_forged_and_expired_tokens(http: requests.Session, emu: Emulator,
                                                  issuer: Any) -> None:
    stranger = emu.add_token_issuer("https://token.actions.githubusercontent.com")
    assert_entra_error(token(http, emu, _form(stranger.token("repo:o/r:ref:refs/heads/main"))),
                       400, "invalid_request", 70021)  # no credential names that issuer
    emu.add_federated_credential(WEB_APP_ID, stranger.issuer, SUBJECT)
    forged = stranger.token(SUBJECT, claims={"iss": K8S})  # K8S's claims, another key
    assert_entra_error(token(http, emu, _form(forged)), 401, "invalid_client", 700027)
    expired = issuer.token(SUBJECT, lifetime=-600)
    assert_entra_error(token(http, emu, _form(expired)), 401, "invalid_client", 700024)
    emu.add_federated_credential(WEB_APP_ID, "https://unregistered.test", SUBJECT)
    unknown = stranger.token(SUBJECT, claims={"iss": "https://unregistered.test"})
    assert_entra_error(token(http, emu, _form(unknown)), 401, "invalid_client", 50166)
    assert emu.tokens_issued == 0


def test_from_environment_token_file_end_to_end(emu: Emulator, issuer: Any,
                                                tmp_path: pathlib.Path) -> None:
    token_file = str(tmp_path / "azure-identity-token")
    issuer.write_token_file(token_file, SUBJECT)
    app = from_environment(environ={
        "AZURE_CLIENT_ID": WEB_APP_ID, "AZURE_TENANT_ID": emu.tenant_id,
        "AZURE_AUTHORITY_HOST": emu.base_url, "AZURE_FEDERATED_TOKEN_FILE": token_file,
    }, verify=emu.ca_bundle)
    first = app.acquire_token_for_client(GRAPH_DEFAULT)
    assert "access_token" in first, first
    # The kubelet rotates the projected token; the app re-reads it for the next request
    # (the first one has expired by the emulator's clock: sending it again would fail).
    emu.advance_clock(3600 + 301)
    issuer.write_token_file(token_file, SUBJECT)
    app.remove_tokens_for_client()
    second = app.acquire_token_for_client(GRAPH_DEFAULT)
    assert "access_token" in second, second
    assert second["access_token"] != first["access_token"]


def test_msal_with_an_assertion_callback(emu: Emulator, issuer: Any) -> None:
    app = msal.ConfidentialClientApplication(
        WEB_APP_ID, client_credential={"client_assertion": lambda: issuer.token(SUBJECT)},
        authority=emu.authority(), http_client=emu.requests_session(),
        instance_discovery=False)
    result = app.acquire_token_for_client(GRAPH_DEFAULT)
    assert "access_token" in result, result


def test_azure_identity_workload_identity_credential(emu: Emulator, issuer: Any,
                                                     tmp_path: pathlib.Path) -> None:
    from azure.identity import WorkloadIdentityCredential

    token_file = issuer.write_token_file(str(tmp_path / "token"), SUBJECT)
    credential = WorkloadIdentityCredential(
        tenant_id=emu.tenant_id, client_id=WEB_APP_ID, token_file_path=token_file,
        authority=emu.base_url, disable_instance_discovery=True)
    access = credential.get_token("https://graph.microsoft.com/.default")
    assert access.token and access.expires_on > emu.now()


def test_federated_credentials_load_from_configuration() -> None:
    data = {"apps": [{"client_id": WEB_APP_ID, "public_client": False, "federated_credentials": [
        {"issuer": K8S, "subject": SUBJECT}]}], "tenants": [
        {"tenant_id": "11111111-2222-3333-4444-555555555555", "domain": "f.test"}]}
    config = config_from_dict(data)
    (credential,) = config.apps[0].federated_credentials
    assert credential.audiences == ["api://AzureADTokenExchange"]
    assert config_to_dict(config)["apps"][0]["federated_credentials"][0]["subject"] == SUBJECT
