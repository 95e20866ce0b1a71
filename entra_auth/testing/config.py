"""The emulator's default directory, and loading/validating one from JSON.

The JSON shape mirrors the dataclasses of :mod:`entra_auth.testing.model` (see
docs/emulator.md). Bad input raises :class:`ConfigError` naming the offending field.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from .model import (
    GRAPH_APP_ID,
    GRAPH_RESOURCE,
    App,
    EmulatorConfig,
    Resource,
    Settings,
    Tenant,
    User,
)

if typing.TYPE_CHECKING:
    from .certs import ClientCertificate

__all__ = [
    "ConfigError",
    "DEFAULT_TENANT_ID",
    "DEFAULT_TENANT_DOMAIN",
    "FAMILY_APP_ID",
    "PUBLIC_CLIENT_ID",
    "WEB_API_ID",
    "WEB_API_SECRET",
    "SPA_CLIENT_ID",
    "WEB_APP_ID",
    "WEB_APP_SECRET",
    "WEB_APP_SUBJECT",
    "config_from_dict",
    "config_to_dict",
    "default_config",
    "default_web_app_certificate",
    "load_config",
    "validate_config",
]

DEFAULT_TENANT_ID = "3f1d2c4b-5a6e-4f70-8a9b-0c1d2e3f4a5b"
DEFAULT_TENANT_DOMAIN = "contoso.onmicrosoft.com"
PUBLIC_CLIENT_ID = "6a9f4c2e-1b3d-4e5f-8a7b-9c0d1e2f3a4b"
FAMILY_APP_ID = "7b0e5d3f-2c4e-4f60-9b8c-0d1e2f3a4b5c"
WEB_APP_ID = "8c1f6e40-3d5f-4071-8c9d-1e2f3a4b5c6d"
WEB_APP_SECRET = "web-app-secret-value"
WEB_APP_SUBJECT = "CN=webapp.contoso.test"
WEB_API_ID = "9d207f51-4e60-4182-9dae-2f3a4b5c6d7e"
WEB_API_SECRET = "web-api-secret-value"
WEB_API_URI = f"api://{WEB_API_ID}"
SPA_CLIENT_ID = "ae318062-5f71-4293-8ebf-3a4b5c6d7e8f"


class ConfigError(ValueError):
    """An emulator configuration is malformed or inconsistent."""


@functools.lru_cache(maxsize=1)
def default_web_app_certificate() -> ClientCertificate:
    """The certificate (with its private key) registered on the default web app.

    Generated once per process, so every default configuration shares it.
    """
    from .certs import generate_client_certificate

    return generate_client_certificate("webapp.contoso.test self-signed")


def default_config() -> EmulatorConfig:
    """Return the shipped directory: one tenant, two users, five apps, Graph and a web API.

    * ``alice@contoso.onmicrosoft.com`` / ``alice-password``; ``bob@...`` / ``bob-password``
      needs MFA (code ``123456``).
    * Public client ``PUBLIC_CLIENT_ID`` and ``FAMILY_APP_ID``, both in FOCI family ``"1"``.
    * Confidential web app ``WEB_APP_ID`` with ``WEB_APP_SECRET``, the certificate of
      :func:`default_web_app_certificate`, and subject name ``WEB_APP_SUBJECT``.
    * Web API ``WEB_API_ID`` (``api://WEB_API_ID/access_as_user``) for on-behalf-of.
    * Single-page app ``SPA_CLIENT_ID`` (the API's Swagger UI): SPA redirect URIs
      ``http://localhost/docs/oauth2-redirect`` and ``http://127.0.0.1/...`` (any port), with
      consent for ``access_as_user``.
    """
    graph_user_read = f"{GRAPH_RESOURCE}/User.Read"
    api_scope = f"{WEB_API_URI}/access_as_user"
    return EmulatorConfig(
        tenants=[Tenant(DEFAULT_TENANT_ID, DEFAULT_TENANT_DOMAIN, "Contoso")],
        users=[
            User(
                "alice@contoso.onmicrosoft.com", "alice-password", "Alice Example",
                object_id="1a2b3c4d-0000-4000-8000-00000000a11c",
            ),
            User(
                "bob@contoso.onmicrosoft.com", "bob-password", "Bob Example",
                object_id="1a2b3c4d-0000-4000-8000-000000000b0b", mfa_required=True,
            ),
        ],
        apps=[
            App(
                PUBLIC_CLIENT_ID, "Contoso Desktop", public_client=True,
                redirect_uris=["http://localhost"], family_id="1",
                consented_scopes=[graph_user_read, api_scope],
            ),
            App(
                FAMILY_APP_ID, "Contoso Mobile", public_client=True,
                redirect_uris=["http://localhost"], family_id="1",
                consented_scopes=[graph_user_read],
            ),
            App(
                WEB_APP_ID, "Contoso Web", public_client=False,
                secrets=[WEB_APP_SECRET],
                certificates=[default_web_app_certificate().certificate_pem],
                trusted_subjects=[WEB_APP_SUBJECT],
                redirect_uris=["http://localhost/callback", "https://localhost/callback"],
                consented_scopes=[graph_user_read],
                app_roles=[f"{GRAPH_RESOURCE}/User.Read.All", f"{WEB_API_URI}/Data.Read.All"],
            ),
            App(
                WEB_API_ID, "Contoso API", public_client=False, secrets=[WEB_API_SECRET],
                consented_scopes=[graph_user_read],
            ),
            App(
                SPA_CLIENT_ID, "Contoso API docs (Swagger UI)", public_client=True,
                spa_redirect_uris=["http://localhost/docs/oauth2-redirect",
                                   "http://127.0.0.1/docs/oauth2-redirect"],
                consented_scopes=[api_scope],
            ),
        ],
        resources=[
            Resource(
                GRAPH_APP_ID, GRAPH_RESOURCE,
                scopes=["User.Read", "User.ReadBasic.All", "Mail.Read", "Mail.Send",
                        "Files.Read"],
                app_roles=["User.Read.All", "Mail.Read"],
                display_name="Microsoft Graph",
            ),
            Resource(
                WEB_API_ID, WEB_API_URI, scopes=["access_as_user"],
                app_roles=["Data.Read.All"], display_name="Contoso API",
            ),
        ],
        settings=Settings(),
    )


T = TypeVar("T")


def _check_value(value: Any, annotation: Any, where: str) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return None
        inner = [a for a in options if a is not type(None)]
        return _check_value(value, inner[0], where)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where} must be a list")
        (item,) = typing.get_args(annotation)
        return [_check_value(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{where} must be a non-negative integer")
        return value
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string")
        return value
    if dataclasses.is_dataclass(annotation):
        return _from_dict(annotation, value, where)  # type: ignore[arg-type]
    raise ConfigError(f"{where}: unsupported field type")  # pragma: no cover


def _from_dict(cls: type[T], data: Any, where: str) -> T:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be an object")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(map(repr, unknown))}")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name in data:
            kwargs[name] = _check_value(data[name], hints[name], f"{where}.{name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{where}: missing required field {name!r}")
    return cls(**kwargs)


def config_from_dict(data: Any, *, base_dir: str | None = None) -> EmulatorConfig:
    """Build and validate a configuration from parsed JSON.

    Certificate entries may be PEM text or a path to a PEM file (relative to ``base_dir``).

    Raises:
        ConfigError: A field is missing, unknown, of the wrong type, or inconsistent.
    """
    config = _from_dict(EmulatorConfig, data, "config")
    for app in config.apps:
        for i, cert in enumerate(app.certificates):
            if "-----BEGIN" not in cert:
                path = os.path.join(base_dir or ".", cert)
                try:
                    with open(path, encoding="ascii") as fh:
                        app.certificates[i] = fh.read()
                except (OSError, UnicodeDecodeError) as exc:
                    raise ConfigError(
                        f"app {app.client_id}: cannot read certificate file {cert!r}"
                    ) from exc
    validate_config(config)
    return config


def load_config(path: str) -> EmulatorConfig:
    """Load a JSON configuration file.

    Raises:
        ConfigError: The file is unreadable, not JSON, or not a valid configuration.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path!r}: {exc.strerror}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path!r} is not valid JSON: {exc}") from exc
    return config_from_dict(data, base_dir=os.path.dirname(os.path.abspath(path)))


def config_to_dict(config: EmulatorConfig) -> dict[str, Any]:
    """Return the JSON-able form of a configuration (the inverse of :func:`config_from_dict`)."""
    return dataclasses.asdict(config)


def validate_config(config: EmulatorConfig) -> None:
    """Check cross-references and uniqueness.

    Raises:
        ConfigError: Something is inconsistent (duplicate ids, unknown tenant, bad certificate).
    """
    from .certs import thumbprints

    if not config.tenants:
        raise ConfigError("config declares no tenant")
    tenant_keys = set()
    for tenant in config.tenants:
        for key in (tenant.tenant_id.lower(), tenant.domain.lower()):
            if not key or key in tenant_keys:
                raise ConfigError(f"tenant id/domain {key!r} is empty or declared twice")
            tenant_keys.add(key)
    names: set[str] = set()
    for user in config.users:
        if not user.username or user.username.lower() in names:
            raise ConfigError(f"user {user.username!r} is empty or declared twice")
        names.add(user.username.lower())
        if user.tenant and user.tenant.lower() not in tenant_keys:
            raise ConfigError(f"user {user.username!r}: unknown tenant {user.tenant!r}")
    ids: set[str] = set()
    for app in config.apps:
        if not app.client_id or app.client_id.lower() in ids:
            raise ConfigError(f"app {app.client_id!r} is empty or declared twice")
        ids.add(app.client_id.lower())
        for cert in app.certificates:
            try:
                thumbprints(cert)
            except ValueError as exc:
                raise ConfigError(f"app {app.client_id}: unparseable certificate") from exc
    uris: set[str] = set()
    for resource in config.resources:
        uri = resource.identifier_uri.rstrip("/").lower()
        if not uri or uri in uris:
            raise ConfigError(f"resource {resource.identifier_uri!r} is empty or declared twice")
        uris.add(uri)
