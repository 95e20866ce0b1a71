"""Discovery endpoints: OpenID Connect Discovery 1.0, Entra instance discovery, JWKS, user realm.

Shapes follow Entra's v2.0 documents; instance discovery reports ``127.0.0.1:PORT`` and
``localhost:PORT`` as aliases of one environment (api-version 1.1 ``metadata``).
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from .aadsts import EntraError
from .core import Core, Reply, Request

__all__ = ["instance_discovery", "jwks", "openid_configuration", "user_realm"]

_CLAIMS_SUPPORTED = [
    "sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
    "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username",
    "name", "tid", "ver", "at_hash", "c_hash", "email",
]


def openid_configuration(core: Core, req: Request, segment: str) -> Reply:
    """``GET /{tenant}/v2.0/.well-known/openid-configuration``."""
    tenant, canonical = core.directory.resolve_tenant(segment)
    base = f"{core.base_url(req)}/{canonical}"
    issuer = core.issuer(tenant.tenant_id if tenant else "{tenantid}")
    doc = {
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post", "private_key_jwt", "client_secret_basic",
        ],
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer,
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{core.base_url(req)}/oidc/userinfo",
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
        "claims_supported": _CLAIMS_SUPPORTED,
        "kerberos_endpoint": f"{base}/kerberos",
        "tenant_region_scope": "NA" if tenant else None,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": core.canonical_host,
        "rbac_url": "https://pas.windows.net",
    }
    return core.json_reply(req, doc)


def instance_discovery(core: Core, req: Request) -> Reply:
    """``GET /common/discovery/instance?api-version=1.0|1.1&authorization_endpoint=...``."""
    version = req.query.get("api-version", "")
    if not version:
        raise EntraError(400, "invalid_request", 50050,
                         "The required field 'api-version' is missing.")
    if version not in ("1.0", "1.1"):
        raise EntraError(400, "invalid_request", 50050,
                         f"The 'api-version' value '{version[:20]}' is not supported.")
    endpoint = req.query.get("authorization_endpoint", "")
    if not endpoint:
        raise EntraError(400, "invalid_request", 50050,
                         "The required field 'authorization_endpoint' is missing.")
    parts = urlsplit(endpoint)
    host = (parts.netloc or "").lower()
    if host in ("127.0.0.1", "localhost"):
        # MSAL drops the authority's port when it builds this parameter.
        host = f"{host}:{core.port}"
    segments = [s for s in parts.path.split("/") if s]
    if host not in core.hosts or parts.scheme != "https" or not segments:
        err = EntraError(400, "invalid_instance", 50049, "Unknown or invalid instance.")
        return core.error_reply(req, err)
    tenant = segments[0]
    v2 = "/v2.0/" in parts.path + "/"
    suffix = "v2.0/.well-known/openid-configuration" if v2 else ".well-known/openid-configuration"
    doc: dict[str, object] = {
        "tenant_discovery_endpoint": f"{core.scheme}://{host}/{tenant}/{suffix}",
    }
    if version == "1.1":
        doc["api-version"] = "1.1"
        doc["metadata"] = [{
            "preferred_network": core.canonical_host,
            "preferred_cache": core.canonical_host,
            "aliases": list(core.hosts),
        }]
    return core.json_reply(req, doc)


def jwks(core: Core, req: Request, segment: str) -> Reply:
    """``GET /{tenant}/discovery/v2.0/keys``."""
    tenant, _ = core.directory.resolve_tenant(segment)
    return core.json_reply(req, core.signer.jwks(core.issuer(
        tenant.tenant_id if tenant else "{tenantid}")))


def user_realm(core: Core, req: Request, raw_username: str) -> Reply:
    """``GET /common/userrealm/{username}?api-version=1.0`` (all accounts are Managed)."""
    if not req.query.get("api-version"):
        raise EntraError(400, "invalid_request", 50050,
                         "The required field 'api-version' is missing.")
    username = unquote(raw_username)
    domain = username.rpartition("@")[2].lower()
    user = core.directory.user(username)
    tenant = core.directory.home_tenant(user) if user else core.directory.tenant_for_path(domain)
    doc: dict[str, str] = {
        "ver": "1.0",
        "account_type": "Managed" if tenant else "Unknown",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_audience_urn": "urn:federation:MicrosoftOnline",
    }
    if tenant:
        doc["domain_name"] = tenant.domain
        doc["federation_brand_name"] = tenant.display_name or tenant.domain
    return core.json_reply(req, doc)
