"""What msal 1.39 does and entra_auth now does too: argument checks, warnings, AutoRefresher.

Issue 18: nothing a caller passes is silently ignored. Each request goes to the emulator over
a real loopback socket.
"""

from __future__ import annotations

import pytest

import entra_auth as msal
from entra_auth.testing import GRAPH_RESOURCE, WEB_APP_ID, WEB_APP_SECRET, Emulator

TENANT_AUTHORITY = "https://login.microsoftonline.com/contoso.onmicrosoft.com"


# -- point 2: a malformed region the caller chose is a ValueError -----------------------------

@pytest.mark.parametrize("region", ["westus-", "a" * 64, "westus2.login.microsoft.com", "",
                                    "WestUS2", "west us"])
def test_malformed_azure_region_raises(region: str) -> None:
    with pytest.raises(ValueError, match="Invalid azure_region"):
        msal.ConfidentialClientApplication(
            WEB_APP_ID, WEB_APP_SECRET, authority=TENANT_AUTHORITY, azure_region=region)


@pytest.mark.parametrize("region", ["westus-", "", "westus2.login.microsoft.com"])
def test_malformed_msal_force_region_raises_for_confidential_clients(
    region: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MSAL_FORCE_REGION", region)
    with pytest.raises(ValueError, match="Invalid MSAL_FORCE_REGION"):
        msal.ConfidentialClientApplication(
            WEB_APP_ID, WEB_APP_SECRET, authority=TENANT_AUTHORITY)
    # A public client never uses a regional endpoint, and an explicit choice wins.
    msal.PublicClientApplication(WEB_APP_ID, authority=TENANT_AUTHORITY)
    msal.ConfidentialClientApplication(
        WEB_APP_ID, WEB_APP_SECRET, authority=TENANT_AUTHORITY, azure_region="westus2")
    msal.ConfidentialClientApplication(
        WEB_APP_ID, WEB_APP_SECRET, authority=TENANT_AUTHORITY, azure_region=False)


def test_well_formed_regions_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    for region in ("westus2", "eastus", "a" * 63, "usgov-virginia1"):
        app = msal.ConfidentialClientApplication(
            WEB_APP_ID, WEB_APP_SECRET, authority=TENANT_AUTHORITY, azure_region=region)
        assert app.authority.instance == "login.microsoftonline.com"
    monkeypatch.setenv("MSAL_FORCE_REGION", "westus2")
    msal.ConfidentialClientApplication(WEB_APP_ID, WEB_APP_SECRET, authority=TENANT_AUTHORITY)


def test_malformed_region_raises_in_async_client_too() -> None:
    from entra_auth.aio import ConfidentialClientApplication

    with pytest.raises(ValueError, match="Invalid azure_region"):
        ConfidentialClientApplication(
            WEB_APP_ID, WEB_APP_SECRET, authority=TENANT_AUTHORITY, azure_region="westus-")


def test_malformed_detected_region_uses_the_global_endpoint(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGION_NAME", "westus-")
    app = msal.ConfidentialClientApplication(
        WEB_APP_ID, WEB_APP_SECRET, authority=emu.authority(), verify=emu.ca_bundle,
        azure_region=True)
    result = app.acquire_token_for_client([f"{GRAPH_RESOURCE}/.default"])
    assert "access_token" in result, result
    assert len(emu.requests_to("token")) == 1  # sent to the central (emulator) endpoint
