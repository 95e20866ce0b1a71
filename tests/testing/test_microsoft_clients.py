"""Microsoft's own clients against the emulator, with the settings docs/emulator.md documents."""

from __future__ import annotations

import pytest

from entra_auth.testing import PUBLIC_CLIENT_ID, WEB_APP_ID, WEB_APP_SECRET, Emulator

from .conftest import ALICE, ALICE_PASSWORD

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_azure_identity_client_secret_credential(emu: Emulator,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.identity import ClientSecretCredential

    monkeypatch.delenv("REQUESTS_CA_BUNDLE")  # the CA comes from connection_verify alone
    credential = ClientSecretCredential(
        emu.tenant_id, WEB_APP_ID, WEB_APP_SECRET, authority=emu.base_url,
        disable_instance_discovery=True, connection_verify=emu.ca_bundle)
    first = credential.get_token("https://graph.microsoft.com/.default")
    again = credential.get_token("https://graph.microsoft.com/.default")
    assert first.token == again.token  # served from its cache
    assert len(emu.requests_to("token")) == 1


def test_azure_identity_username_password_needs_the_emulator_session(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from azure.core.pipeline.transport import RequestsTransport
    from azure.identity import UsernamePasswordCredential

    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    credential = UsernamePasswordCredential(
        PUBLIC_CLIENT_ID, ALICE, ALICE_PASSWORD, tenant_id=emu.tenant_id,
        authority=emu.base_url, disable_instance_discovery=True,
        transport=RequestsTransport(session=emu.requests_session(), session_owner=False,
                                    connection_verify=emu.ca_bundle))
    first = credential.get_token("https://graph.microsoft.com/User.Read")
    again = credential.get_token("https://graph.microsoft.com/User.Read")
    assert first.token == again.token  # a silent hit: the full-URI scope is echoed as sent
    assert len(emu.requests_to("token")) == 1
    assert emu.requests_to("userrealm")  # msal's port-less realm lookup reached the emulator
