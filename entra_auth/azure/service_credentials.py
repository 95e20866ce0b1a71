"""Credentials for code running as a service: environment, workload identity, managed identity.

Each stands for the azure-identity credential of the same name and reads the same environment
variables; each reports "unavailable" (a chain moves on) when its configuration is absent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..credentials.environment import (
    AUTHORITY_HOST,
    CLIENT_ID,
    TENANT_ID,
    TOKEN_FILE,
    EnvironmentConfigError,
    confidential_application,
    read_environment,
)
from ._base import SourceCredential, make_info, single_resource, unavailable
from .credential import AccessTokenInfo, token_request_options

__all__ = ["EnvironmentCredential", "ManagedIdentityCredential", "WorkloadIdentityCredential"]

DEFAULT_PROBE_TIMEOUT = 1.0


class _AppCredential(SourceCredential):
    """A credential over a confidential application built from environment settings."""

    def __init__(self, *, environ: Mapping[str, str] | None,
                 additionally_allowed_tenants: Iterable[str] | None,
                 app_kwargs: Mapping[str, Any] | None) -> None:
        super().__init__(additionally_allowed_tenants=additionally_allowed_tenants)
        self._environ = environ
        self._additional = additionally_allowed_tenants
        self._app_kwargs = dict(app_kwargs or {})
        self._inner: dict[bool, Any] = {}  # by enable_cae: CAE tokens are cached apart
        self._lock = threading.Lock()

    def _settings_environ(self) -> Mapping[str, str] | None:
        return self._environ

    def _precheck(self, env: Mapping[str, str] | None) -> None:
        """Raise "unavailable" early, with a message naming what this source needs."""

    def _check_kind(self, kind: str) -> None:
        raise NotImplementedError

    def _credential(self, enable_cae: bool) -> Any:
        with self._lock:
            if enable_cae not in self._inner:
                from ..application import ConfidentialClientApplication
                from .credential import EntraTokenCredential

                env = self._settings_environ()
                self._precheck(env)
                try:
                    settings = read_environment(env, strict=False)
                except EnvironmentConfigError as exc:
                    raise unavailable(str(exc)) from None
                self._check_kind(settings.kind)
                kwargs = dict(self._app_kwargs)
                if enable_cae:  # as azure-identity: the CP1 capability, in its own cache
                    kwargs["client_capabilities"] = ["CP1"]
                app = confidential_application(ConfidentialClientApplication, settings, env,
                                               **kwargs)
                self._inner[enable_cae] = EntraTokenCredential(
                    app, additionally_allowed_tenants=self._additional)
            return self._inner[enable_cae]

    def _token_info(self, scopes: tuple[str, ...], claims: str | None, tenant_id: str | None,
                    enable_cae: bool) -> AccessTokenInfo:
        options = token_request_options(claims, tenant_id, enable_cae)
        info: AccessTokenInfo = self._credential(enable_cae).get_token_info(
            *scopes, options=options)
        return info


class EnvironmentCredential(_AppCredential):
    """A service principal from ``AZURE_CLIENT_ID``, ``AZURE_TENANT_ID`` and
    ``AZURE_CLIENT_SECRET`` or ``AZURE_CLIENT_CERTIFICATE_PATH`` (azure-identity's
    ``EnvironmentCredential``; username/password is not supported).

    Args:
        environ: Variables to read instead of ``os.environ``.
        additionally_allowed_tenants: Other tenants ``get_token(tenant_id=...)`` may name.
        app_kwargs: More arguments for the ``ConfidentialClientApplication``.
    """

    name = "EnvironmentCredential"

    def __init__(self, *, environ: Mapping[str, str] | None = None,
                 additionally_allowed_tenants: Iterable[str] | None = None,
                 app_kwargs: Mapping[str, Any] | None = None) -> None:
        super().__init__(environ=environ,
                         additionally_allowed_tenants=additionally_allowed_tenants,
                         app_kwargs=app_kwargs)

    def _settings_environ(self) -> Mapping[str, str] | None:
        import os

        env = os.environ if self._environ is None else self._environ
        return {k: v for k, v in env.items() if k != TOKEN_FILE}

    def _check_kind(self, kind: str) -> None:
        if kind not in ("client_secret", "client_certificate"):
            raise unavailable("no client secret or certificate configured in the environment")


class WorkloadIdentityCredential(_AppCredential):
    """Kubernetes workload identity: ``AZURE_FEDERATED_TOKEN_FILE`` with ``AZURE_CLIENT_ID``
    and ``AZURE_TENANT_ID`` (azure-identity's ``WorkloadIdentityCredential``); the token file
    is re-read when it rotates.

    Args:
        client_id: Overrides ``AZURE_CLIENT_ID``.
        tenant_id: Overrides ``AZURE_TENANT_ID``.
        token_file_path: Overrides ``AZURE_FEDERATED_TOKEN_FILE``.
        environ: Variables to read instead of ``os.environ``.
        additionally_allowed_tenants: Other tenants ``get_token(tenant_id=...)`` may name.
        app_kwargs: More arguments for the ``ConfidentialClientApplication``.
    """

    name = "WorkloadIdentityCredential"

    def __init__(self, *, client_id: str | None = None, tenant_id: str | None = None,
                 token_file_path: str | None = None,
                 environ: Mapping[str, str] | None = None,
                 additionally_allowed_tenants: Iterable[str] | None = None,
                 app_kwargs: Mapping[str, Any] | None = None) -> None:
        super().__init__(environ=environ,
                         additionally_allowed_tenants=additionally_allowed_tenants,
                         app_kwargs=app_kwargs)
        self._overrides = {CLIENT_ID: client_id, TENANT_ID: tenant_id,
                           TOKEN_FILE: token_file_path}

    def _settings_environ(self) -> Mapping[str, str] | None:
        import os

        env = os.environ if self._environ is None else self._environ
        picked = {k: env[k] for k in (CLIENT_ID, TENANT_ID, TOKEN_FILE, AUTHORITY_HOST)
                  if env.get(k)}
        picked.update({k: v for k, v in self._overrides.items() if v})
        return picked

    def _precheck(self, env: Mapping[str, str] | None) -> None:
        if not (env or {}).get(TOKEN_FILE):
            raise unavailable("AZURE_FEDERATED_TOKEN_FILE is not set")

    def _check_kind(self, kind: str) -> None:
        if kind != "workload_identity":
            raise unavailable("AZURE_FEDERATED_TOKEN_FILE is not set")


class ManagedIdentityCredential(SourceCredential):
    """This machine's managed identity (azure-identity's ``ManagedIdentityCredential``).

    The source is detected from the environment as :func:`~entra_auth.managed_identity_source`
    does (App Service ``IDENTITY_ENDPOINT``, else IMDS; ``AZURE_POD_IDENTITY_AUTHORITY_HOST``
    moves IMDS, e.g. to an emulator). The first IMDS request waits at most ``probe_timeout``
    seconds: no answer means "unavailable", at once, without retries.

    Args:
        client_id: A user-assigned identity's client id (default: ``AZURE_CLIENT_ID`` in a
            chain, else system-assigned).
        resource_id: A user-assigned identity's resource id.
        probe_timeout: Seconds the first request may take before the identity endpoint is
            deemed absent.
        environ: Variables to read instead of ``os.environ``.
        client_kwargs: More arguments for :class:`~entra_auth.ManagedIdentityClient`
            (``imds_endpoint``, ``verify``, ``retry_policy``, ``clock``...).
    """

    name = "ManagedIdentityCredential"

    def __init__(self, *, client_id: str | None = None, resource_id: str | None = None,
                 probe_timeout: float = DEFAULT_PROBE_TIMEOUT,
                 environ: Mapping[str, str] | None = None,
                 client_kwargs: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        if client_id and resource_id:
            raise ValueError("give client_id or resource_id, not both")
        if not probe_timeout > 0:
            raise ValueError("probe_timeout must be a positive number of seconds")
        self._ids = {"client_id": client_id, "resource_id": resource_id}
        self.probe_timeout = probe_timeout
        self._environ = environ
        self._client_kwargs = dict(client_kwargs or {})
        self._client: Any = None
        self._lock = threading.Lock()
        self._clock: Callable[[], float] = self._client_kwargs.get("clock", time.time)

    def _managed_client(self) -> Any:
        with self._lock:
            if self._client is None:
                from ..managed_identity import (
                    ManagedIdentityClient,
                    RetryPolicy,
                    SystemAssignedManagedIdentity,
                    UserAssignedManagedIdentity,
                )

                identity: Any = SystemAssignedManagedIdentity()
                if self._ids["client_id"] or self._ids["resource_id"]:
                    identity = UserAssignedManagedIdentity(**self._ids)
                kwargs = dict(self._client_kwargs)
                policy = kwargs.pop("retry_policy", None) or RetryPolicy()
                kwargs["retry_policy"] = RetryPolicy(
                    max_retries=policy.max_retries, backoff=policy.backoff,
                    max_delay=policy.max_delay, probe_timeout=self.probe_timeout,
                    timeout=policy.timeout)
                self._client = ManagedIdentityClient(identity, environ=self._environ,
                                                     **kwargs)
            return self._client

    def _token_info(self, scopes: tuple[str, ...], claims: str | None, tenant_id: str | None,
                    enable_cae: bool) -> AccessTokenInfo:
        from ..errors import TokenRequestError
        from ..managed_identity import ManagedIdentityUnavailableError

        resource = single_resource(scopes, "a managed identity")
        client = self._managed_client()
        now = self._clock()
        try:
            result = client.acquire_token_for_client(resource=resource, claims_challenge=claims)
        except ManagedIdentityUnavailableError as exc:
            raise unavailable(f"no managed identity endpoint answered: "
                              f"{exc.error_description}") from None
        token = result.get("access_token")
        if not isinstance(token, str) or not token:
            raise TokenRequestError.from_result(result)
        expires_in = float(result.get("expires_in") or 0)
        refresh_in = result.get("refresh_in")
        refresh_on = now + float(refresh_in) if isinstance(refresh_in, (int, float)) else None
        return make_info(token, now + expires_in, refresh_on)

    def close(self) -> None:
        """Close the managed identity client's HTTP session."""
        if self._client is not None:
            self._client.close()
