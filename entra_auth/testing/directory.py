"""Look-ups over the emulator's model: tenants by alias, apps, users, and scope resolution.

Implements Entra's v2.0 scope rules: reserved OIDC scopes, one resource per request, bare
names meaning Microsoft Graph, ``{resource}/.default``, and delegated-permission consent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .aadsts import EntraError
from .model import GRAPH_APP_ID, MSA_TENANT_ID, App, EmulatorConfig, Resource, Tenant, User

__all__ = ["ALIASES", "Directory", "ScopeRequest", "RESERVED_SCOPES"]

ALIASES = ("common", "organizations", "consumers")
RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})


@dataclass
class ScopeRequest:
    """A parsed ``scope`` parameter: one resource, its permission names, and OIDC scopes."""

    resource: Resource
    names: list[str] = field(default_factory=list)
    reserved: set[str] = field(default_factory=set)
    default: bool = False  # "{resource}/.default"
    # How the request spelled each permission's resource: the prefix before the last "/"
    # ("https://graph.microsoft.com", "https://management.core.windows.net/", an app id), or
    # "" for a bare name. Keyed by the permission's lowercased name; ".default" included.
    prefixes: dict[str, str] = field(default_factory=dict)

    def full(self, name: str) -> str:
        """A permission as a full scope string, e.g. ``https://graph.microsoft.com/User.Read``."""
        return f"{self.resource.identifier_uri.rstrip('/')}/{name}"

    def _spelled(self, name: str, prefix: str) -> str:
        if not prefix or _is_guid(prefix):
            return name  # a bare name, or an app-id prefix: answered bare (see docs/emulator.md)
        return f"{prefix}/{name}"

    def response_scopes(self, granted: list[str]) -> str:
        """The ``scope`` value of a token response, spelled as the request spelled it.

        Entra echoes a permission with the resource prefix the request used (full URI for a
        full-URI request, the short name for a bare Graph name), and echoes ``.default``
        beside the granted permissions of a ``.default`` request.
        """
        fallback = self.prefixes.get(".default", "")
        parts = [self._spelled(n, self.prefixes.get(n.lower(), fallback)) for n in granted]
        if self.default:
            parts.append(self._spelled(".default", fallback))
        parts += sorted(self.reserved & {"openid", "profile", "email"})
        return " ".join(parts)


class Directory:
    """Read-only queries over an :class:`EmulatorConfig` (the caller holds the state lock)."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config

    # tenants -------------------------------------------------------------------------------
    def tenant_for_path(self, segment: str) -> Tenant | None:
        """The tenant a path segment names (GUID or domain); None for an alias or unknown."""
        key = segment.lower()
        for tenant in self.config.tenants:
            if key in (tenant.tenant_id.lower(), tenant.domain.lower()):
                return tenant
        return None

    def resolve_tenant(self, segment: str) -> tuple[Tenant | None, str]:
        """Return (tenant or None for an alias, canonical segment).

        Raises:
            EntraError: AADSTS90002 for an unknown tenant.
        """
        key = segment.lower()
        if key in ALIASES:
            return None, key
        if key == MSA_TENANT_ID:
            return None, "consumers"
        tenant = self.tenant_for_path(segment)
        if tenant is None:
            raise EntraError(
                400, "invalid_tenant", 90002,
                f"Tenant '{segment[:64]}' not found. Check to make sure you have the correct "
                "tenant ID and are signing into the correct cloud.",
            )
        return tenant, tenant.tenant_id

    def home_tenant(self, user: User) -> Tenant:
        """The user's home tenant (its declared tenant, else the first one)."""
        if user.tenant:
            found = self.tenant_for_path(user.tenant)
            if found is not None:
                return found
        return self.config.tenants[0]

    def default_tenant(self) -> Tenant:
        """The first declared tenant (used for app-only requests at an alias authority)."""
        return self.config.tenants[0]

    # principals -----------------------------------------------------------------------------
    def app(self, client_id: str) -> App | None:
        """The app registration with this client id, if any."""
        key = client_id.lower()
        return next((a for a in self.config.apps if a.client_id.lower() == key), None)

    def require_app(self, client_id: str, tenant_label: str) -> App:
        """The app, or AADSTS700016 (unauthorized_client) as Entra answers for unknown ids."""
        app = self.app(client_id)
        if app is None:
            raise EntraError(
                400, "unauthorized_client", 700016,
                f"Application with identifier '{client_id[:64]}' was not found in the directory "
                f"'{tenant_label}'. This can happen if the application has not been installed by "
                "the administrator of the tenant or consented to by any user in the tenant.",
            )
        return app

    def user(self, username: str) -> User | None:
        """The user with this sign-in name (case-insensitive)."""
        key = username.strip().lower()
        return next((u for u in self.config.users if u.username.lower() == key), None)

    def user_by_oid(self, oid: str) -> User | None:
        """The user with this object id."""
        return next((u for u in self.config.users if u.object_id == oid), None)

    def user_in(self, user: User, tenant: Tenant | None, alias: str) -> bool:
        """Whether the user may sign in at this authority (tenant or alias)."""
        if alias == "consumers":
            return self.home_tenant(user).tenant_id == MSA_TENANT_ID
        return tenant is None or self.home_tenant(user).tenant_id == tenant.tenant_id

    # resources and scopes --------------------------------------------------------------------
    def resource_for(self, prefix: str) -> Resource | None:
        """The resource whose identifier URI or app id is this prefix."""
        key = prefix.rstrip("/").lower()
        for resource in self.config.resources:
            if key in (resource.identifier_uri.rstrip("/").lower(), resource.app_id.lower()):
                return resource
        return None

    def graph(self) -> Resource:
        """Microsoft Graph (the resource of bare scope names).

        Raises:
            EntraError: AADSTS500011 when the configuration has no Graph resource.
        """
        graph = self.resource_for(GRAPH_APP_ID)
        if graph is None:
            raise EntraError(400, "invalid_resource", 500011,
                             "The resource principal named https://graph.microsoft.com was not "
                             "found in the tenant.")
        return graph

    def parse_scopes(self, scope: str, *, tenant_label: str) -> ScopeRequest:
        """Parse a ``scope`` parameter into one resource and its permissions.

        Raises:
            EntraError: 28000 (several resources), 500011 (unknown resource), 70011 (bad scope).
        """
        reserved: set[str] = set()
        prefixes: dict[str, str] = {}
        by_resource: dict[str, tuple[Resource, list[str]]] = {}
        for item in scope.split():
            if item.lower() in RESERVED_SCOPES:
                reserved.add(item.lower())
                continue
            prefix, sep, name = item.rpartition("/")
            if _is_bare_resource(item):
                # "https://graph.microsoft.com": a resource, not a scope (v1's resource=)
                raise _invalid_scope_value(scope)
            if not sep:
                resource, name = self.graph(), item
            else:
                found = self.resource_for(prefix)
                if found is None:
                    raise EntraError(
                        400, "invalid_resource", 500011,
                        f"The resource principal named {prefix[:200]} was not found in the "
                        f"tenant named {tenant_label}. This can happen if the application has "
                        "not been installed by the administrator of the tenant or consented to "
                        "by any user in the tenant.",
                    )
                resource = found
            if not name:
                raise _bad_scope(item)
            prefixes.setdefault(name.lower(), prefix)
            by_resource.setdefault(resource.app_id, (resource, []))[1].append(name)
        if len(by_resource) > 1:
            raise EntraError(
                400, "invalid_scope", 28000,
                "Provided value for the input parameter scope is not valid because it contains "
                "more than one resource.",
            )
        if not by_resource:
            return ScopeRequest(self.graph(), [], reserved, prefixes=prefixes)
        resource, names = next(iter(by_resource.values()))
        is_default = ".default" in names
        if is_default and len(names) > 1:
            raise EntraError(400, "invalid_scope", 70011,
                             "The provided value for the input parameter 'scope' is not valid. "
                             ".default cannot be combined with other scopes of the resource.")
        if not is_default:
            known = {s.lower(): s for s in resource.scopes}
            for name in names:
                if name.lower() not in known:
                    raise _bad_scope(name)
            names = sorted({known[n.lower()] for n in names})
        return ScopeRequest(resource, [] if is_default else names, reserved, is_default,
                            prefixes)

    def consented(self, app: App, user_consents: set[str], request: ScopeRequest) -> list[str]:
        """Delegated permissions of the request the app may use (admin or user consent)."""
        granted = {s.lower() for s in app.consented_scopes} | {s.lower() for s in user_consents}
        if request.default:
            return sorted(n for n in request.resource.scopes if request.full(n).lower() in granted)
        return [n for n in request.names if request.full(n).lower() in granted]

    def app_roles(self, app: App, resource: Resource) -> list[str]:
        """Application permissions granted to the app on a resource."""
        prefix = resource.identifier_uri.rstrip("/").lower() + "/"
        known = {r.lower(): r for r in resource.app_roles}
        roles = []
        for role in app.app_roles:
            if role.lower().startswith(prefix) and role[len(prefix):].lower() in known:
                roles.append(known[role[len(prefix):].lower()])
        return sorted(roles)


_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def _is_guid(text: str) -> bool:
    return bool(_GUID.match(text))


def _is_bare_resource(item: str) -> bool:
    """``https://host`` or ``https://host/`` (no path): a resource URL where a scope belongs."""
    scheme, sep, rest = item.partition("://")
    return bool(sep) and bool(scheme) and "/" not in rest.rstrip("/")


def _invalid_scope_value(scope: str) -> EntraError:
    # Entra quotes the whole scope parameter in 70011 (payloads: "The scope mail.send
    # user.read is not valid.").
    return EntraError(
        400, "invalid_scope", 70011,
        "The provided request must include a 'scope' input parameter. The provided value for "
        f"the input parameter 'scope' is not valid. The scope {scope[:400]} is not valid.",
    )


def _bad_scope(item: str) -> EntraError:
    return EntraError(
        400, "invalid_scope", 70011,
        f"The provided value for the input parameter 'scope' is not valid. The scope "
        f"'{item[:200]}' does not exist on the resource.",
    )
