"""Instance discovery and OpenID Connect discovery for an authority, as flows.

Entra instance discovery (``/common/discovery/instance``, api-version 1.0 for validation, 1.1
for host aliases) and OpenID Connect Discovery 1.0 (``.well-known/openid-configuration``).
A loopback authority (the emulator) is asked about itself, since login.microsoftonline.com is
out of reach in tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from .authority import WELL_KNOWN_AUTHORITY_HOSTS, WORLD_WIDE, Authority, tenant_of
from .context import ClientContext, FlowError
from .messages import Flow
from .pkce import uuid4
from .token_request import error_result, get_json

__all__ = [
    "AuthorityMetadata", "authority_aliases", "discover", "known_aliases", "known_metadata",
]


@dataclass(frozen=True)
class AuthorityMetadata:
    """Endpoints of a validated authority. ``realm`` is the cache realm (token endpoint tenant)."""

    authority: Authority
    authorization_endpoint: str
    token_endpoint: str
    device_authorization_endpoint: str | None
    issuer: str | None
    realm: str

    @property
    def environment(self) -> str:
        """The cache ``environment``: the authority's host name."""
        return self.authority.instance


def _discovery_origin(authority: Authority) -> str:
    if authority.is_loopback:
        return authority.origin
    host = authority.instance if authority.instance in WELL_KNOWN_AUTHORITY_HOSTS else WORLD_WIDE
    return f"https://{host}"


def _needs_instance_discovery(ctx: ClientContext, authority: Authority) -> bool:
    # ADFS, B2C, CIAM and OIDC authorities are "known to the developer", as in MSAL.
    return (
        ctx.instance_discovery
        and ctx.validate_authority
        and authority.kind == "aad"
        and authority.instance not in WELL_KNOWN_AUTHORITY_HOSTS
    )


def _config_url(authority: Authority) -> str:
    if authority.kind == "oidc":
        return authority.url + "/.well-known/openid-configuration"
    version = "" if authority.kind == "adfs" else "/v2.0"
    return f"{authority.origin}{authority.path}{version}/.well-known/openid-configuration"


def _instance_discovery(ctx: ClientContext, authority: Authority) -> Flow[str]:
    origin = _discovery_origin(authority)
    correlation_id = uuid4(ctx.random_bytes)
    response, body = yield from get_json(
        ctx,
        f"{origin}/common/discovery/instance",
        {
            "api-version": "1.0",
            "authorization_endpoint": f"{authority.origin}{authority.path}/oauth2/v2.0/authorize",
        },
        what="instance discovery endpoint",
        correlation_id=correlation_id,
    )
    if isinstance(body, dict) and body.get("error") == "invalid_instance":
        raise ValueError(
            f"invalid_instance: the authority {authority.url} is not known to Entra ID. If it "
            "is a valid host known to you, pass instance_discovery=False"
        )
    endpoint = body.get("tenant_discovery_endpoint") if isinstance(body, dict) else None
    if not isinstance(endpoint, str) or not endpoint:
        raise FlowError(
            error_result(
                "invalid_instance_discovery",
                f"Instance discovery for {authority.url} answered HTTP {response.status_code} "
                "without a tenant_discovery_endpoint",
                correlation_id,
            )
        )
    return endpoint


def known_metadata(ctx: ClientContext, authority: Authority) -> AuthorityMetadata | None:
    """The authority's endpoints if :func:`discover` already has them (no I/O), else None."""
    memo = ctx.shared.metadata.get(authority.url)
    return memo if isinstance(memo, AuthorityMetadata) else None


def known_aliases(ctx: ClientContext, authority: Authority) -> tuple[str, ...] | None:
    """What :func:`authority_aliases` returns when it needs no I/O, else None."""
    own = authority.instance
    memo = ctx.shared.aliases.get(own)
    if memo is not None:
        return memo
    return None if _needs_alias_lookup(ctx, authority) else (own,)


def discover(ctx: ClientContext, authority: Authority) -> Flow[AuthorityMetadata]:
    """Validate ``authority`` and return its endpoints (memoized per application).

    Raises:
        ValueError: the authority is unknown (``invalid_instance``), its configuration is
            refused (HTTP 4xx), or an ``oidc_authority`` issuer does not match.
        FlowError: the network failed or the reply was malformed (an error dict).
    """
    memo = known_metadata(ctx, authority)
    if memo is not None:
        return memo
    if _needs_instance_discovery(ctx, authority):
        config_url = yield from _instance_discovery(ctx, authority)
    else:
        config_url = _config_url(authority)
    correlation_id = uuid4(ctx.random_bytes)
    response, body = yield from get_json(
        ctx, config_url, what="OpenID configuration endpoint", correlation_id=correlation_id
    )
    if 400 <= response.status_code < 500:
        raise ValueError(
            f"Unable to get the authority configuration for {authority.url} (HTTP "
            f"{response.status_code} from {config_url.split('?')[0]}). An authority is typically "
            "https://login.microsoftonline.com/your_tenant, https://tenant_name.ciamlogin.com or "
            "https://tenant_name.b2clogin.com/tenant.onmicrosoft.com/policy; check the tenant."
        )
    fields = {}
    if isinstance(body, dict) and response.status_code == 200:
        fields = {k: body.get(k) for k in ("authorization_endpoint", "token_endpoint")}
    if not all(isinstance(v, str) and v.startswith(("https://", "http://")) for v in
               fields.values()) or not fields:
        raise FlowError(
            error_result(
                "invalid_discovery_response",
                f"The OpenID configuration of {authority.url} (HTTP {response.status_code}) "
                "lacks a usable authorization_endpoint or token_endpoint",
                correlation_id,
            )
        )
    assert isinstance(body, dict)
    issuer = body.get("issuer") if isinstance(body.get("issuer"), str) else None
    if authority.kind == "oidc" and not issuer_matches(issuer, authority):
        raise ValueError(
            f"The issuer {issuer!r} does not match the oidc_authority {authority.url}. Use "
            "'authority' rather than 'oidc_authority' for Entra ID authorities."
        )
    device = body.get("device_authorization_endpoint")
    token_endpoint = str(fields["token_endpoint"])
    metadata = AuthorityMetadata(
        authority=authority,
        authorization_endpoint=str(fields["authorization_endpoint"]),
        token_endpoint=token_endpoint,
        device_authorization_endpoint=device if isinstance(device, str) else None,
        issuer=issuer,
        realm=tenant_of(token_endpoint) or authority.tenant,
    )
    with ctx.shared.lock:
        ctx.shared.metadata[authority.url] = metadata
    return metadata


def issuer_matches(issuer: str | None, authority: Authority) -> bool:
    """MSAL's rule: same URL, same origin, or a (regional) Microsoft or B2C host."""
    if not issuer:
        return False
    if issuer.rstrip("/") == authority.url.rstrip("/"):
        return True
    parts = urlsplit(issuer)
    host = (parts.hostname or "").lower()
    if not host:
        return False
    if parts.scheme == authority.scheme and parts.netloc == authority.netloc:
        return True
    if host in WELL_KNOWN_AUTHORITY_HOSTS:
        return True
    label, _, base = host.partition(".")
    if label and base and (base in WELL_KNOWN_AUTHORITY_HOSTS or base == authority.instance):
        return True
    return any(host.endswith("." + h) for h in (
        "b2clogin.com", "b2clogin.cn", "b2clogin.us", "b2clogin.de", "ciamlogin.com"))


def authority_aliases(ctx: ClientContext, authority: Authority) -> Flow[tuple[str, ...]]:
    """Hosts that share a cache with ``authority`` (itself first), from instance discovery.

    Failure to fetch them is not an error: the authority's own host is used alone.
    """
    known = known_aliases(ctx, authority)
    if known is not None:
        return known
    own = authority.instance
    origin = _discovery_origin(authority)
    aliases: tuple[str, ...] = (own,)
    try:
        _, body = yield from get_json(
            ctx,
            f"{origin}/common/discovery/instance",
            {"api-version": "1.1", "authorization_endpoint": f"{origin}/common/oauth2/authorize"},
            what="instance discovery endpoint",
        )
    except FlowError:
        return aliases  # not memoized: a network blip should not hide aliases for good
    groups = body.get("metadata") if isinstance(body, dict) else None
    for group in groups if isinstance(groups, list) else []:
        names = group.get("aliases") if isinstance(group, dict) else None
        if isinstance(names, list) and own in names:
            aliases = (own, *(str(n).lower() for n in names if n != own and isinstance(n, str)))
            break
    with ctx.shared.lock:
        ctx.shared.aliases[own] = aliases
    return aliases


def _needs_alias_lookup(ctx: ClientContext, authority: Authority) -> bool:
    return ctx.instance_discovery and ctx.validate_authority and authority.kind == "aad"
