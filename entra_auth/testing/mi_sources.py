"""Emulated managed identity endpoints beyond IMDS and App Service, shaped as Azure's.

``GET /servicefabric/token`` (api-version 2019-07-01-preview, ``Secret`` header),
``POST /cloudshell/token`` (``resource`` form field, ``Metadata: true``),
``GET /ml/token`` (api-version 2017-09-01, ``secret`` header, ``clientid``) and
``GET /arc/token`` (api-version 2020-06-01: a 401 naming a fresh key file, then the token
for ``Authorization: Basic <that file's content>``). :func:`managed_identity_environment`
gives the variables each host sets; the identities are :func:`imds.managed_identity_host`'s.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import ssl
import weakref
from typing import Any

from .core import Core, Reply, Request, RunningEmulator
from .imds import ManagedIdentityRecord, _host, _mint, _resource

__all__ = [
    "ARC_PATH",
    "CLOUD_SHELL_PATH",
    "MACHINE_LEARNING_PATH",
    "SERVICE_FABRIC_PATH",
    "arc",
    "cloud_shell",
    "machine_learning",
    "managed_identity_environment",
    "server_thumbprint",
    "service_fabric",
    "set_arc_key_directory",
]

SERVICE_FABRIC_PATH = "/servicefabric/token"
CLOUD_SHELL_PATH = "/cloudshell/token"
MACHINE_LEARNING_PATH = "/ml/token"
ARC_PATH = "/arc/token"

# Per emulator core: where Arc writes its key files, and the keys it issued (one use each).
_ARC: weakref.WeakKeyDictionary[Core, dict[str, Any]] = weakref.WeakKeyDictionary()


def _arc_state(core: Core) -> dict[str, Any]:
    with core.state.lock:
        return _ARC.setdefault(core, {"directory": None, "keys": set()})


def _error(status: int, error: str, description: str) -> Reply:
    return Reply.json({"error": error, "error_description": description}, status)


def _token(core: Core, record: ManagedIdentityRecord | None, name: str,
           *, expires_on_as_int: bool) -> Reply:
    if record is None:
        return _error(400, "invalid_request", "Identity not found")
    resource = _resource(core, name) if name else None
    if resource is None:
        return _error(400, "invalid_resource", "AADSTS500011: The resource principal named "
                      f"{name[:200]} was not found in the tenant.")
    token, now = _mint(core, record, resource)
    lifetime = core.settings.access_token_lifetime
    expires_on: Any = now + lifetime if expires_on_as_int else str(now + lifetime)
    return Reply.json({"access_token": token, "expires_on": expires_on, "resource": name,
                       "token_type": "Bearer", "client_id": record.client_id})


def _user_assigned(core: Core, params: dict[str, str],
                   names: dict[str, str]) -> tuple[bool, ManagedIdentityRecord | None]:
    host = _host(core)
    for name, attr in names.items():
        if params.get(name):
            return True, host.find(attr, params[name])
    return False, host.system_assigned


def service_fabric(core: Core, req: Request) -> Reply:
    """``GET /servicefabric/token``: a Service Fabric application's identity."""
    host = _host(core)
    if req.method != "GET":
        return _error(405, "invalid_request", "Only GET is supported.")
    if not hmac.compare_digest(req.headers.get("secret", "").encode(),
                               host.identity_header.encode()):
        return _error(401, "invalid_request", "The Secret header is missing or wrong.")
    if req.query.get("api-version") != "2019-07-01-preview":
        return _error(400, "invalid_request", "api-version must be 2019-07-01-preview.")
    _, record = _user_assigned(core, req.query, {"client_id": "client_id",
                                                 "object_id": "object_id",
                                                 "mi_res_id": "resource_id"})
    return _token(core, record, req.query.get("resource", ""), expires_on_as_int=True)


def cloud_shell(core: Core, req: Request) -> Reply:
    """``POST /cloudshell/token``: the signed-in Cloud Shell user's system identity."""
    if req.method != "POST":
        return _error(405, "invalid_request", "Only POST is supported.")
    if req.headers.get("metadata", "").lower() != "true":
        return _error(400, "invalid_request", "Required metadata header not specified")
    return _token(core, _host(core).system_assigned, req.form.get("resource", ""),
                  expires_on_as_int=False)


def machine_learning(core: Core, req: Request) -> Reply:
    """``GET /ml/token``: an Azure ML compute's identity, named by ``clientid``."""
    host = _host(core)
    if not hmac.compare_digest(req.headers.get("secret", "").encode(),
                               host.identity_header.encode()):
        return _error(401, "invalid_request", "The secret header is missing or wrong.")
    if req.query.get("api-version") != "2017-09-01":
        return _error(400, "invalid_request", "api-version must be 2017-09-01.")
    client_id = req.query.get("clientid", "")
    record = host.find("client_id", client_id)
    if record is None and host.system_assigned is not None and (
            client_id.lower() == host.system_assigned.client_id.lower()):
        record = host.system_assigned
    return _token(core, record, req.query.get("resource", ""), expires_on_as_int=True)


def arc(core: Core, req: Request) -> Reply:
    """``GET /arc/token``: Azure Arc's challenge-file handshake, then the machine's token."""
    state = _arc_state(core)
    if req.headers.get("metadata", "").lower() != "true":
        return _error(400, "invalid_request", "Required metadata header not specified")
    if req.query.get("api-version") != "2020-06-01":
        return _error(400, "invalid_request", "api-version must be 2020-06-01.")
    auth = req.headers.get("authorization", "")
    if not auth:
        directory = state["directory"]
        if directory is None:
            return _error(500, "server_error", "set_arc_key_directory() was not called")
        key = secrets.token_urlsafe(24)
        path = os.path.join(directory, f"{secrets.token_hex(8)}.key")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(key)
        state["keys"].add(key)
        return Reply(401, [("WWW-Authenticate", f"Basic realm={path}"),
                           ("Content-Type", "application/json")], b"{}")
    scheme, _, key = auth.partition(" ")
    if scheme.lower() != "basic" or key not in state["keys"]:
        return _error(401, "invalid_request", "The key file's content does not match.")
    state["keys"].discard(key)
    return _token(core, _host(core).system_assigned, req.query.get("resource", ""),
                  expires_on_as_int=False)


def set_arc_key_directory(emulator: RunningEmulator, directory: str) -> None:
    """Where the emulated Arc agent writes its challenge key files."""
    _arc_state(emulator._core)["directory"] = directory


def server_thumbprint(emulator: RunningEmulator) -> str:
    """The SHA-1 thumbprint of the emulator's TLS certificate (Service Fabric pins it)."""
    host, port = emulator.base_url.removeprefix("https://").rsplit(":", 1)
    pem = ssl.get_server_certificate((host, int(port)))
    return hashlib.sha1(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper()  # noqa: S324


def managed_identity_environment(emulator: RunningEmulator, source: str) -> dict[str, str]:
    """The variables a host of ``source`` sets (``service_fabric``, ``cloud_shell``,
    ``machine_learning``, ``azure_arc``), pointing at the emulator."""
    host = _host(emulator._core)
    base = emulator.base_url
    if source == "service_fabric":
        return {"IDENTITY_ENDPOINT": base + SERVICE_FABRIC_PATH,
                "IDENTITY_HEADER": host.identity_header,
                "IDENTITY_SERVER_THUMBPRINT": server_thumbprint(emulator)}
    if source == "cloud_shell":
        return {"MSI_ENDPOINT": base + CLOUD_SHELL_PATH,
                "AZUREPS_HOST_ENVIRONMENT": "cloud-shell/1.0"}
    if source == "machine_learning":
        system = host.system_assigned
        return {"MSI_ENDPOINT": base + MACHINE_LEARNING_PATH, "MSI_SECRET": host.identity_header,
                "DEFAULT_IDENTITY_CLIENT_ID": system.client_id if system else ""}
    if source == "azure_arc":
        return {"IDENTITY_ENDPOINT": base + ARC_PATH, "IMDS_ENDPOINT": base}
    raise ValueError(f"unknown managed identity source {source!r}")
