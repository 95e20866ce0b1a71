"""The emulator's directory model: tenants, app registrations, users, API resources, settings.

Plain dataclasses, declared in Python or loaded from JSON (:mod:`entra_auth.testing.config`).
Mirrors the Microsoft Entra ID objects the v2.0 endpoints consult; see docs/emulator.md.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

__all__ = [
    "App",
    "EmulatorConfig",
    "FederatedCredential",
    "GRAPH_APP_ID",
    "GRAPH_RESOURCE",
    "MSA_TENANT_ID",
    "Resource",
    "Settings",
    "Tenant",
    "User",
]

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_RESOURCE = "https://graph.microsoft.com"
MSA_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"


def _new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Tenant:
    """A directory (tenant).

    Args:
        tenant_id: The tenant GUID (the ``tid`` claim).
        domain: Its verified domain, e.g. ``contoso.onmicrosoft.com``; usable in authority URLs.
        display_name: A friendly name.
    """

    tenant_id: str
    domain: str
    display_name: str = ""


@dataclass
class User:
    """A user account.

    Args:
        username: The sign-in name (UPN), e.g. ``alice@contoso.onmicrosoft.com``.
        password: The password the sign-in page and the password grant accept.
        display_name: The ``name`` claim.
        tenant: Home tenant id or domain; empty means the first tenant.
        object_id: The ``oid`` claim (a GUID; generated when omitted).
        mfa_required: Whether sign-in requires a second factor (the one-time ``mfa_code``).
        mfa_code: The one-time code the MFA page accepts.
    """

    username: str
    password: str
    display_name: str = ""
    tenant: str = ""
    object_id: str = field(default_factory=_new_id)
    mfa_required: bool = False
    mfa_code: str = "123456"


@dataclass
class Resource:
    """An API that accepts access tokens (a service principal with an identifier URI).

    Args:
        app_id: The resource's application id; the ``aud`` of its access tokens.
        identifier_uri: The scope prefix, e.g. ``https://graph.microsoft.com`` or ``api://...``.
        scopes: Delegated permissions (``scp``), e.g. ``["User.Read"]``.
        app_roles: Application permissions (``roles``), e.g. ``["User.Read.All"]``.
        display_name: A friendly name.
    """

    app_id: str
    identifier_uri: str
    scopes: list[str] = field(default_factory=list)
    app_roles: list[str] = field(default_factory=list)
    display_name: str = ""


@dataclass
class FederatedCredential:
    """A federated identity credential on an app: which external tokens it accepts.

    Args:
        issuer: The external token's ``iss``, matched exactly (case-sensitive, as Entra),
            e.g. ``https://token.actions.githubusercontent.com``.
        subject: The external token's ``sub``, matched exactly, e.g.
            ``system:serviceaccount:default:workload-identity-sa``.
        audiences: Accepted ``aud`` values (Entra's default ``api://AzureADTokenExchange``).
        name: A friendly name.
    """

    issuer: str
    subject: str
    audiences: list[str] = field(default_factory=lambda: ["api://AzureADTokenExchange"])
    name: str = ""


@dataclass
class App:
    """An app registration (a client).

    Args:
        client_id: The application (client) id.
        display_name: A friendly name.
        public_client: True for public clients (no credentials); False for confidential ones.
        secrets: Client secrets a confidential client may present.
        certificates: PEM certificates whose keys may sign client assertions (matched by
            SHA-1 ``x5t`` or SHA-256 ``x5t#S256`` thumbprint, or by the leaf of ``x5c``).
        trusted_subjects: Subject names (e.g. ``CN=app.contoso.com``) accepted for
            subject-name/issuer authentication: an ``x5c`` chain issued by the emulator's CA.
        redirect_uris: Registered redirect URIs. ``http://localhost`` matches any port.
        spa_redirect_uris: Redirect URIs of the single-page-application platform: their
            codes are redeemed only cross-origin (CORS, from the browser), others never.
        family_id: FOCI family (``"1"``) or None.
        consented_scopes: Delegated permissions with tenant-wide (admin) consent, as full
            scope strings, e.g. ``https://graph.microsoft.com/User.Read``.
        app_roles: Granted application permissions, e.g. ``https://graph.microsoft.com/User.Read.All``.
        federated_credentials: External issuers' tokens this app accepts as client
            assertions (workload identity federation).
    """

    client_id: str
    display_name: str = ""
    public_client: bool = True
    secrets: list[str] = field(default_factory=list)
    certificates: list[str] = field(default_factory=list)
    trusted_subjects: list[str] = field(default_factory=list)
    redirect_uris: list[str] = field(default_factory=list)
    spa_redirect_uris: list[str] = field(default_factory=list)
    family_id: str | None = None
    consented_scopes: list[str] = field(default_factory=list)
    app_roles: list[str] = field(default_factory=list)
    federated_credentials: list[FederatedCredential] = field(default_factory=list)


@dataclass
class Settings:
    """Behaviour knobs, in seconds where a duration.

    Args:
        access_token_lifetime: ``expires_in`` of access tokens.
        refresh_token_lifetime: How long a refresh token stays redeemable.
        id_token_lifetime: ``exp - iat`` of id tokens.
        auth_code_lifetime: How long an authorization code stays redeemable.
        device_code_lifetime: ``expires_in`` of device codes.
        device_poll_interval: ``interval`` in the devicecode response (use 1 in tests).
        refresh_in: When set, ``refresh_in`` sent with access tokens.
        revoke_rotated_refresh_tokens: When True a redeemed refresh token stops working
            (Entra keeps it valid until it expires: False).
        auto_approve: Skip the sign-in page: sign in the ``login_hint`` user (else the first
            user) and grant consent; device codes are approved for the first user as soon as
            they are issued.
        issue_refresh_tokens: Send ``refresh_token`` to user flows.
        cae_requires_capability: Only challenge revoked tokens whose client declared the
            ``CP1`` capability (``xms_cc``), as Graph does; False challenges every token.
        refuse_assertion_replay: Refuse a certificate-signed client assertion whose ``jti``
            was already accepted (until the assertion's ``exp``), to test that your own
            assertion source mints a fresh one each time. Off by default, as Entra accepts a
            repeated ``jti`` (msal reuses one signed assertion for up to 9 minutes).
    """

    access_token_lifetime: int = 3600
    refresh_token_lifetime: int = 90 * 24 * 3600
    id_token_lifetime: int = 3600
    auth_code_lifetime: int = 600
    device_code_lifetime: int = 900
    device_poll_interval: int = 5
    refresh_in: int | None = None
    revoke_rotated_refresh_tokens: bool = False
    auto_approve: bool = False
    issue_refresh_tokens: bool = True
    cae_requires_capability: bool = False
    refuse_assertion_replay: bool = False


@dataclass
class EmulatorConfig:
    """Everything the emulator knows at start (and returns to after ``reset()``)."""

    tenants: list[Tenant] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    apps: list[App] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    settings: Settings = field(default_factory=Settings)
