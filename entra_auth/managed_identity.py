"""Managed identity: tokens on Azure VMs (IMDS), App Service / Functions, Service Fabric,
Cloud Shell, Azure ML and Azure Arc, with MSAL's API.

``ManagedIdentityClient(SystemAssignedManagedIdentity()).acquire_token_for_client(resource=...)``
runs the flow in :mod:`entra_auth.protocol.managed_identity` with ``run_sync``;
:class:`AsyncManagedIdentityClient` runs the same flow with ``run_async`` over httpx.
"""

from __future__ import annotations

import logging
import os
import stat
import time
import uuid
from collections import UserDict
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from .protocol.managed_identity import (
    DEFAULT_IMDS_HOST,
    IMDS_PATH,
    IdentitySource,
    ManagedIdentityError,
    ManagedIdentityUnavailableError,
    RetryPolicy,
    SourceState,
    acquire_token,
)
from .protocol.messages import Flow

__all__ = [
    "APP_SERVICE",
    "AZURE_ARC",
    "CLOUD_SHELL",
    "DEFAULT_TO_VM",
    "MACHINE_LEARNING",
    "SERVICE_FABRIC",
    "AsyncManagedIdentityClient",
    "ManagedIdentity",
    "ManagedIdentityClient",
    "ManagedIdentityError",
    "ManagedIdentityUnavailableError",
    "RetryPolicy",
    "SystemAssignedManagedIdentity",
    "UserAssignedManagedIdentity",
    "get_managed_identity_source",
    "managed_identity_source",
    "read_arc_key",
]

logger = logging.getLogger("entra_auth.managed_identity")


class ManagedIdentity(UserDict[str, Any]):
    """A managed identity, equal to msal's dict shape ``{"ManagedIdentityIdType", "Id"}``.

    Use :class:`SystemAssignedManagedIdentity` or :class:`UserAssignedManagedIdentity`; a
    plain dict of the same shape (e.g. loaded from JSON configuration) works as well.
    """

    ID_TYPE = "ManagedIdentityIdType"
    ID = "Id"
    CLIENT_ID = "ClientId"
    RESOURCE_ID = "ResourceId"
    OBJECT_ID = "ObjectId"
    SYSTEM_ASSIGNED = "SystemAssigned"

    def __init__(self, identifier: str | None = None, id_type: str | None = None) -> None:
        super().__init__({self.ID_TYPE: id_type, self.ID: identifier})

    @classmethod
    def is_managed_identity(cls, unknown: object) -> bool:
        """Whether ``unknown`` describes a system- or user-assigned identity."""
        return cls.is_system_assigned(unknown) or cls.is_user_assigned(unknown)

    @classmethod
    def is_system_assigned(cls, unknown: object) -> bool:
        """Whether ``unknown`` is a system-assigned identity (object or dict)."""
        return isinstance(unknown, (dict, UserDict)) and unknown.get(
            cls.ID_TYPE) == cls.SYSTEM_ASSIGNED

    @classmethod
    def is_user_assigned(cls, unknown: object) -> bool:
        """Whether ``unknown`` is a user-assigned identity with an id (object or dict)."""
        return (isinstance(unknown, (dict, UserDict))
                and unknown.get(cls.ID_TYPE) in (cls.CLIENT_ID, cls.RESOURCE_ID, cls.OBJECT_ID)
                and bool(unknown.get(cls.ID)))


class SystemAssignedManagedIdentity(ManagedIdentity):
    """The identity Azure created with (and for) this VM, App Service or Function."""

    def __init__(self) -> None:
        super().__init__(id_type=self.SYSTEM_ASSIGNED)


class UserAssignedManagedIdentity(ManagedIdentity):
    """A user-assigned identity, named by exactly one of its ids.

    Args:
        client_id: The identity's client (application) id.
        resource_id: Its Azure resource id (``/subscriptions/.../userAssignedIdentities/x``).
        object_id: Its object (principal) id.

    Raises:
        ManagedIdentityError: not exactly one id was given.
    """

    def __init__(self, *, client_id: str | None = None, resource_id: str | None = None,
                 object_id: str | None = None) -> None:
        given = [(t, v) for t, v in ((self.CLIENT_ID, client_id),
                                     (self.RESOURCE_ID, resource_id),
                                     (self.OBJECT_ID, object_id)) if v]
        if len(given) != 1:
            raise ManagedIdentityError(
                "give exactly one of client_id, resource_id, object_id")
        super().__init__(identifier=given[0][1], id_type=given[0][0])


# Where the Azure Arc agent (himds) lives, and where it writes challenge key files.
ARC_DEFAULT_ENDPOINT = "http://localhost:40342/metadata/identity/oauth2/token"
ARC_MAX_KEY_SIZE = 4096
CLOUD_SHELL_DEFAULT_ENDPOINT = "http://localhost:50342/oauth2/token"


def _arc_agent_installed() -> bool:
    if os.name == "nt":
        program_files = os.environ.get("PROGRAMFILES", "C:\\Program Files")
        return os.path.isfile(os.path.join(program_files, "AzureConnectedMachineAgent",
                                           "himds.exe"))
    return os.path.isfile("/opt/azcmagent/bin/himds")


def arc_key_directory() -> str:
    """Where the Azure Arc agent writes the key files its challenges name."""
    if os.name == "nt":
        program_data = os.environ.get("PROGRAMDATA", "C:\\ProgramData")
        return os.path.join(program_data, "AzureConnectedMachineAgent", "Tokens")
    return "/var/opt/azcmagent/tokens"


def read_arc_key(path: str, directory: str | None = None) -> str:
    """The secret in the key file an Azure Arc challenge names, after checking that it is a
    ``.key`` file of at most 4096 bytes in the agent's directory (as MSAL checks).

    Raises:
        ManagedIdentityError: the path is elsewhere, not a ``.key`` file, too big or unreadable.
    """
    expected = os.path.realpath(directory or arc_key_directory())
    if not path.endswith(".key") or os.path.realpath(os.path.dirname(path)) != expected:
        raise ManagedIdentityError(
            f"the Azure Arc challenge names a file outside {expected} or not a .key file")
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > ARC_MAX_KEY_SIZE:
                raise ManagedIdentityError("the Azure Arc key file is not a regular file "
                                           f"of at most {ARC_MAX_KEY_SIZE} bytes")
            return handle.read().decode("utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ManagedIdentityError(f"cannot read the Azure Arc key file: {exc}") from None


def managed_identity_source(
    environ: Mapping[str, str] | None = None, imds_endpoint: str | None = None
) -> IdentitySource:
    """Where this process gets managed identity tokens, from its environment (MSAL's order).

    ``IDENTITY_ENDPOINT`` + ``IDENTITY_HEADER`` + ``IDENTITY_SERVER_THUMBPRINT``: Service
    Fabric; ``IDENTITY_ENDPOINT`` + ``IDENTITY_HEADER``: App Service / Functions;
    ``MSI_ENDPOINT`` + ``MSI_SECRET``: Azure ML; ``IDENTITY_ENDPOINT`` + ``IMDS_ENDPOINT``
    or an installed Arc agent (looked for only when reading ``os.environ``): Azure Arc;
    ``AZUREPS_HOST_ENVIRONMENT=cloud-shell...``: Cloud Shell (its ``MSI_ENDPOINT``);
    otherwise IMDS at ``imds_endpoint``, else ``AZURE_POD_IDENTITY_AUTHORITY_HOST``, else
    169.254.169.254. An explicit ``imds_endpoint`` skips the detection.

    Raises:
        ManagedIdentityError: an IMDS endpoint that is not an http(s) URL.
    """
    env = os.environ if environ is None else environ
    if imds_endpoint is None:
        identity_endpoint, header = env.get("IDENTITY_ENDPOINT"), env.get("IDENTITY_HEADER")
        if identity_endpoint and header:
            if env.get("IDENTITY_SERVER_THUMBPRINT"):
                return IdentitySource("service_fabric", identity_endpoint, header,
                                      server_thumbprint=env["IDENTITY_SERVER_THUMBPRINT"])
            return IdentitySource("app_service", identity_endpoint, header)
        msi_endpoint = env.get("MSI_ENDPOINT")
        if msi_endpoint and env.get("MSI_SECRET"):
            return IdentitySource("machine_learning", msi_endpoint, env["MSI_SECRET"],
                                  default_client_id=env.get("DEFAULT_IDENTITY_CLIENT_ID"))
        if identity_endpoint and env.get("IMDS_ENDPOINT"):
            return IdentitySource("azure_arc", identity_endpoint)
        if environ is None and _arc_agent_installed():
            return IdentitySource("azure_arc", ARC_DEFAULT_ENDPOINT)
        if env.get("AZUREPS_HOST_ENVIRONMENT", "").startswith("cloud-shell"):
            return IdentitySource("cloud_shell", msi_endpoint or CLOUD_SHELL_DEFAULT_ENDPOINT)
    host = (imds_endpoint or env.get("AZURE_POD_IDENTITY_AUTHORITY_HOST")
            or DEFAULT_IMDS_HOST).rstrip("/")
    if not host.startswith(("http://", "https://")):
        raise ManagedIdentityError(f"the IMDS endpoint must be an http(s) URL, not {host!r}")
    endpoint = host if host.endswith(IMDS_PATH) else host + IMDS_PATH
    return IdentitySource("imds", endpoint)


class _SourceKind:
    """One of msal's managed identity source constants (compared by identity, as in msal)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


APP_SERVICE: Any = _SourceKind("APP_SERVICE")
AZURE_ARC: Any = _SourceKind("AZURE_ARC")
CLOUD_SHELL: Any = _SourceKind("CLOUD_SHELL")
MACHINE_LEARNING: Any = _SourceKind("MACHINE_LEARNING")
SERVICE_FABRIC: Any = _SourceKind("SERVICE_FABRIC")
DEFAULT_TO_VM: Any = _SourceKind("DEFAULT_TO_VM")

def get_managed_identity_source(environ: Mapping[str, str] | None = None) -> Any:
    """msal's ``get_managed_identity_source()``: which kind of host this looks like.

    Returns one of this module's constants, from the environment as msal reads it:
    ``SERVICE_FABRIC`` (``IDENTITY_ENDPOINT`` + ``IDENTITY_HEADER`` +
    ``IDENTITY_SERVER_THUMBPRINT``), ``APP_SERVICE`` (``IDENTITY_ENDPOINT`` + ``IDENTITY_HEADER``),
    ``MACHINE_LEARNING`` (``MSI_ENDPOINT`` + ``MSI_SECRET``), ``AZURE_ARC`` (``IDENTITY_ENDPOINT``
    + ``IMDS_ENDPOINT``, or the Arc agent installed), ``CLOUD_SHELL``
    (``AZUREPS_HOST_ENVIRONMENT`` starting with ``cloud-shell``; use a public client's
    ``acquire_token_interactive(prompt="none")`` there), else ``DEFAULT_TO_VM``.

    Args:
        environ: Environment to read instead of ``os.environ``.
    """
    env = os.environ if environ is None else environ
    if "IDENTITY_ENDPOINT" in env and "IDENTITY_HEADER" in env:
        return SERVICE_FABRIC if "IDENTITY_SERVER_THUMBPRINT" in env else APP_SERVICE
    if "MSI_ENDPOINT" in env and "MSI_SECRET" in env:
        return MACHINE_LEARNING
    if ("IDENTITY_ENDPOINT" in env and "IMDS_ENDPOINT" in env) or _arc_agent_installed():
        return AZURE_ARC
    if env.get("AZUREPS_HOST_ENVIRONMENT", "").startswith("cloud-shell"):
        return CLOUD_SHELL
    return DEFAULT_TO_VM


def _resource(resource: str) -> str:
    if not isinstance(resource, str) or not resource.strip():
        raise ManagedIdentityError("resource must be a non-empty string")
    resource = resource.strip()
    return resource[: -len("/.default")] if resource.endswith("/.default") else resource


class _Base:
    def __init__(
        self,
        managed_identity: Mapping[str, Any],
        *,
        token_cache: Any,
        client_capabilities: list[str] | None,
        imds_endpoint: str | None,
        retry_policy: RetryPolicy | None,
        clock: Callable[[], float],
        environ: Mapping[str, str] | None,
        http_cache: MutableMapping[str, Any] | None = None,
    ) -> None:
        if not ManagedIdentity.is_managed_identity(managed_identity):
            raise ManagedIdentityError(
                "managed_identity must be SystemAssignedManagedIdentity(), "
                "UserAssignedManagedIdentity(...) or a dict of that shape")
        from .cache import TokenCache

        self._identity = dict(managed_identity)
        self._cache = token_cache if token_cache is not None else TokenCache()
        self._client_capabilities = client_capabilities  # accepted; IMDS has no claims input
        self.source = managed_identity_source(environ, imds_endpoint)
        self._policy = retry_policy or RetryPolicy()
        self._state = SourceState()
        self._clock = clock
        if http_cache is not None and not isinstance(http_cache, MutableMapping):
            raise ManagedIdentityError("http_cache must be a dict-like (MutableMapping) object")
        self._http_cache = http_cache

    #: Where Azure Arc challenge key files may be (default: the agent's own directory).
    arc_key_directory: str | None = None

    def _flow(self, resource: str, claims_challenge: str | None) -> Flow[dict[str, Any]]:
        return acquire_token(
            self._cache, self.source, self._identity, _resource(resource),
            claims_challenge=claims_challenge, policy=self._policy, state=self._state,
            clock=self._clock, new_request_id=lambda: str(uuid.uuid4()),
            read_arc_key=lambda path: read_arc_key(path, self.arc_key_directory),
            http_cache=self._http_cache,
        )

    @property
    def token_cache(self) -> Any:
        """The cache tokens are kept in."""
        return self._cache


class ManagedIdentityClient(_Base):
    """Tokens for this machine's managed identity (msal's ``ManagedIdentityClient`` API).

    Example::

        client = ManagedIdentityClient(SystemAssignedManagedIdentity())
        result = client.acquire_token_for_client(resource="https://graph.microsoft.com")

    Args:
        managed_identity: :class:`SystemAssignedManagedIdentity`,
            :class:`UserAssignedManagedIdentity` or a dict of the same shape.
        http_client: Optional MSAL-style client (``get(url, params=, headers=)``), e.g. a
            ``requests.Session``; by default a session honouring ``verify``.
        token_cache: A ``TokenCache`` (tokens are stored where msal stores them).
        http_cache: A dict-like store (as msal's): an answer that was 429, 5xx or carried
            ``Retry-After`` is replayed from it for that long (5 s without the header, at
            most an hour) instead of asking the endpoint again, also by other clients sharing
            it. Entries are plain data, so it can be pickled between runs. Successes are not
            stored.
        client_capabilities: Accepted for msal compatibility; IMDS and App Service ignore it.
        verify: TLS verification for the default session (a CA bundle path for an emulator).
            On Service Fabric the default (True) pins the endpoint's certificate to
            ``IDENTITY_SERVER_THUMBPRINT`` instead.
        imds_endpoint: IMDS host (``http://169.254.169.254``) or full token URL; overrides
            ``AZURE_POD_IDENTITY_AUTHORITY_HOST`` and App Service detection.
        retry_policy: Retries on 429, 5xx, IMDS's 404/410 and transport errors.
        clock: Epoch-seconds clock for cache expiry and ``http_cache`` decisions (tests
            pass a fake clock).
        sleep: Waits between retries (default ``time.sleep``); tests pass one that returns
            at once and records the wait.
        environ: Environment to read instead of ``os.environ``.

    Raises:
        ManagedIdentityError: an unrecognised identity, or an unsupported environment.
    """

    def __init__(
        self,
        managed_identity: Mapping[str, Any],
        *,
        http_client: Any = None,
        token_cache: Any = None,
        http_cache: Any = None,
        client_capabilities: list[str] | None = None,
        verify: Any = True,
        imds_endpoint: str | None = None,
        retry_policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(managed_identity, token_cache=token_cache,
                         client_capabilities=client_capabilities, imds_endpoint=imds_endpoint,
                         retry_policy=retry_policy, clock=clock, environ=environ,
                         http_cache=http_cache)
        self._sleep = sleep
        from .transport.requests_transport import (
            HttpClientTransport,
            managed_identity_transport,
        )

        if http_client is not None:
            self._transport: Any = HttpClientTransport(http_client)
        else:
            self._transport = managed_identity_transport(
                self.source.endpoint, self.source.server_thumbprint, verify)

    def acquire_token_for_client(
        self, *, resource: str, claims_challenge: str | None = None
    ) -> dict[str, Any]:
        """Return a token for ``resource`` from the cache, or from the identity endpoint.

        Args:
            resource: The resource (e.g. ``https://graph.microsoft.com``); a trailing
                ``/.default`` is dropped.
            claims_challenge: A claims challenge from a resource: skips the cached token.

        Returns:
            ``{"access_token", "token_type", "expires_in", "token_source", ...}`` or an
            error dict (``error``, ``error_description``) when the endpoint refused.

        Raises:
            ManagedIdentityUnavailableError: No managed identity endpoint is reachable.
        """
        from .transport.driver import run_sync

        return run_sync(self._flow(resource, claims_challenge), self._transport, self._sleep)

    def close(self) -> None:
        """Close the default HTTP session."""
        close = getattr(self._transport, "close", None)
        if callable(close):
            close()


class AsyncManagedIdentityClient(_Base):
    """The asyncio twin of :class:`ManagedIdentityClient`, over ``httpx.AsyncClient``.

    Takes the same arguments, except that ``http_client`` is an ``httpx.AsyncClient`` and
    ``sleep`` an async function (default ``asyncio.sleep``).
    """

    def __init__(
        self,
        managed_identity: Mapping[str, Any],
        *,
        http_client: Any = None,
        token_cache: Any = None,
        http_cache: MutableMapping[str, Any] | None = None,
        client_capabilities: list[str] | None = None,
        verify: Any = True,
        imds_endpoint: str | None = None,
        retry_policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(managed_identity, token_cache=token_cache,
                         client_capabilities=client_capabilities, imds_endpoint=imds_endpoint,
                         retry_policy=retry_policy, clock=clock, environ=environ,
                         http_cache=http_cache)
        self._sleep = sleep
        from .transport.httpx_transport import AsyncHttpxTransport

        # No transport retries: the managed-identity flow retries by its own policy.
        self._transport = AsyncHttpxTransport(http_client, verify=verify, retry=False)

    async def acquire_token_for_client(
        self, *, resource: str, claims_challenge: str | None = None
    ) -> dict[str, Any]:
        """See :meth:`ManagedIdentityClient.acquire_token_for_client`."""
        from .transport.driver import run_async

        return await run_async(self._flow(resource, claims_challenge), self._transport,
                               self._sleep)

    async def aclose(self) -> None:
        """Close the httpx client."""
        await self._transport.aclose()
