"""Managed identity endpoints of the emulator: Azure IMDS and App Service / Functions shaped.

``GET /metadata/identity/oauth2/token`` (IMDS, api-version 2018-02-01, ``Metadata: true``) and
``GET /msi/token`` (App Service, api-version 2019-08-01, ``X-IDENTITY-HEADER``). Which
identities the "machine" has is a test control (:func:`assign_managed_identities`).
"""

from __future__ import annotations

import hmac
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any

from .core import Core, Reply, Request, RunningEmulator
from .model import Resource
from .state import new_opaque

__all__ = [
    "APP_SERVICE_PATH",
    "DEFAULT_IDENTITY_HEADER",
    "IMDS_PATH",
    "ManagedIdentityHost",
    "ManagedIdentityRecord",
    "app_service",
    "app_service_environment",
    "assign_managed_identities",
    "imds",
    "imds_environment",
    "managed_identity_host",
]

IMDS_PATH = "/metadata/identity/oauth2/token"
APP_SERVICE_PATH = "/msi/token"
DEFAULT_IDENTITY_HEADER = "emulated-identity-header-7f3a"


@dataclass
class ManagedIdentityRecord:
    """One managed identity the emulated machine holds.

    Args:
        client_id: Its client (application) id (the ``appid``/``azp`` claim).
        object_id: Its object (principal) id (the ``oid`` claim).
        resource_id: Its Azure resource id (the ``xms_mirid`` claim).
        app_roles: Application permissions granted to it, as full strings, e.g.
            ``https://graph.microsoft.com/User.Read.All`` (the ``roles`` claim).
    """

    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    object_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    resource_id: str = ""
    app_roles: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.resource_id:
            self.resource_id = ("/subscriptions/00000000-0000-0000-0000-000000000000/"
                                "resourcegroups/emulator/providers/"
                                "Microsoft.ManagedIdentity/userAssignedIdentities/"
                                f"mi-{self.client_id[:8]}")


@dataclass
class ManagedIdentityHost:
    """The emulated Azure host: its identities and App Service's identity header secret."""

    system_assigned: ManagedIdentityRecord | None = field(
        default_factory=lambda: ManagedIdentityRecord(
            resource_id="/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/"
                        "emulator/providers/Microsoft.Compute/virtualMachines/emulated-vm"))
    user_assigned: list[ManagedIdentityRecord] = field(default_factory=list)
    identity_header: str = DEFAULT_IDENTITY_HEADER

    def find(self, kind: str, value: str) -> ManagedIdentityRecord | None:
        """A user-assigned identity by ``client_id``, ``object_id`` or ``resource_id``."""
        for record in self.user_assigned:
            if str(getattr(record, kind)).lower() == value.lower():
                return record
        return None


# One host per directory: ``Emulator.reset()`` builds a new Directory, which resets the host.
_HOSTS: weakref.WeakKeyDictionary[Any, ManagedIdentityHost] = weakref.WeakKeyDictionary()


def _host(core: Core) -> ManagedIdentityHost:
    with core.state.lock:
        host = _HOSTS.get(core.directory)
        if host is None:
            host = _HOSTS[core.directory] = ManagedIdentityHost()
        return host


def managed_identity_host(emulator: RunningEmulator) -> ManagedIdentityHost:
    """The live identities of the emulated host (a system-assigned one by default).

    Editing the returned object changes what the IMDS and App Service endpoints answer until
    ``emulator.reset()``.
    """
    return _host(emulator._core)


def assign_managed_identities(
    emulator: RunningEmulator,
    *,
    system_assigned: bool = True,
    user_assigned: list[ManagedIdentityRecord] | None = None,
    identity_header: str = DEFAULT_IDENTITY_HEADER,
) -> ManagedIdentityHost:
    """Set which managed identities the emulated host has (until ``emulator.reset()``).

    Args:
        emulator: The running emulator.
        system_assigned: Whether the host has a system-assigned identity.
        user_assigned: Its user-assigned identities.
        identity_header: The App Service ``IDENTITY_HEADER`` secret it expects.

    Returns:
        The host description (its ``system_assigned`` record holds the generated ids).
    """
    core = emulator._core
    host = ManagedIdentityHost(user_assigned=list(user_assigned or []),
                               identity_header=identity_header)
    if not system_assigned:
        host.system_assigned = None
    with core.state.lock:
        _HOSTS[core.directory] = host
    return host


def imds_environment(emulator: RunningEmulator) -> dict[str, str]:
    """Environment pointing azure-identity-style clients at the emulator's IMDS."""
    return {"AZURE_POD_IDENTITY_AUTHORITY_HOST": emulator.base_url}


def app_service_environment(emulator: RunningEmulator) -> dict[str, str]:
    """``IDENTITY_ENDPOINT`` and ``IDENTITY_HEADER`` as App Service sets them."""
    return {"IDENTITY_ENDPOINT": emulator.base_url + APP_SERVICE_PATH,
            "IDENTITY_HEADER": managed_identity_host(emulator).identity_header}


class _Refused(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__("refused")
        self.reply = reply


def _imds_error(status: int, error: str, description: str) -> _Refused:
    return _Refused(Reply.json({"error": error, "error_description": description}, status))


def _app_service_error(status: int, message: str) -> _Refused:
    return _Refused(Reply.json({"statusCode": status, "message": message,
                                "correlationId": str(uuid.uuid4())}, status))


def _resource(core: Core, name: str) -> Resource | None:
    key = name.strip()
    if key.endswith("/.default"):
        return None  # IMDS wants a resource, not a scope
    return core.directory.resource_for(key)


def _select(host: ManagedIdentityHost, params: dict[str, str], names: dict[str, str],
            missing: Any) -> ManagedIdentityRecord:
    given = [(attr, params[name]) for name, attr in names.items() if params.get(name)]
    if len(given) > 1:
        raise missing(400, "invalid_request", "Only one of client_id, object_id and "
                      "msi_res_id may be given.")
    if given:
        found = host.find(*given[0])
        if found is None:
            raise missing(400, "invalid_request", "Identity not found")
        return found
    if host.system_assigned is not None:
        return host.system_assigned
    if len(host.user_assigned) == 1:  # IMDS picks the only user-assigned identity
        return host.user_assigned[0]
    if host.user_assigned:
        raise missing(400, "invalid_request", "Multiple user assigned identities exist, "
                      "please specify the clientId / resourceId of the identity in the token "
                      "request")
    raise missing(400, "invalid_request", "Identity not found")


def _mint(core: Core, record: ManagedIdentityRecord, resource: Resource) -> tuple[str, int]:
    now = int(core.now())
    lifetime = core.settings.access_token_lifetime
    tenant_id = core.directory.default_tenant().tenant_id
    prefix = resource.identifier_uri.rstrip("/").lower() + "/"
    roles = [r[len(prefix):] for r in record.app_roles if r.lower().startswith(prefix)]
    claims: dict[str, Any] = {
        "aud": resource.identifier_uri.rstrip("/"), "iss": core.issuer(tenant_id),
        "iat": now, "nbf": now, "exp": now + lifetime, "appid": record.client_id,
        "azp": record.client_id, "appidacr": "2", "idtyp": "app", "oid": record.object_id,
        "sub": record.object_id, "tid": tenant_id, "uti": new_opaque("", 16),
        "xms_mirid": record.resource_id, "ver": "1.0",
    }
    if roles:
        claims["roles"] = roles
    with core.state.lock:
        core.state.tokens_issued += 1
    return core.signer.sign(claims), now


def imds(core: Core, req: Request) -> Reply:
    """``GET /metadata/identity/oauth2/token``: Azure Instance Metadata Service tokens."""
    try:
        if req.method != "GET":
            raise _imds_error(405, "invalid_request", "Only GET is supported.")
        if req.headers.get("metadata", "").lower() != "true":
            raise _imds_error(400, "invalid_request", "Required metadata header not specified")
        if not req.query.get("api-version"):
            raise _imds_error(400, "invalid_request",
                              "Required query variable 'api-version' is missing")
        name = req.query.get("resource", "")
        if not name:
            raise _imds_error(400, "invalid_request",
                              "Required query variable 'resource' is missing")
        record = _select(_host(core), req.query, {"client_id": "client_id",
                                                  "object_id": "object_id",
                                                  "msi_res_id": "resource_id",
                                                  "mi_res_id": "resource_id"}, _imds_error)
        resource = _resource(core, name)
        if resource is None:
            raise _imds_error(400, "invalid_resource", "AADSTS500011: The resource principal "
                              f"named {name[:200]} was not found in the tenant.")
    except _Refused as refused:
        return refused.reply
    token, now = _mint(core, record, resource)
    lifetime = core.settings.access_token_lifetime
    return Reply.json({
        "access_token": token, "client_id": record.client_id, "expires_in": str(lifetime),
        "expires_on": str(now + lifetime), "ext_expires_in": str(lifetime),
        "not_before": str(now), "resource": name, "token_type": "Bearer",
    })


def app_service(core: Core, req: Request) -> Reply:
    """``GET /msi/token``: the App Service / Functions identity endpoint (2019-08-01)."""
    host = _host(core)

    def error(status: int, _code: str, message: str) -> _Refused:
        return _app_service_error(status, message)

    try:
        if req.method != "GET":
            raise error(405, "", "Only GET is supported.")
        given = req.headers.get("x-identity-header", "")
        if not hmac.compare_digest(given.encode(), host.identity_header.encode()):
            raise error(401, "", "X-IDENTITY-HEADER is missing or does not match.")
        if req.query.get("api-version") != "2019-08-01":
            raise error(400, "", "api-version must be 2019-08-01.")
        name = req.query.get("resource", "")
        if not name:
            raise error(400, "", "The resource parameter is required.")
        record = _select(host, req.query, {"client_id": "client_id",
                                           "principal_id": "object_id",
                                           "object_id": "object_id",
                                           "mi_res_id": "resource_id"}, error)
        resource = _resource(core, name)
        if resource is None:
            raise error(400, "", f"AADSTS500011: The resource principal named {name[:200]} "
                                 "was not found in the tenant.")
    except _Refused as refused:
        return refused.reply
    token, now = _mint(core, record, resource)
    return Reply.json({
        "access_token": token, "expires_on": str(now + core.settings.access_token_lifetime),
        "resource": name, "token_type": "Bearer", "client_id": record.client_id,
    })
