"""One credential from laptop to cloud: azure-identity's ``DefaultAzureCredential`` order.

environment → workload identity → managed identity → developer sign-ins (``entra-auth login``,
the Azure CLI, the Azure Developer CLI) → interactive browser (off by default). Each source that
has nothing to offer says why, fast; the first that gives a token is remembered and used from
then on. ``AZURE_TOKEN_CREDENTIALS`` (``dev``, ``prod`` or one credential's name) narrows the
chain as in azure-identity.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import CredentialUnavailableError, EntraAuthError
from ..protocol.messages import app_call
from ..transport.driver import run_sync
from ._base import SourceCredential, unavailable
from .credential import AccessTokenInfo, EntraTokenCredential, token_request_options

if TYPE_CHECKING:
    from ..protocol.client_app import SyncPublicApp

__all__ = ["TOKEN_CREDENTIALS_ENV", "ChainedCredential", "DefaultAzureCredential",
           "DefaultCredentialError"]

TOKEN_CREDENTIALS_ENV = "AZURE_TOKEN_CREDENTIALS"
_PROD = ("EnvironmentCredential", "WorkloadIdentityCredential", "ManagedIdentityCredential")
_DEV = ("EntraAuthCliCredential", "AzureCliCredential", "AzureDeveloperCliCredential",
        "InteractiveBrowserCredential")
ORDER = _PROD + _DEV
# azure-identity's sources entra_auth does not have: accepted by name so a shared
# AZURE_TOKEN_CREDENTIALS setting does not break, and reported as unavailable.
_NOT_HERE = ("AzurePowerShellCredential", "VisualStudioCodeCredential",
             "SharedTokenCacheCredential", "BrokerCredential")


class DefaultCredentialError(CredentialUnavailableError):
    """No source in the chain had a token. ``attempts`` holds ``(source, why)`` per source."""

    def __init__(self, attempts: list[tuple[str, str]]) -> None:
        lines = "".join(f"\n  {name}: {why}" for name, why in attempts)
        super().__init__("no credential in the chain could get a token; tried:" + lines
                         + "\nSee docs/from-azure-identity.md for configuring each source.",
                         "credential_chain_exhausted")
        self.attempts = list(attempts)


class ChainedCredential(SourceCredential):
    """Try credentials in order; remember the first that gives a token.

    A member that raises "unavailable" (ours, or azure-identity's
    ``CredentialUnavailableError``) is skipped; any other failure ends the attempt.

    Args:
        credentials: Azure SDK credentials (entra_auth's or azure-identity's), in order.
    """

    name = "ChainedCredential"

    def __init__(self, *credentials: Any) -> None:
        super().__init__()
        if not credentials:
            raise ValueError("a chain needs at least one credential")
        self.credentials = list(credentials)
        self._successful: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        names = ", ".join(_name(c) for c in self.credentials)
        return f"{type(self).__name__}({names})"

    @property
    def successful_credential(self) -> Any:
        """The member that gave the first token (used from then on), or None."""
        return self._successful

    def _token_info(self, scopes: tuple[str, ...], claims: str | None, tenant_id: str | None,
                    enable_cae: bool) -> AccessTokenInfo:
        options = token_request_options(claims, tenant_id, enable_cae)
        chosen = self._successful
        if chosen is not None:
            return _ask(chosen, scopes, options)
        attempts: list[tuple[str, str]] = []
        for credential in self.credentials:
            try:
                info = _ask(credential, scopes, options)
            except Exception as exc:
                if not _is_unavailable(exc):
                    raise
                attempts.append((_name(credential), _why(exc)))
                continue
            with self._lock:
                if self._successful is None:
                    self._successful = credential
            return info
        raise DefaultCredentialError(attempts)

    def close(self) -> None:
        """Close every member."""
        for credential in self.credentials:
            close = getattr(credential, "close", None)
            if callable(close):
                close()

    def acquire_token_for_client(self, scopes: list[str], claims_challenge: str | None = None,
                                 **kwargs: Any) -> dict[str, Any]:
        """An MSAL-style result dict, so the chain can be the application behind
        :class:`~entra_auth.EntraAuth` (``EntraAuth(DefaultAzureCredential(), scopes=...)``).

        Returns:
            ``{"access_token", "token_type", "expires_in", "refresh_on"}``, or ``{"error",
            "error_description"}`` when no source could get a token.
        """
        options: dict[str, Any] = {"claims": claims_challenge} if claims_challenge else {}
        try:
            info = self.get_token_info(*scopes, options=options)  # type: ignore[arg-type]
        except EntraAuthError as exc:
            return {"error": exc.error, "error_description": exc.error_description or ""}
        return {"access_token": info.token, "token_type": info.token_type,
                "expires_in": max(int(info.expires_on - time.time()), 0),
                "refresh_on": info.refresh_on}


def _ask(credential: Any, scopes: tuple[str, ...],
         options: Mapping[str, Any]) -> AccessTokenInfo:
    if hasattr(credential, "get_token_info"):
        info: AccessTokenInfo = credential.get_token_info(*scopes, options=dict(options))
        return info
    token = credential.get_token(*scopes, claims=options.get("claims"),
                                 tenant_id=options.get("tenant_id"),
                                 enable_cae=bool(options.get("enable_cae")))
    from ._base import make_info

    return make_info(token.token, token.expires_on)


def _is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, CredentialUnavailableError):
        return True
    # azure-identity's own (its chain and ours treat it alike), without importing it
    return any(cls.__name__ == "CredentialUnavailableError"
               and cls.__module__.startswith("azure.identity") for cls in type(exc).__mro__)


def _name(credential: Any) -> str:
    return str(getattr(credential, "name", "") or type(credential).__name__)


def _why(exc: BaseException) -> str:
    if isinstance(exc, EntraAuthError):
        return str(exc.error_description or exc.error)
    return str(getattr(exc, "message", None) or exc).splitlines()[0][:300]


class _NotHere(SourceCredential):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def _token_info(self, scopes: tuple[str, ...], claims: str | None, tenant_id: str | None,
                    enable_cae: bool) -> AccessTokenInfo:
        raise unavailable(f"entra_auth has no {self.name}; see docs/from-azure-identity.md")


def _selected(value: str | None) -> tuple[str, ...] | None:
    """The credential names ``AZURE_TOKEN_CREDENTIALS`` selects (None: no selection).

    Raises:
        ValueError: a value that is neither dev, prod nor a credential name.
    """
    if value is None or not value.strip():
        return None
    key = value.strip().lower()
    if key == "dev":
        return _DEV
    if key == "prod":
        return _PROD
    for name in ORDER + _NOT_HERE:
        if name.lower() == key:
            return (name,)
    raise ValueError(
        f"{TOKEN_CREDENTIALS_ENV}={value!r}: expected 'dev', 'prod' or one of "
        + ", ".join(ORDER + _NOT_HERE))


class DefaultAzureCredential(ChainedCredential):
    """azure-identity's ``DefaultAzureCredential``, from entra_auth's parts.

    Example::

        credential = entra_auth.DefaultAzureCredential()
        token = credential.get_token("https://management.azure.com/.default")
        session.auth = entra_auth.EntraAuth(credential, scopes=[GRAPH_DEFAULT])

    Order: :class:`~entra_auth.azure.service_credentials.EnvironmentCredential`,
    ``WorkloadIdentityCredential``, ``ManagedIdentityCredential``,
    :class:`~entra_auth.azure.developer_credentials.EntraAuthCliCredential`,
    ``AzureCliCredential``, ``AzureDeveloperCliCredential``, and (only when
    ``exclude_interactive_browser_credential=False``) an interactive browser sign-in.

    Args:
        exclude_environment_credential: Skip the environment's service principal.
        exclude_workload_identity_credential: Skip workload identity.
        exclude_managed_identity_credential: Skip managed identity.
        exclude_entra_auth_cli_credential: Skip ``entra-auth login``'s cache.
        exclude_cli_credential: Skip the Azure CLI.
        exclude_developer_cli_credential: Skip the Azure Developer CLI.
        exclude_interactive_browser_credential: Skip the browser (default True).
        managed_identity_client_id: A user-assigned identity (default ``AZURE_CLIENT_ID``).
        workload_identity_client_id: Overrides ``AZURE_CLIENT_ID`` for workload identity.
        workload_identity_tenant_id: Overrides ``AZURE_TENANT_ID`` for workload identity.
        interactive_browser_client_id: Public client for the browser sign-in.
        interactive_browser_tenant_id: Its tenant (default ``organizations``).
        additionally_allowed_tenants: Tenants besides each source's own that
            ``get_token(tenant_id=...)`` may name (default
            ``AZURE_ADDITIONALLY_ALLOWED_TENANTS``).
        process_timeout: Seconds to wait for ``az``/``azd``.
        managed_identity_probe_timeout: Seconds the first IMDS request may take (default 1).
        clock: Seconds since the epoch (token expiry decisions).
        environ: Variables to read instead of ``os.environ`` (tests).
        **ignored_excludes: azure-identity's ``exclude_shared_token_cache_credential``,
            ``exclude_visual_studio_code_credential``, ``exclude_powershell_credential``,
            ``exclude_broker_credential``: those sources are not in this chain.

    Raises:
        ValueError: An invalid ``AZURE_TOKEN_CREDENTIALS``, every source excluded, or an
            unknown keyword argument.
    """

    name = "DefaultAzureCredential"

    def __init__(
        self,
        *,
        exclude_environment_credential: bool = False,
        exclude_workload_identity_credential: bool = False,
        exclude_managed_identity_credential: bool = False,
        exclude_entra_auth_cli_credential: bool = False,
        exclude_cli_credential: bool = False,
        exclude_developer_cli_credential: bool = False,
        exclude_interactive_browser_credential: bool = True,
        managed_identity_client_id: str | None = None,
        workload_identity_client_id: str | None = None,
        workload_identity_tenant_id: str | None = None,
        interactive_browser_client_id: str | None = None,
        interactive_browser_tenant_id: str | None = None,
        additionally_allowed_tenants: Iterable[str] | None = None,
        process_timeout: float = 10.0,
        managed_identity_probe_timeout: float = 1.0,
        clock: Callable[[], float] = time.time,
        environ: Mapping[str, str] | None = None,
        **ignored_excludes: bool,
    ) -> None:
        from .developer_credentials import (
            AzureCliCredential,
            AzureDeveloperCliCredential,
            EntraAuthCliCredential,
        )
        from .service_credentials import (
            EnvironmentCredential,
            ManagedIdentityCredential,
            WorkloadIdentityCredential,
        )

        unknown = set(ignored_excludes) - {
            "exclude_shared_token_cache_credential", "exclude_visual_studio_code_credential",
            "exclude_powershell_credential", "exclude_broker_credential"}
        if unknown:
            raise TypeError("DefaultAzureCredential got unexpected keyword arguments: "
                            + ", ".join(sorted(unknown)))
        env = os.environ if environ is None else environ
        selected = _selected(env.get(TOKEN_CREDENTIALS_ENV))
        excluded = {
            "EnvironmentCredential": exclude_environment_credential,
            "WorkloadIdentityCredential": exclude_workload_identity_credential,
            "ManagedIdentityCredential": exclude_managed_identity_credential,
            "EntraAuthCliCredential": exclude_entra_auth_cli_credential,
            "AzureCliCredential": exclude_cli_credential,
            "AzureDeveloperCliCredential": exclude_developer_cli_credential,
            "InteractiveBrowserCredential": exclude_interactive_browser_credential,
        }
        if selected is not None and len(selected) == 1:
            names: tuple[str, ...] = selected  # one named source: used even if "excluded"
        else:
            names = tuple(n for n in ORDER if not excluded[n]
                          and (selected is None or n in selected))
        if not names:
            raise ValueError("every credential of the chain is excluded")
        tenants = additionally_allowed_tenants
        only_mi = names == ("ManagedIdentityCredential",)
        builders: dict[str, Callable[[], Any]] = {
            "EnvironmentCredential": lambda: EnvironmentCredential(
                environ=env, additionally_allowed_tenants=tenants),
            "WorkloadIdentityCredential": lambda: WorkloadIdentityCredential(
                client_id=workload_identity_client_id,
                tenant_id=workload_identity_tenant_id, environ=env,
                additionally_allowed_tenants=tenants),
            "ManagedIdentityCredential": lambda: ManagedIdentityCredential(
                client_id=managed_identity_client_id or env.get("AZURE_CLIENT_ID") or None,
                # chosen alone, it is expected to be there: wait as long as a first request may
                probe_timeout=30.0 if only_mi else managed_identity_probe_timeout,
                environ=env, client_kwargs={
                    "clock": clock, "verify": env.get("REQUESTS_CA_BUNDLE") or True}),
            "EntraAuthCliCredential": lambda: EntraAuthCliCredential(
                additionally_allowed_tenants=tenants, environ=env),
            "AzureCliCredential": lambda: AzureCliCredential(
                additionally_allowed_tenants=tenants, process_timeout=process_timeout,
                clock=clock, environ=env),
            "AzureDeveloperCliCredential": lambda: AzureDeveloperCliCredential(
                additionally_allowed_tenants=tenants, process_timeout=process_timeout,
                environ=env),
            "InteractiveBrowserCredential": lambda: _browser(
                interactive_browser_client_id, interactive_browser_tenant_id, env),
        }
        members = [builders[n]() if n in builders else _NotHere(n) for n in names]
        super().__init__(*members)


def _browser(client_id: str | None, tenant_id: str | None, env: Mapping[str, str]) -> Any:
    from ..application import PublicClientApplication
    from ..credentials.environment import DEFAULT_AUTHORITY_HOST, DEFAULT_CLIENT_ID

    host = (env.get("AZURE_AUTHORITY_HOST") or DEFAULT_AUTHORITY_HOST).rstrip("/")
    app = PublicClientApplication(client_id or DEFAULT_CLIENT_ID,
                                  authority=f"{host}/{tenant_id or 'organizations'}")
    return _InteractiveBrowser(app, EntraTokenCredential(app))


class _InteractiveBrowser(SourceCredential):
    """Silent first, then a sign-in in the system browser (loopback redirect)."""

    name = "InteractiveBrowserCredential"

    def __init__(self, app: SyncPublicApp, silent: EntraTokenCredential) -> None:
        super().__init__()
        self.app, self.silent = app, silent

    def _token_info(self, scopes: tuple[str, ...], claims: str | None, tenant_id: str | None,
                    enable_cae: bool) -> AccessTokenInfo:
        from ..errors import InteractionRequiredError, TokenRequestError

        try:
            info: AccessTokenInfo = self.silent.get_token_info(
                *scopes, options={"claims": claims} if claims else {})
            return info
        except InteractionRequiredError:
            pass
        result = run_sync(app_call("acquire_token_interactive", list(scopes),
                                   claims_challenge=claims), app=self.app)
        if "access_token" not in result:
            raise TokenRequestError.from_result(result)
        from ._base import make_info

        return make_info(str(result["access_token"]),
                         time.time() + float(result.get("expires_in") or 0))
