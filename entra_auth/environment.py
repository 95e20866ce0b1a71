"""Build an application from azure-identity's environment variables (``from_environment``).

EnvironmentCredential's precedence (client secret, then certificate) followed by
WorkloadIdentityCredential's federated token file, re-read when Kubernetes rotates it. The
variables are read by :mod:`entra_auth.credentials.environment` (re-exported here), which the
Azure SDK credentials use too; this module adds the application classes, sync or async.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .credentials.environment import (
    DEFAULT_AUTHORITY_HOST,
    EnvironmentConfigError,
    EnvironmentSettings,
    FederatedTokenFile,
    confidential_application,
    read_environment,
)

__all__ = [
    "DEFAULT_AUTHORITY_HOST",
    "EnvironmentConfigError",
    "EnvironmentSettings",
    "FederatedTokenFile",
    "from_environment",
    "read_environment",
]


def from_environment(
    *,
    environ: Mapping[str, str] | None = None,
    verify: Any = None,
    token_cache: Any = None,
    strict: bool = True,
    asynchronous: bool = False,
    **app_kwargs: Any,
) -> Any:
    """Build a ``ConfidentialClientApplication`` from azure-identity's environment variables.

    ``AZURE_CLIENT_ID`` and ``AZURE_TENANT_ID`` with ``AZURE_CLIENT_SECRET``, or
    ``AZURE_CLIENT_CERTIFICATE_PATH`` (PEM or PKCS#12; ``AZURE_CLIENT_CERTIFICATE_PASSWORD``,
    ``AZURE_CLIENT_SEND_CERTIFICATE_CHAIN``), or ``AZURE_FEDERATED_TOKEN_FILE`` (workload
    identity); ``AZURE_AUTHORITY_HOST`` picks the cloud (an ``https://127.0.0.1:PORT``
    emulator too).

    Example::

        app = entra_auth.from_environment()
        result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])

    Args:
        environ: Variables to read instead of ``os.environ``.
        verify: TLS verification (a CA bundle path, True or False); by default
            ``REQUESTS_CA_BUNDLE`` when set, else the system's CAs.
        token_cache: A ``TokenCache`` for the app.
        strict: See :func:`read_environment`.
        asynchronous: Build an :mod:`entra_auth.aio` application instead.
        **app_kwargs: More constructor arguments for the application.

    Returns:
        The application (no network I/O happens until its first call).

    Raises:
        EnvironmentConfigError: variables missing or conflicting.
    """
    settings = read_environment(environ, strict=strict)
    if asynchronous:
        from .aio import ConfidentialClientApplication as AsyncApp

        return confidential_application(AsyncApp, settings, environ, verify=verify,
                                        token_cache=token_cache, **app_kwargs)
    from .application import ConfidentialClientApplication

    return confidential_application(ConfidentialClientApplication, settings, environ,
                                    verify=verify, token_cache=token_cache, **app_kwargs)
