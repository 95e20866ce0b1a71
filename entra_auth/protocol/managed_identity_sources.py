"""Requests for the managed identity sources beyond IMDS and App Service (no I/O).

As MSAL sends them: Service Fabric (``GET $IDENTITY_ENDPOINT?api-version=2019-07-01-preview``,
``Secret`` header), Cloud Shell (``POST $MSI_ENDPOINT`` with a ``resource`` form field,
``Metadata: true``), Azure ML (``GET $MSI_ENDPOINT?api-version=2017-09-01&clientid=...``,
``secret`` header) and Azure Arc (``GET $IDENTITY_ENDPOINT?api-version=2020-06-01``, answered
with a 401 whose ``WWW-Authenticate: Basic realm=<file>`` names the secret to send back).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from .managed_identity import IdentitySource, ManagedIdentityError
from .messages import HttpRequest, HttpResponse

__all__ = ["arc_challenge_path", "source_request"]

SERVICE_FABRIC_API_VERSION = "2019-07-01-preview"
MACHINE_LEARNING_API_VERSION = "2017-09-01"
ARC_API_VERSION = "2020-06-01"
_SF_PARAMS = {"ClientId": "client_id", "ResourceId": "mi_res_id", "ObjectId": "object_id"}


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
