"""Read unexpired access tokens from the Azure CLI's own MSAL token cache (read-only).

The Azure CLI keeps ``msal_token_cache.json`` (plaintext on Linux and macOS; Windows has an
encrypted ``.bin``) and ``azureProfile.json`` in ``$AZURE_CONFIG_DIR`` (default ``~/.azure``).
The token of the CLI's current account, for the requested tenant and scope, with more than five
minutes left, is served from there; anything else is left to ``az`` itself. This module never
writes either file, and skips a cache another user owns.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["AZURE_CLI_CLIENT_ID", "CachedToken", "azure_config_dir", "find_token"]

# The Azure CLI's public client id (its tokens are filed under it)
AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
# A token with less left is one the CLI itself would refresh
MIN_REMAINING = 300.0
_MAX_FILE = 64 * 1024 * 1024

# Azure CLI cloud name -> token cache "environment" values of that cloud
_CLOUD_HOSTS: dict[str, frozenset[str]] = {
    "azurecloud": frozenset({"login.microsoftonline.com", "login.windows.net",
                             "login.microsoft.com", "sts.windows.net"}),
    "azurechinacloud": frozenset({"login.chinacloudapi.cn", "login.partner.microsoftonline.cn"}),
    "azureusgovernment": frozenset({"login.microsoftonline.us", "login.usgovcloudapi.net"}),
}


@dataclass(frozen=True)
class CachedToken:
    """An access token found in the Azure CLI's cache."""

    token: str
    expires_on: float
    tenant_id: str

    def __repr__(self) -> str:
        return f"CachedToken(expires_on={self.expires_on:.0f}, tenant_id={self.tenant_id!r})"


def azure_config_dir(environ: Mapping[str, str] | None = None) -> str:
    """``$AZURE_CONFIG_DIR``, else ``~/.azure``."""
    env = os.environ if environ is None else environ
    return env.get("AZURE_CONFIG_DIR") or os.path.join(os.path.expanduser("~"), ".azure")


def _load(path: str) -> Any:
    """The JSON in ``path``, or None when it is absent, foreign, too big or not JSON."""
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_FILE:
                return None
            if hasattr(os, "getuid") and info.st_uid != os.getuid():
                return None  # someone else's cache is not ours to trust
            data = handle.read()
        return json.loads(data.decode("utf-8-sig"))  # azureProfile.json starts with a BOM
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _current_account(profile: Any) -> tuple[str, str, str, str] | None:
    """(user name, user type, tenant id, cloud name) of the CLI's default subscription."""
    if not isinstance(profile, Mapping):
        return None
    subscriptions = profile.get("subscriptions")
    if not isinstance(subscriptions, list):
        return None
    for sub in subscriptions:
        if isinstance(sub, Mapping) and sub.get("isDefault") is True:
            user = sub.get("user")
            tenant = sub.get("tenantId")
            if isinstance(user, Mapping) and isinstance(user.get("name"), str) and isinstance(
                    tenant, str):
                return (user["name"], str(user.get("type") or "user"), tenant,
                        str(sub.get("environmentName") or "AzureCloud"))
    return None


def _scopes_of(target: object) -> frozenset[str]:
    return frozenset(str(target).lower().split()) if isinstance(target, str) else frozenset()


def find_token(
    scopes: tuple[str, ...], tenant_id: str | None, now: float,
    environ: Mapping[str, str] | None = None,
) -> CachedToken | None:
    """The Azure CLI's cached access token for ``scopes`` in ``tenant_id`` (default: the CLI's
    current tenant), if it has more than :data:`MIN_REMAINING` seconds left; else None."""
    directory = azure_config_dir(environ)
    current = _current_account(_load(os.path.join(directory, "azureProfile.json")))
    if current is None:
        return None
    username, user_type, profile_tenant, cloud = current
    hosts = _CLOUD_HOSTS.get(cloud.lower())
    cache = _load(os.path.join(directory, "msal_token_cache.json"))
    if hosts is None or not isinstance(cache, Mapping):
        return None
    tenant = (tenant_id or profile_tenant).lower()
    if user_type.lower() == "serviceprincipal":
        client_id, homes = username.lower(), {""}
    else:
        client_id = AZURE_CLI_CLIENT_ID
        accounts = cache.get("Account")
        homes = {str(a.get("home_account_id", "")).lower()
                 for a in (accounts.values() if isinstance(accounts, Mapping) else ())
                 if isinstance(a, Mapping)
                 and str(a.get("username", "")).lower() == username.lower()}
        if not homes:
            return None
    wanted = frozenset(s.lower() for s in scopes)
    best: CachedToken | None = None
    tokens = cache.get("AccessToken")
    for entry in tokens.values() if isinstance(tokens, Mapping) else ():
        if not isinstance(entry, Mapping):
            continue
        try:
            expires_on = float(entry.get("expires_on", 0))
        except (TypeError, ValueError):
            continue
        secret = entry.get("secret")
        if (isinstance(secret, str) and secret
                and str(entry.get("client_id", "")).lower() == client_id
                and str(entry.get("home_account_id", "")).lower() in homes
                and str(entry.get("realm", "")).lower() == tenant
                and str(entry.get("environment", "")).lower() in hosts
                and str(entry.get("token_type", "Bearer")).lower() == "bearer"
                and wanted <= _scopes_of(entry.get("target"))
                and expires_on - now > MIN_REMAINING
                and (best is None or expires_on > best.expires_on)):
            best = CachedToken(secret, expires_on, str(entry.get("realm")))
    return best
