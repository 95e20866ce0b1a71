"""Azure CLI / azd / entra-auth login credentials: fake tools on PATH, a cache written by msal."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import azure.identity
import msal
import pytest
from azure.core.exceptions import ClientAuthenticationError

from entra_auth import AzureCliCredential, AzureDeveloperCliCredential, EntraAuthCliCredential
from entra_auth.azure.credential import TenantNotAllowedError
from entra_auth.errors import CredentialUnavailableError
from entra_auth.testing import PUBLIC_CLIENT_ID, Emulator

from .conftest import write_tool

AZ_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
ARM = "https://management.core.windows.net//.default"
USER = "dev@contoso.com"
# A fake az: records its argv, then prints $FAKE_AZ_OUT / exits $FAKE_AZ_CODE with stderr.
RECORDING_TOOL = """
import json, os, sys, time
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
time.sleep(float(os.environ.get("FAKE_SLEEP", "0")))
sys.stderr.write(os.environ.get("FAKE_ERR", ""))
sys.stdout.write(os.environ.get("FAKE_OUT", ""))
sys.exit(int(os.environ.get("FAKE_CODE", "0")))
"""


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def write_az_login(config: Path, *, access_token: str, expires_in: int,
                   username: str = USER) -> None:
    """What `az login` leaves behind: azureProfile.json (with its BOM) and msal's cache."""
    now = int(time.time())
    id_token = b64({"alg": "none"}) + "." + b64({
        "iss": f"https://login.microsoftonline.com/{TENANT}/v2.0", "aud": AZ_CLIENT_ID,
        "tid": TENANT, "oid": "o1", "sub": "s", "preferred_username": username,
        "iat": now, "exp": now + 3600}) + "."
    cache = msal.SerializableTokenCache()
    cache.add({
        "client_id": AZ_CLIENT_ID, "scope": [ARM],
        "token_endpoint": f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token",
        "response": {"access_token": access_token, "expires_in": expires_in,
                     "token_type": "Bearer", "refresh_token": "rt-secret",
                     "client_info": b64({"uid": "o1", "utid": TENANT}), "id_token": id_token}})
    (config / "msal_token_cache.json").write_text(cache.serialize())
    profile = {"subscriptions": [{"id": "sub", "name": "s", "isDefault": True,
                                  "tenantId": TENANT, "environmentName": "AzureCloud",
                                  "user": {"name": username, "type": "user"}}]}
    (config / "azureProfile.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(profile).encode())


def fake_tool(env: dict[str, str], tmp_path: Path, name: str, **outcome: str) -> Path:
    write_tool(Path(env["PATH"]), name, RECORDING_TOOL)
    log = tmp_path / f"{name}.log"
    env["FAKE_LOG"] = str(log)
    env.update({f"FAKE_{k.upper()}": v for k, v in outcome.items()})
    return log


def calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def digest(path: Path) -> tuple[str, float]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime


def test_az_token_served_from_its_msal_cache_read_only(isolated: dict[str, str],
                                                       tmp_path: Path) -> None:
    config = Path(isolated["AZURE_CONFIG_DIR"])
    write_az_login(config, access_token="cached-arm-token", expires_in=3600)
    before = digest(config / "msal_token_cache.json")
    log = fake_tool(isolated, tmp_path, "az", code="3", err="should not run")
    credential = AzureCliCredential(environ=isolated)
    info = credential.get_token_info(ARM)
    assert info.token == "cached-arm-token" and credential.last_source == "cache"
    assert abs(info.expires_on - (time.time() + 3600)) < 5
    assert info.refresh_on is not None and info.refresh_on < info.expires_on
    assert calls(log) == []
    assert digest(config / "msal_token_cache.json") == before  # never written


def test_az_runs_when_the_cached_token_is_nearly_expired(isolated: dict[str, str],
                                                         tmp_path: Path) -> None:
    write_az_login(Path(isolated["AZURE_CONFIG_DIR"]), access_token="old", expires_in=200)
    out = json.dumps({"accessToken": "fresh-from-az", "expires_on": int(time.time()) + 3000,
                      "tokenType": "Bearer", "tenant": TENANT})
    log = fake_tool(isolated, tmp_path, "az", out=out)
    credential = AzureCliCredential(environ=isolated, additionally_allowed_tenants=["t2.com"])
    assert credential.get_token(ARM).token == "fresh-from-az"
    assert credential.last_source == "az"
    assert credential.get_token(ARM, tenant_id="t2.com").token == "fresh-from-az"
    assert calls(log) == [
        ["account", "get-access-token", "--output", "json", "--scope", ARM],
        ["account", "get-access-token", "--output", "json", "--scope", ARM, "--tenant",
         "t2.com"]]
    with pytest.raises(TenantNotAllowedError):
        credential.get_token(ARM, tenant_id="someone-else.com")
    with pytest.raises(ValueError):
        credential.get_token("https://x/.default; rm -rf /")
    assert len(calls(log)) == 2


def test_another_users_account_or_tenant_is_not_served(isolated: dict[str, str],
                                                       tmp_path: Path) -> None:
    write_az_login(Path(isolated["AZURE_CONFIG_DIR"]), access_token="cached", expires_in=3600)
    out = json.dumps({"accessToken": "from-az", "expires_on": int(time.time()) + 3000})
    fake_tool(isolated, tmp_path, "az", out=out)
    credential = AzureCliCredential(environ=isolated, tenant_id="other.onmicrosoft.com")
    assert credential.get_token(ARM).token == "from-az"  # the cached one is another tenant's
    assert AzureCliCredential(environ=isolated).get_token(
        "https://vault.azure.net/.default").token == "from-az"  # not cached for this scope


@pytest.mark.parametrize(("tool", "outcome", "why"), [
    ("", {}, "not installed"),
    ("az", {"code": "1", "err": "ERROR: Please run 'az login' to setup account.\n"},
     "not signed in"),
    ("az", {"sleep": "5"}, "did not answer"),
])
def test_az_unavailable_moves_a_chain_on(isolated: dict[str, str], tmp_path: Path, tool: str,
                                         outcome: dict[str, str], why: str) -> None:
    if tool:
        fake_tool(isolated, tmp_path, tool, **outcome)
    credential = AzureCliCredential(environ=isolated, process_timeout=0.5)
    with pytest.raises(CredentialUnavailableError) as caught:
        credential.get_token(ARM)
    assert why in str(caught.value)
    assert isinstance(caught.value, azure.identity.CredentialUnavailableError)


def test_az_failure_is_an_error_without_token_text(isolated: dict[str, str],
                                                   tmp_path: Path) -> None:
    leaked = "eyJ0eXAiOiJKV1Qi.eyJzdWIiOiJ4In0.c2ln"
    fake_tool(isolated, tmp_path, "az", code="1",
              err=f"ERROR: AADSTS50076: MFA required for {leaked}\n")
    with pytest.raises(ClientAuthenticationError) as caught:
        AzureCliCredential(environ=isolated).get_token(ARM)
    assert not isinstance(caught.value, CredentialUnavailableError)
    assert "AADSTS50076" in str(caught.value) and leaked not in str(caught.value)
    fake_tool(isolated, tmp_path, "az", code="0", out="not json", err="")
    with pytest.raises(ClientAuthenticationError, match="no JSON"):
        AzureCliCredential(environ=isolated).get_token(ARM)


def test_azd_token(isolated: dict[str, str], tmp_path: Path) -> None:
    out = json.dumps({"token": "azd-token", "expiresOn": "2099-01-01T00:00:00Z"})
    log = fake_tool(isolated, tmp_path, "azd", out=out)
    credential = AzureDeveloperCliCredential(environ=isolated, tenant_id="contoso.com")
    token = credential.get_token(ARM)
    assert token.token == "azd-token" and token.expires_on == 4070908800
    assert calls(log) == [["auth", "token", "--output", "json", "--no-prompt", "--scope", ARM,
                           "--tenant-id", "contoso.com"]]
    fake_tool(isolated, tmp_path, "azd", code="1",
              err="ERROR: not logged in, run `azd auth login` to login\n")
    with pytest.raises(CredentialUnavailableError, match="azd auth login"):
        credential.get_token(ARM)


def test_entra_auth_login_cache(isolated: dict[str, str], entra_emulator: Emulator) -> None:
    cache_file = Path(isolated["XDG_CONFIG_HOME"]) / "entra-auth" / "token_cache.json"
    env = dict(isolated, ENTRA_AUTH_CLIENT_ID=PUBLIC_CLIENT_ID,
               ENTRA_AUTH_AUTHORITY=entra_emulator.authority(),
               ENTRA_AUTH_CA_BUNDLE=str(entra_emulator.ca_bundle))
    with pytest.raises(CredentialUnavailableError, match="entra-auth login"):
        EntraAuthCliCredential(environ=env).get_token("User.Read")
    # What `entra-auth login` does: a public client app over the persistent file cache.
    from entra_auth import FileTokenCache, PublicClientApplication

    cache_file.parent.mkdir(parents=True)
    app = PublicClientApplication(PUBLIC_CLIENT_ID, authority=entra_emulator.authority(),
                                  token_cache=FileTokenCache(str(cache_file)),
                                  verify=entra_emulator.ca_bundle)
    assert "access_token" in app.acquire_token_by_username_password(
        "alice@contoso.onmicrosoft.com", "alice-password", scopes=["User.Read"])
    token = EntraAuthCliCredential(environ=env).get_token(
        "https://graph.microsoft.com/User.Read")
    assert token.token.startswith("ey")
    entra_emulator.revoke_sessions("alice@contoso.onmicrosoft.com")
    with pytest.raises(CredentialUnavailableError, match="entra-auth login"):
        EntraAuthCliCredential(environ=env).get_token("https://graph.microsoft.com/Mail.Read")
