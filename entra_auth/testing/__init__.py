"""A local Microsoft Entra ID emulator for tests and demos (``entra_auth.testing``).

Speaks Entra's v2.0 protocol (OIDC discovery, authorize, token, device code, JWKS) and a
Graph-shaped resource over real HTTPS on 127.0.0.1. Independent of the client library.
See docs/emulator.md.
"""

from __future__ import annotations

from .certs import ClientCertificate, generate_client_certificate
from .config import (
    DEFAULT_TENANT_DOMAIN,
    DEFAULT_TENANT_ID,
    FAMILY_APP_ID,
    PUBLIC_CLIENT_ID,
    SPA_CLIENT_ID,
    WEB_API_ID,
    WEB_API_SECRET,
    WEB_APP_ID,
    WEB_APP_SECRET,
    WEB_APP_SUBJECT,
    ConfigError,
    config_from_dict,
    config_to_dict,
    default_config,
    default_web_app_certificate,
    load_config,
)
from .emulator import Emulator
from .faults import Fault
from .federation import TokenIssuer
from .model import (
    GRAPH_APP_ID,
    GRAPH_RESOURCE,
    App,
    EmulatorConfig,
    FederatedCredential,
    Resource,
    Settings,
    Tenant,
    User,
)
from .state import LoggedRequest
from .user_agent import Browser, SignInError, complete_authorization, enter_device_code

__all__ = [
    "App",
    "Browser",
    "ClientCertificate",
    "ConfigError",
    "DEFAULT_TENANT_DOMAIN",
    "DEFAULT_TENANT_ID",
    "Emulator",
    "EmulatorConfig",
    "FAMILY_APP_ID",
    "FederatedCredential",
    "Fault",
    "GRAPH_APP_ID",
    "GRAPH_RESOURCE",
    "LoggedRequest",
    "PUBLIC_CLIENT_ID",
    "Resource",
    "Settings",
    "SignInError",
    "SPA_CLIENT_ID",
    "Tenant",
    "TokenIssuer",
    "User",
    "WEB_API_ID",
    "WEB_API_SECRET",
    "WEB_APP_ID",
    "WEB_APP_SECRET",
    "WEB_APP_SUBJECT",
    "complete_authorization",
    "config_from_dict",
    "config_to_dict",
    "default_config",
    "default_web_app_certificate",
    "enter_device_code",
    "generate_client_certificate",
    "load_config",
]
