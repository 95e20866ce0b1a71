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


# -- point 4: msal's DeprecationWarnings ------------------------------------------------------

def _app_cca(emu: Emulator, credential: object, **kw: object) -> msal.ConfidentialClientApplication:
    kw.setdefault("authority", emu.authority())
    return msal.ConfidentialClientApplication(
        WEB_APP_ID, credential, verify=emu.ca_bundle, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("static", ["a.static.jwt", b"a.static.jwt"])
def test_static_client_assertion_warns_and_still_works(emu: Emulator, static: object) -> None:
    with pytest.warns(DeprecationWarning, match="AutoRefresher") as caught:
        _app_cca(emu, {"client_assertion": static})
    assert caught[0].filename == __file__  # attributed to the caller's line
    assert "a.static.jwt" not in str(caught[0].message)


def test_callable_client_assertion_does_not_warn(emu: Emulator) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _app_cca(emu, {"client_assertion": lambda: "x"})
        _app_cca(emu, {"client_assertion": msal.AutoRefresher(lambda: "x")})
        _app_cca(emu, WEB_APP_SECRET)


@pytest.mark.parametrize("tenant", ["common", "organizations", "Organizations"])
def test_client_credentials_against_multi_tenant_authority_warn(
    emu: Emulator, tenant: str
) -> None:
    app = _app_cca(emu, WEB_APP_SECRET, authority=emu.authority(tenant))
    with pytest.warns(DeprecationWarning, match="acquire_token_for_client") as caught:
        app.acquire_token_for_client([f"{GRAPH_RESOURCE}/.default"])
    assert caught[0].filename == __file__


def test_client_credentials_against_a_tenant_do_not_warn(emu: Emulator) -> None:
    import warnings

    app = _app_cca(emu, WEB_APP_SECRET)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "access_token" in app.acquire_token_for_client([f"{GRAPH_RESOURCE}/.default"])


async def _async_for_client(emu: Emulator, tenant: str) -> None:
    from entra_auth.aio import ConfidentialClientApplication

    app = ConfidentialClientApplication(
        WEB_APP_ID, WEB_APP_SECRET, authority=emu.authority(tenant), verify=emu.ca_bundle)
    try:
        await app.acquire_token_for_client([f"{GRAPH_RESOURCE}/.default"])
    finally:
        await app.aclose()


def test_async_client_credentials_against_common_warn(emu: Emulator) -> None:
    import asyncio

    with pytest.warns(DeprecationWarning, match="acquire_token_for_client"):
        asyncio.run(_async_for_client(emu, "common"))


# -- point 5: AutoRefresher -------------------------------------------------------------------

class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_auto_refresher_memoizes_for_expires_in() -> None:
    clock = _Clock()
    calls: list[int] = []

    def factory() -> str:
        calls.append(1)
        return f"assertion-{len(calls)}"

    refresher = msal.AutoRefresher(factory, expires_in=60, clock=clock)
    assert refresher() == "assertion-1"
    clock.now += 59
    assert refresher() == "assertion-1"
    clock.now += 1
    assert refresher() == "assertion-2"
    assert len(calls) == 2
    assert "assertion" not in repr(refresher)


def test_auto_refresher_defaults_to_540_seconds_and_does_not_memoize_failures() -> None:
    clock = _Clock()
    outcomes: list[object] = [RuntimeError("vault down"), "v1", "v2"]

    def factory() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return str(outcome)

    refresher = msal.AutoRefresher(factory, clock=clock)
    with pytest.raises(RuntimeError, match="vault down"):
        refresher()
    assert refresher() == "v1"
    clock.now += 539
    assert refresher() == "v1"
    clock.now += 1
    assert refresher() == "v2"


def test_auto_refresher_rejects_bad_arguments() -> None:
    with pytest.raises(TypeError):
        msal.AutoRefresher("not callable")  # type: ignore[arg-type]
    for bad in (-1, "60", True):
        with pytest.raises(ValueError):
            msal.AutoRefresher(lambda: "x", expires_in=bad)  # type: ignore[arg-type]


def test_auto_refresher_as_client_assertion_is_reused_across_requests(emu: Emulator) -> None:
    import base64
    import time
    import uuid

    import jwt

    from entra_auth.testing import default_web_app_certificate

    cert = default_web_app_certificate()
    endpoint = emu.token_endpoint()
    made: list[str] = []

    def make() -> str:
        now = int(time.time())
        made.append(jwt.encode(
            {"aud": endpoint, "iss": WEB_APP_ID, "sub": WEB_APP_ID, "iat": now, "nbf": now,
             "exp": now + 600, "jti": str(uuid.uuid4())},
            cert.private_key_pem, algorithm="RS256",
            headers={"x5t": base64.urlsafe_b64encode(bytes.fromhex(cert.thumbprint_sha1))
                     .rstrip(b"=").decode()}))
        return made[-1]

    app = _app_cca(emu, {"client_assertion": msal.AutoRefresher(make, expires_in=300)})
    for _ in range(2):
        result = app.acquire_token_for_client([f"{GRAPH_RESOURCE}/.default"])
        assert result.get("token_source") == "identity_provider", result
        app.remove_tokens_for_client()
    assert len(made) == 1
    assert len(emu.requests_to("token")) == 2


# -- msal.application.extract_certs (used for SNI x5c headers) ---------------------------------

def test_extract_certs() -> None:
    from entra_auth.application import extract_certs
    from entra_auth.testing import default_web_app_certificate

    cert = default_web_app_certificate()
    bodies = extract_certs(cert.certificate_pem * 2)
    assert len(bodies) == 2 and bodies[0] == bodies[1] and "-----" not in bodies[0]
    assert extract_certs("  tagless  ") == ["tagless"]
    with pytest.raises(ValueError, match="private key"):
        extract_certs(cert.private_key_pem)


def test_tenant_names_msal_accepts_are_accepted() -> None:
    from entra_auth.protocol.authority import check_tenant_id

    app = msal.ConfidentialClientApplication(
        WEB_APP_ID, WEB_APP_SECRET, authority="https://login.microsoftonline.com/my_tenant")
    assert app.authority.tenant == "my_tenant"
    for bad in ("x/../y", "..", "t?x=1", "t%2f..", "a b", "t~"):
        with pytest.raises(ValueError, match="not a tenant id or domain"):
            check_tenant_id(bad)
