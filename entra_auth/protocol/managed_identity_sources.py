"""What a managed identity source is, and the token request MSAL sends to each (no I/O).

:class:`IdentitySource` and the errors, then :func:`token_request`: IMDS (``GET
{host}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=...``, ``Metadata:
true``), App Service (``GET $IDENTITY_ENDPOINT?api-version=2019-08-01``,
``X-IDENTITY-HEADER``), and through :func:`source_request` Service Fabric (``GET
$IDENTITY_ENDPOINT?api-version=2019-07-01-preview``, ``Secret`` header), Cloud Shell (``POST
$MSI_ENDPOINT`` with a ``resource`` form field, ``Metadata: true``), Azure ML (``GET
$MSI_ENDPOINT?api-version=2017-09-01&clientid=...``, ``secret`` header) and Azure Arc (``GET
$IDENTITY_ENDPOINT?api-version=2020-06-01``, answered with a 401 whose ``WWW-Authenticate:
Basic realm=<file>`` names the secret to send back). The flow that sends them, with retries,
throttling and the cache, is :mod:`.managed_identity`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

from ..errors import EntraAuthError
from .messages import HttpRequest, HttpResponse

__all__ = [
    "IdentitySource",
    "ManagedIdentityError",
    "ManagedIdentityUnavailableError",
    "arc_challenge_path",
    "identity_params",
    "source_request",
    "token_request",
]

IMDS_API_VERSION = "2018-02-01"
APP_SERVICE_API_VERSION = "2019-08-01"
SERVICE_FABRIC_API_VERSION = "2019-07-01-preview"
MACHINE_LEARNING_API_VERSION = "2017-09-01"
ARC_API_VERSION = "2020-06-01"
_SF_PARAMS = {"ClientId": "client_id", "ResourceId": "mi_res_id", "ObjectId": "object_id"}

# id type (msal's ManagedIdentity keys) -> query parameter, per source
_ID_PARAMS: dict[str, dict[str, str]] = {
    "imds": {"ClientId": "client_id", "ObjectId": "object_id", "ResourceId": "msi_res_id"},
    "app_service": {"ClientId": "client_id", "ObjectId": "principal_id",
                    "ResourceId": "mi_res_id"},
}


class ManagedIdentityError(EntraAuthError, ValueError):
    """A managed identity is misconfigured, or its endpoint failed in a way we can't retry.

    A ``ValueError`` too, as ``msal.ManagedIdentityError`` is.
    """

    def __init__(self, error_description: str, error: str = "managed_identity_error") -> None:
        super().__init__(error, error_description)


class ManagedIdentityUnavailableError(ManagedIdentityError):
    """No managed identity endpoint answers here (not on Azure, or none configured)."""

    def __init__(self, error_description: str) -> None:
        super().__init__(error_description, "managed_identity_unavailable")


@dataclass(frozen=True)
class IdentitySource:
    """Where managed identity tokens come from.

    Attributes:
        kind: ``"imds"`` (Azure VMs, scale sets, AKS), ``"app_service"`` (App Service,
            Functions, Container Apps, Automation), ``"service_fabric"``, ``"cloud_shell"``,
            ``"machine_learning"`` or ``"azure_arc"``.
        endpoint: The token URL without query string.
        identity_header: App Service's ``IDENTITY_HEADER`` secret (never shown in repr).
    """

    kind: Literal["imds", "app_service", "service_fabric", "cloud_shell",
                  "machine_learning", "azure_arc"]
    endpoint: str
    identity_header: str | None = field(default=None, repr=False)
    #: Service Fabric: the SHA-1 thumbprint of the identity endpoint's certificate.
    server_thumbprint: str | None = None
    #: Azure ML: ``DEFAULT_IDENTITY_CLIENT_ID``, the compute's own identity.
    default_client_id: str | None = None


def identity_params(kind: str, identity: Mapping[str, Any]) -> dict[str, str]:
    """The query parameter naming a user-assigned identity (empty for system-assigned).

    Raises:
        ManagedIdentityError: an unknown id type.
    """
    id_type = identity.get("ManagedIdentityIdType")
    if id_type in (None, "SystemAssigned"):
        return {}
    name = _ID_PARAMS[kind].get(str(id_type))
    value = identity.get("Id")
    if name is None or not value:
        raise ManagedIdentityError(f"unknown managed identity id type {id_type!r}")
    return {name: str(value)}


def token_request(
    source: IdentitySource,
    identity: Mapping[str, Any],
    resource: str,
    *,
    request_id: str,
    timeout: float | None = None,
) -> HttpRequest:
    """The request for one token from ``source``."""
    if source.kind not in ("imds", "app_service"):
        from .managed_identity_sources import source_request

        return source_request(source, identity, resource, request_id=request_id,
                              timeout=timeout)
    if source.kind == "imds":
        params = {"api-version": IMDS_API_VERSION, "resource": resource}
        headers = {"Metadata": "true"}
    else:
        params = {"api-version": APP_SERVICE_API_VERSION, "resource": resource}
        headers = {"X-IDENTITY-HEADER": source.identity_header or "", "Metadata": "true"}
    params.update(identity_params(source.kind, identity))
    headers.update({"Accept": "application/json", "x-ms-client-request-id": request_id,
                    "x-client-sku": "entra_auth.Python"})
    return HttpRequest("GET", f"{source.endpoint}?{urlencode(params)}", headers,
                       idempotent=True, timeout=timeout)


def _user_assigned(identity: Mapping[str, Any]) -> tuple[str, str] | None:
    id_type = identity.get("ManagedIdentityIdType")
    if id_type in (None, "SystemAssigned"):
        return None
    return str(id_type), str(identity.get("Id") or "")


def source_request(source: IdentitySource, identity: Mapping[str, Any], resource: str, *,
                   request_id: str, timeout: float | None) -> HttpRequest:
    """The token request for a Service Fabric, Cloud Shell, Azure ML or Azure Arc source.

    Raises:
        ManagedIdentityError: a user-assigned identity the source can't name.
    """
    common = {"Accept": "application/json", "x-ms-client-request-id": request_id,
              "x-client-sku": "entra_auth.Python"}
    user = _user_assigned(identity)
    if source.kind == "service_fabric":
        params = {"api-version": SERVICE_FABRIC_API_VERSION, "resource": resource}
        if user is not None:
            name = _SF_PARAMS.get(user[0])
            if name is None:
                raise ManagedIdentityError(f"unknown managed identity id type {user[0]!r}")
            params[name] = user[1]
        return HttpRequest("GET", f"{source.endpoint}?{urlencode(params)}",
                           {**common, "Secret": source.identity_header or ""},
                           idempotent=True, timeout=timeout)
    if source.kind == "machine_learning":
        if user is not None and user[0] != "ClientId":
            raise ManagedIdentityError("Azure ML names a user-assigned identity by its client "
                                       "id only; use UserAssignedManagedIdentity(client_id=)")
        client_id = user[1] if user is not None else (source.default_client_id or "")
        params = {"api-version": MACHINE_LEARNING_API_VERSION, "resource": resource,
                  "clientid": client_id}
        return HttpRequest("GET", f"{source.endpoint}?{urlencode(params)}",
                           {**common, "secret": source.identity_header or ""},
                           idempotent=True, timeout=timeout)
    if user is not None:
        where = "Cloud Shell" if source.kind == "cloud_shell" else "Azure Arc"
        raise ManagedIdentityError(f"{where} supports only the system-assigned identity")
    if source.kind == "cloud_shell":
        return HttpRequest("POST", source.endpoint, {**common, "Metadata": "true"},
                           form={"resource": resource}, idempotent=True, timeout=timeout)
    if source.kind == "azure_arc":
        params = {"api-version": ARC_API_VERSION, "resource": resource}
        return HttpRequest("GET", f"{source.endpoint}?{urlencode(params)}",
                           {**common, "Metadata": "true"}, idempotent=True, timeout=timeout)
    raise ManagedIdentityError(f"unknown managed identity source {source.kind!r}")


def arc_challenge_path(response: HttpResponse) -> str:
    """The key file an Azure Arc 401 names (``WWW-Authenticate: Basic realm=<path>``).

    Raises:
        ManagedIdentityError: the 401 carries no such challenge.
    """
    header = response.header("www-authenticate") or ""
    scheme, _, rest = header.strip().partition(" ")
    name, sep, value = rest.strip().partition("=")
    if scheme.lower() != "basic" or not sep or name.strip().lower() != "realm" or not value:
        raise ManagedIdentityError("the Azure Arc identity endpoint answered 401 without a "
                                   "Basic realm=<key file> challenge")
    return value.strip().strip('"')
