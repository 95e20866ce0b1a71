"""Tenants a server names: EntraTokenCredential's allow-list (as azure-identity >= 1.11), and
tenant ids that could reshape a URL, refused wherever they reach one."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import entra_auth
from entra_auth import aio
from entra_auth.azure.credential import EntraTokenCredential, TenantNotAllowedError
from entra_auth.environment import EnvironmentConfigError, read_environment
from entra_auth.protocol.authority import check_tenant_id
from entra_auth.testing import (
    DEFAULT_TENANT_DOMAIN,
    PUBLIC_CLIENT_ID,
    WEB_APP_ID,
    WEB_APP_SECRET,
    Emulator,
)

ALICE, PASSWORD = "alice@contoso.onmicrosoft.com", "alice-password"
USER_READ = "https://graph.microsoft.com/User.Read"
BAD_TENANTS = ["x/../../y", "..", ".", "a b", "t?x=1", "t#f", "t%2f..", "", "t\n", "tenant/"]


def _signed_in(emu: Emulator) -> entra_auth.PublicClientApplication:
    app = entra_auth.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), http_client=emu.requests_session(),
        instance_discovery=False)
    assert "access_token" in app.acquire_token_by_username_password(
        ALICE, PASSWORD, scopes=["User.Read"])
    return app


def _sent(emu: Emulator) -> list[str]:
    return [r.path for r in emu.requests if r.endpoint != "unknown"]


def test_another_tenant_is_refused_before_anything_is_sent(
        entra_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    emu = entra_emulator
    monkeypatch.delenv("AZURE_ADDITIONALLY_ALLOWED_TENANTS", raising=False)
    app = _signed_in(emu)
    credential = EntraTokenCredential(app, clock=emu.now)
    emu.clear_log()
    with pytest.raises(TenantNotAllowedError) as caught:
        credential.get_token(USER_READ, tenant_id="attacker-tenant.example",
                             claims='{"access_token": {"nbf": {"essential": true}}}')
    assert caught.value.error == "tenant_not_allowed"
    assert "additionally_allowed_tenants" in str(caught.value)
    assert isinstance(caught.value, entra_auth.EntraAuthError)
    assert _sent(emu) == []
    # the application's own tenant, in any case, needs no allow-list
    assert credential.get_token(USER_READ, tenant_id=emu.tenant_id.upper()).token


@pytest.mark.parametrize("tenant", BAD_TENANTS)
def test_malformed_tenant_ids_never_reach_a_url(entra_emulator: Emulator, tenant: str) -> None:
    emu = entra_emulator
    credential = EntraTokenCredential(_signed_in(emu), clock=emu.now,
                                      additionally_allowed_tenants=["*"])
    emu.clear_log()
    if tenant:  # an empty tenant_id means "the application's tenant"
        with pytest.raises(ValueError, match="tenant"):
            credential.get_token(USER_READ, tenant_id=tenant, claims="{}")
        assert _sent(emu) == []
    with pytest.raises(ValueError, match="tenant"):
        check_tenant_id(tenant)
    if tenant in ("x/../../y", "..", ".", "a b", "t%2f.."):  # ("?#\n/" end or vanish)
        with pytest.raises(ValueError):
            entra_auth.PublicClientApplication(PUBLIC_CLIENT_ID,
                                               authority=f"{emu.base_url}/{tenant}/x")
    env = {"AZURE_CLIENT_ID": WEB_APP_ID, "AZURE_TENANT_ID": tenant,
           "AZURE_CLIENT_SECRET": WEB_APP_SECRET}
    if tenant != "t\n":  # variables are stripped
        with pytest.raises(EnvironmentConfigError):
            read_environment(env)


def test_relative_segments_in_authorities_are_refused(entra_emulator: Emulator) -> None:
    emu = entra_emulator
    app = _signed_in(emu)
    for authority in (f"{emu.base_url}/x/../../y", f"{emu.base_url}/common/%2E%2E/evil",
                      f"{emu.base_url}/{emu.tenant_id}/./policy"):
        with pytest.raises(ValueError, match="relative segment"):
            entra_auth.PublicClientApplication(PUBLIC_CLIENT_ID, authority=authority)
        emu.clear_log()
        with pytest.raises(ValueError):
            app.acquire_token_silent(["User.Read"], app.get_accounts()[0],
                                     authority=authority, force_refresh=True)
        assert _sent(emu) == []


def test_allowed_tenants_by_argument_star_and_environment(
        entra_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    emu = entra_emulator
    app = _signed_in(emu)
    allowed = EntraTokenCredential(app, clock=emu.now,
                                   additionally_allowed_tenants=[DEFAULT_TENANT_DOMAIN.upper()])
    emu.clear_log()
    assert allowed.get_token(USER_READ, tenant_id=DEFAULT_TENANT_DOMAIN, claims="{}").token
    assert len(emu.requests_to("token")) == 1  # to the tenant the domain discovers
    assert any(path.startswith(f"/{DEFAULT_TENANT_DOMAIN}/") for path in _sent(emu))
    assert EntraTokenCredential(app, clock=emu.now, additionally_allowed_tenants=["*"]
                                ).get_token(USER_READ, tenant_id=DEFAULT_TENANT_DOMAIN).token
    monkeypatch.setenv("AZURE_ADDITIONALLY_ALLOWED_TENANTS",
                       f"other.example;{DEFAULT_TENANT_DOMAIN}")
    assert EntraTokenCredential(app, clock=emu.now).get_token(
        USER_READ, tenant_id=DEFAULT_TENANT_DOMAIN).token
    # an explicit list replaces the variable (as in azure-identity)
    with pytest.raises(TenantNotAllowedError):
        EntraTokenCredential(app, clock=emu.now, additionally_allowed_tenants=[]).get_token(
            USER_READ, tenant_id=DEFAULT_TENANT_DOMAIN)
    monkeypatch.setenv("AZURE_ADDITIONALLY_ALLOWED_TENANTS", "ok.example;x/../y")
    with pytest.raises(ValueError, match="additionally_allowed_tenants"):
        EntraTokenCredential(app)
    with pytest.raises(TypeError):
        EntraTokenCredential(app, additionally_allowed_tenants="*")


def test_app_only_and_async_credentials_apply_the_same_rule(
        entra_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    emu = entra_emulator
    monkeypatch.delenv("AZURE_ADDITIONALLY_ALLOWED_TENANTS", raising=False)
    confidential = entra_auth.ConfidentialClientApplication(
        WEB_APP_ID, client_credential=WEB_APP_SECRET, authority=emu.authority(),
        http_client=emu.requests_session(), instance_discovery=False)
    emu.clear_log()
    with pytest.raises(TenantNotAllowedError):
        EntraTokenCredential(confidential).get_token(USER_READ, tenant_id="other.example")
    sync_app = _signed_in(emu)

    async def run() -> list[Any]:
        outcomes: list[Any] = []
        app = aio.PublicClientApplication(
            PUBLIC_CLIENT_ID, authority=emu.authority(), verify=emu.ca_bundle,
            instance_discovery=False, token_cache=sync_app.token_cache)
        async with app, aio.EntraTokenCredential(app, clock=emu.now) as credential:
            for tenant in ("attacker.example", "x/../../y"):
                try:
                    await credential.get_token(USER_READ, tenant_id=tenant, claims="{}")
                except (TenantNotAllowedError, ValueError) as exc:
                    # With azure-core installed the class is a subclass that is also its
                    # ClientAuthenticationError (issue 16.3): compare by what it is.
                    outcomes.append(TenantNotAllowedError
                                    if isinstance(exc, TenantNotAllowedError) else type(exc))
            allowed = aio.EntraTokenCredential(
                app, clock=emu.now, additionally_allowed_tenants=[DEFAULT_TENANT_DOMAIN])
            outcomes.append(bool((await allowed.get_token(
                USER_READ, tenant_id=DEFAULT_TENANT_DOMAIN)).token))
        return outcomes

    emu.clear_log()
    assert asyncio.run(run()) == [TenantNotAllowedError, ValueError, True]
    assert not any("attacker" in p or "/y/" in p for p in _sent(emu))
