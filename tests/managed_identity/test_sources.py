"""Service Fabric, Cloud Shell, Azure ML and Azure Arc: detected as MSAL does, against the
emulator's endpoints over real HTTPS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msal
import pytest
import requests

from entra_auth import ManagedIdentityCredential
from entra_auth.managed_identity import (
    ManagedIdentityClient,
    ManagedIdentityError,
    SystemAssignedManagedIdentity,
    UserAssignedManagedIdentity,
    managed_identity_source,
    read_arc_key,
)
from entra_auth.testing import GRAPH_RESOURCE, Emulator
from entra_auth.testing.imds import ManagedIdentityRecord, managed_identity_host
from entra_auth.testing.mi_sources import managed_identity_environment, set_arc_key_directory


def oid_of(emu: Emulator, token: str) -> str:
    resp = requests.get(emu.echo_url, headers={"Authorization": f"Bearer {token}"},
                        verify=emu.ca_bundle, timeout=10)
    assert resp.status_code == 200, resp.text
    oid: str = resp.json()["claims"]["oid"]
    return oid


@pytest.mark.parametrize(("env", "kind"), [
    ({"IDENTITY_ENDPOINT": "https://h/t", "IDENTITY_HEADER": "s",
      "IDENTITY_SERVER_THUMBPRINT": "AB"}, "service_fabric"),
    ({"IDENTITY_ENDPOINT": "https://h/t", "IDENTITY_HEADER": "s"}, "app_service"),
    ({"MSI_ENDPOINT": "http://h/t", "MSI_SECRET": "s"}, "machine_learning"),
    ({"MSI_ENDPOINT": "http://h/t", "AZUREPS_HOST_ENVIRONMENT": "cloud-shell/1.0"},
     "cloud_shell"),
    ({"MSI_ENDPOINT": "http://h/t"}, "imds"),
    ({"IDENTITY_ENDPOINT": "http://h/t", "IMDS_ENDPOINT": "http://h",
      "AZUREPS_HOST_ENVIRONMENT": "cloud-shell/1.0"}, "azure_arc"),
    ({}, "imds"),
])
def test_detection_order_matches_msal(env: dict[str, str], kind: str,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert managed_identity_source(env).kind == kind
    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT",
                 "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT", "AZUREPS_HOST_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    mi = msal.managed_identity
    assert mi.get_managed_identity_source() is {
        "service_fabric": mi.SERVICE_FABRIC, "app_service": mi.APP_SERVICE,
        "machine_learning": mi.MACHINE_LEARNING, "cloud_shell": mi.CLOUD_SHELL,
        "azure_arc": mi.AZURE_ARC, "imds": mi.DEFAULT_TO_VM}[kind]


def client(emu: Emulator, source: str, identity: Any = None, **kwargs: Any
           ) -> ManagedIdentityClient:
    env = managed_identity_environment(emu, source)
    return ManagedIdentityClient(identity or SystemAssignedManagedIdentity(), environ=env,
                                 **kwargs)


def test_service_fabric_pins_the_thumbprint(entra_emulator: Emulator) -> None:
    sf = client(entra_emulator, "service_fabric")  # verify=True: the pin, not a CA
    assert sf.source.kind == "service_fabric"
    result = sf.acquire_token_for_client(resource=GRAPH_RESOURCE)
    assert "access_token" in result, result
    host = managed_identity_host(entra_emulator)
    assert oid_of(entra_emulator, result["access_token"]) == host.system_assigned.object_id
    (logged,) = entra_emulator.requests_to("service_fabric")
    assert logged.headers["secret"] == "<redacted>"  # sent, and kept out of the log
    assert logged.query["api-version"] == "2019-07-01-preview"
    env = managed_identity_environment(entra_emulator, "service_fabric")
    env["IDENTITY_SERVER_THUMBPRINT"] = "00" * 20  # another certificate's thumbprint
    wrong = ManagedIdentityClient(SystemAssignedManagedIdentity(), environ=env)
    with pytest.raises(ManagedIdentityError):
        wrong.acquire_token_for_client(resource=GRAPH_RESOURCE)
    assert len(entra_emulator.requests_to("service_fabric")) == 1  # refused before sending


def test_service_fabric_user_assigned(entra_emulator: Emulator) -> None:
    record = ManagedIdentityRecord()
    managed_identity_host(entra_emulator).user_assigned.append(record)
    sf = client(entra_emulator, "service_fabric",
                UserAssignedManagedIdentity(client_id=record.client_id))
    result = sf.acquire_token_for_client(resource=GRAPH_RESOURCE)
    assert oid_of(entra_emulator, result["access_token"]) == record.object_id
    assert entra_emulator.requests_to("service_fabric")[-1].query["client_id"] == (
        record.client_id)


def test_cloud_shell(entra_emulator: Emulator) -> None:
    shell = client(entra_emulator, "cloud_shell", verify=entra_emulator.ca_bundle)
    result = shell.acquire_token_for_client(resource=GRAPH_RESOURCE + "/.default")
    assert result["token_source"] == "identity_provider" and result["expires_in"] > 3000
    (logged,) = entra_emulator.requests_to("cloud_shell")
    assert logged.method == "POST" and logged.form == {"resource": GRAPH_RESOURCE}
    assert shell.acquire_token_for_client(resource=GRAPH_RESOURCE)["token_source"] == "cache"
    with pytest.raises(ManagedIdentityError, match="system-assigned"):
        client(entra_emulator, "cloud_shell", UserAssignedManagedIdentity(client_id="x"),
               verify=entra_emulator.ca_bundle).acquire_token_for_client(
                   resource=GRAPH_RESOURCE)


def test_machine_learning(entra_emulator: Emulator) -> None:
    host = managed_identity_host(entra_emulator)
    ml = client(entra_emulator, "machine_learning", verify=entra_emulator.ca_bundle)
    result = ml.acquire_token_for_client(resource=GRAPH_RESOURCE)
    assert oid_of(entra_emulator, result["access_token"]) == host.system_assigned.object_id
    logged = entra_emulator.requests_to("machine_learning")[-1]
    assert logged.query["clientid"] == host.system_assigned.client_id
    assert logged.query["api-version"] == "2017-09-01"
    with pytest.raises(ManagedIdentityError, match="client id"):
        client(entra_emulator, "machine_learning", UserAssignedManagedIdentity(object_id="o"),
               verify=entra_emulator.ca_bundle).acquire_token_for_client(
                   resource=GRAPH_RESOURCE)


def test_azure_arc_challenge_file_handshake(entra_emulator: Emulator, tmp_path: Path) -> None:
    keys = tmp_path / "tokens"
    keys.mkdir()
    set_arc_key_directory(entra_emulator, str(keys))
    arc = client(entra_emulator, "azure_arc", verify=entra_emulator.ca_bundle)
    arc.arc_key_directory = str(keys)
    result = arc.acquire_token_for_client(resource=GRAPH_RESOURCE)
    assert "access_token" in result, result
    first, second = entra_emulator.requests_to("azure_arc")
    assert "authorization" not in first.headers
    assert second.headers["authorization"] == "<redacted>"  # sent, kept out of the log
    # A client that trusts another directory refuses the file the challenge names.
    elsewhere = client(entra_emulator, "azure_arc", verify=entra_emulator.ca_bundle)
    elsewhere.arc_key_directory = str(tmp_path / "other")
    with pytest.raises(ManagedIdentityError, match="outside"):
        elsewhere.acquire_token_for_client(resource=GRAPH_RESOURCE)


def test_arc_key_file_checks(tmp_path: Path) -> None:
    good = tmp_path / "a.key"
    good.write_text("secret\n")
    assert read_arc_key(str(good), str(tmp_path)) == "secret"
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "big.key").write_text("x" * 5000)
    for bad in ("a.txt", "big.key", "missing.key", "../a.key"):
        with pytest.raises(ManagedIdentityError):
            read_arc_key(str(tmp_path / bad), str(tmp_path))


def test_chain_member_on_cloud_shell(entra_emulator: Emulator) -> None:
    env = {**managed_identity_environment(entra_emulator, "cloud_shell"),
           "REQUESTS_CA_BUNDLE": str(entra_emulator.ca_bundle)}
    credential = ManagedIdentityCredential(environ=env, client_kwargs={
        "verify": entra_emulator.ca_bundle})
    token = credential.get_token(GRAPH_RESOURCE + "/.default")
    assert oid_of(entra_emulator, token.token) == managed_identity_host(
        entra_emulator).system_assigned.object_id
