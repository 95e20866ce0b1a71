"""Developer sign-ins as credentials: ``entra-auth login``, the Azure CLI, the Azure Developer CLI.

:class:`AzureCliCredential` serves unexpired tokens straight from the Azure CLI's plaintext
MSAL cache (no second-long ``az`` process per token) and otherwise runs
``az account get-access-token``; :class:`AzureDeveloperCliCredential` runs ``azd auth token``.
Both run the tool without a shell, with a time limit, and report "not installed" and "not
signed in" as unavailable (a chain moves on). :class:`EntraAuthCliCredential` uses the token
cache of ``entra-auth login``.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..errors import (
    CacheError,
    CredentialUnavailableError,
    InteractionRequiredError,
    TokenRequestError,
)
from ._base import SourceCredential, make_info, single_resource, unavailable
from ._cli_cache import find_token
from .credential import AccessTokenInfo

__all__ = ["AzureCliCredential", "AzureDeveloperCliCredential", "EntraAuthCliCredential"]

DEFAULT_PROCESS_TIMEOUT = 10.0
_JWT = re.compile(r"ey[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_.-]*")


def _brief(text: str) -> str:
    """The first meaningful line of a tool's stderr, without anything token-shaped."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    line = next((ln for ln in lines if ln.upper().startswith("ERROR")), lines[0] if lines else "")
    return _JWT.sub("<redacted>", line)[:300]


def _run(argv: list[str], timeout: float, what: str, login_hint: str,
         environ: Mapping[str, str] | None) -> str:
    """Run a CLI (no shell, bounded time) and return its stdout.

    Raises:
        CredentialUnavailableError: Not installed, timed out, or not signed in.
        TokenRequestError: The tool failed for another reason.
    """
    env = dict(os.environ if environ is None else environ)
    executable = shutil.which(argv[0], path=env.get("PATH"))
    if executable is None:
        raise unavailable(f"{what} is not installed (no {argv[0]!r} on PATH)")
    # A fixed working directory: never pick up configuration from wherever the app runs.
    cwd = env.get("SYSTEMROOT", "C:\\Windows") if os.name == "nt" else "/"
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell, resolved executable
            [executable, *argv[1:]], capture_output=True, text=True, timeout=timeout,
            stdin=subprocess.DEVNULL, env=env, cwd=cwd, check=False)
    except subprocess.TimeoutExpired:
        raise unavailable(f"{what} did not answer within {timeout:g} s") from None
    except OSError as exc:
        raise unavailable(f"{what} could not be run: {exc.strerror}") from None
    if done.returncode != 0:
        brief = _brief(done.stderr or "")
        if login_hint in (done.stderr or "") or "not logged in" in brief.lower():
            raise unavailable(f"{what} is not signed in; run `{login_hint}`")
        raise TokenRequestError(f"{argv[0]}_failed", f"{what} failed: {brief or 'no output'}")
    return done.stdout


def _parse_json(stdout: str, what: str) -> Mapping[str, Any]:
    try:
        data = json.loads(stdout)
    except ValueError:
        data = None
    if not isinstance(data, Mapping):
        raise TokenRequestError("bad_cli_output", f"{what} printed no JSON token")
    return data


class AzureCliCredential(SourceCredential):
    """Tokens of the Azure CLI's signed-in account (``az login``), azure-identity's
    ``AzureCliCredential``.

    Args:
        tenant_id: Tenant to get tokens from (default: the CLI's current one).
        additionally_allowed_tenants: Other tenants ``get_token(tenant_id=...)`` may name.
        process_timeout: Seconds to wait for ``az``.
        use_token_cache: Serve unexpired tokens from the CLI's plaintext cache file.
        clock: Seconds since the epoch.
        environ: Environment to read (``PATH``, ``AZURE_CONFIG_DIR``) instead of
            ``os.environ``.
    """

    name = "AzureCliCredential"

    def __init__(self, *, tenant_id: str | None = None,
                 additionally_allowed_tenants: Iterable[str] | None = None,
                 process_timeout: float = DEFAULT_PROCESS_TIMEOUT, use_token_cache: bool = True,
                 clock: Callable[[], float] = time.time,
                 environ: Mapping[str, str] | None = None) -> None:
        super().__init__(tenant_id=tenant_id,
                         additionally_allowed_tenants=additionally_allowed_tenants)
        self.process_timeout = process_timeout
        self.use_token_cache = use_token_cache
        self.clock = clock
        self.environ = environ
        self.last_source = ""  # "cache" or "az": where the last token came from

    def _token_info(self, scopes: tuple[str, ...], claims: str | None, tenant_id: str | None,
                    enable_cae: bool) -> AccessTokenInfo:
        scope = single_resource(scopes, "the Azure CLI")
        tenant = self._tenant(tenant_id)
        if claims:
            raise unavailable("the Azure CLI can't answer a claims challenge here; run "
                              "`az login --claims-challenge ...` and try again")
        if self.use_token_cache:
            cached = find_token((scope,), tenant, self.clock(), self.environ)
            if cached is not None:
                self.last_source = "cache"
                return make_info(cached.token, cached.expires_on)
        argv = ["az", "account", "get-access-token", "--output", "json", "--scope", scope]
        if tenant:
            argv += ["--tenant", tenant]
        data = _parse_json(_run(argv, self.process_timeout, "the Azure CLI", "az login",
                                self.environ), "az account get-access-token")
        token = data.get("accessToken")
        expires_on = data.get("expires_on")
        if not isinstance(expires_on, (int, float)) or isinstance(expires_on, bool):
            expires_on = _local_time(data.get("expiresOn"))
        if not isinstance(token, str) or not token or expires_on is None:
            raise TokenRequestError("bad_cli_output", "az account get-access-token printed "
                                    "no accessToken/expires_on")
        self.last_source = "az"
        return make_info(token, float(expires_on))


def _local_time(value: object) -> float | None:
    # Older az versions print only "expiresOn": "2024-01-01 12:00:00.000000" (local time)
    if not isinstance(value, str):
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return time.mktime(time.strptime(value[:26], fmt))
        except ValueError:
            continue
    return None


def _rfc3339(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.timestamp()


class AzureDeveloperCliCredential(SourceCredential):
    """Tokens of the Azure Developer CLI's signed-in account (``azd auth login``),
    azure-identity's ``AzureDeveloperCliCredential``. Arguments as :class:`AzureCliCredential`
    (without the cache)."""

    name = "AzureDeveloperCliCredential"

    def __init__(self, *, tenant_id: str | None = None,
                 additionally_allowed_tenants: Iterable[str] | None = None,
                 process_timeout: float = DEFAULT_PROCESS_TIMEOUT,
                 environ: Mapping[str, str] | None = None) -> None:
        super().__init__(tenant_id=tenant_id,
                         additionally_allowed_tenants=additionally_allowed_tenants)
        self.process_timeout = process_timeout
        self.environ = environ

    def _token_info(self, scopes: tuple[str, ...], claims: str | None, tenant_id: str | None,
                    enable_cae: bool) -> AccessTokenInfo:
        argv = ["azd", "auth", "token", "--output", "json", "--no-prompt"]
        for scope in scopes:
            argv += ["--scope", single_resource((scope,), "the Azure Developer CLI")]
        tenant = self._tenant(tenant_id)
        if tenant:
            argv += ["--tenant-id", tenant]
        if claims:
            raise unavailable("the Azure Developer CLI can't answer a claims challenge here; "
                              "run `azd auth login` again")
        data = _parse_json(_run(argv, self.process_timeout, "the Azure Developer CLI",
                                "azd auth login", self.environ), "azd auth token")
        token, expires_on = data.get("token"), _rfc3339(data.get("expiresOn"))
        if not isinstance(token, str) or not token or expires_on is None:
            raise TokenRequestError("bad_cli_output",
                                    "azd auth token printed no token/expiresOn")
        return make_info(token, expires_on)


class EntraAuthCliCredential(SourceCredential):
    """Tokens of the account signed in with ``entra-auth login`` (its persistent cache).

    Reads the CLI's settings: ``ENTRA_AUTH_CACHE_FILE``, ``ENTRA_AUTH_CLIENT_ID``,
    ``ENTRA_AUTH_AUTHORITY``, ``ENTRA_AUTH_USERNAME``, ``ENTRA_AUTH_CA_BUNDLE``. Refreshes
    silently with the cached refresh token; never prompts.

    Args:
        additionally_allowed_tenants: Other tenants ``get_token(tenant_id=...)`` may name.
        environ: Environment to read instead of ``os.environ``.
    """

    name = "EntraAuthCliCredential"

    def __init__(self, *, additionally_allowed_tenants: Iterable[str] | None = None,
                 environ: Mapping[str, str] | None = None) -> None:
        super().__init__(additionally_allowed_tenants=additionally_allowed_tenants)
        self._additional = additionally_allowed_tenants
        self.environ = os.environ if environ is None else environ
        self._inner: Any = None
        self._lock = threading.Lock()

    def _credential(self) -> Any:
        from ..commands._common import DEFAULT_AUTHORITY, DEFAULT_CLIENT_ID, config_dir

        env = self.environ
        path = env.get("ENTRA_AUTH_CACHE_FILE") or os.path.join(config_dir(env),
                                                                 "token_cache.json")
        if not os.path.isfile(path):
            raise unavailable("no `entra-auth login` sign-in on this machine "
                              f"({path} does not exist)")
        with self._lock:
            if self._inner is None:
                from ..application import PublicClientApplication
                from ..cache.file_cache import FileTokenCache
                from .credential import EntraTokenCredential

                app = PublicClientApplication(
                    env.get("ENTRA_AUTH_CLIENT_ID") or DEFAULT_CLIENT_ID,
                    authority=env.get("ENTRA_AUTH_AUTHORITY") or DEFAULT_AUTHORITY,
                    token_cache=FileTokenCache(path),
                    verify=env.get("ENTRA_AUTH_CA_BUNDLE") or env.get("REQUESTS_CA_BUNDLE")
                    or True)
                self._inner = EntraTokenCredential(
                    app, account=env.get("ENTRA_AUTH_USERNAME") or None,
                    additionally_allowed_tenants=self._additional)
            return self._inner

    def _token_info(self, scopes: tuple[str, ...], claims: str | None, tenant_id: str | None,
                    enable_cae: bool) -> AccessTokenInfo:
        credential = self._credential()
        options: dict[str, Any] = {"enable_cae": enable_cae}
        if claims:
            options["claims"] = claims
        if tenant_id:
            options["tenant_id"] = tenant_id
        try:
            info: AccessTokenInfo = credential.get_token_info(*scopes, options=options)
        except InteractionRequiredError as exc:
            raise unavailable(f"`entra-auth login` has no usable sign-in ({exc.error}); run "
                              "`entra-auth login` again") from None
        except CacheError as exc:
            raise CredentialUnavailableError(
                f"the `entra-auth login` token cache can't be used: {exc.error}") from None
        return info
