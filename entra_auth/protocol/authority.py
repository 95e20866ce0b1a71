"""Authority URLs: parsing, kinds (AAD, B2C, ADFS, CIAM, generic OIDC), cloud constants.

Follows Entra ID's authority formats (https://{host}/{tenant}[/{policy}]) and MSAL's rules:
https only (loopback excepted, for the local emulator), at least one path segment except for
path-less CIAM hosts.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

__all__ = [
    "AZURE_CHINA",
    "AZURE_PUBLIC",
    "AZURE_US_GOVERNMENT",
    "Authority",
    "AuthorityBuilder",
    "WELL_KNOWN_AUTHORITY_HOSTS",
    "check_tenant_id",
    "is_loopback_host",
    "parse_authority",
]

AZURE_PUBLIC = "login.microsoftonline.com"
AZURE_CHINA = "login.chinacloudapi.cn"
AZURE_US_GOVERNMENT = "login.microsoftonline.us"
WORLD_WIDE = AZURE_PUBLIC

WELL_KNOWN_AUTHORITY_HOSTS = frozenset(
    {
        AZURE_PUBLIC,
        "login.microsoft.com",
        "login.windows.net",
        "sts.windows.net",
        AZURE_CHINA,
        "login.partner.microsoftonline.cn",
        "login.microsoftonline.de",
        "login-us.microsoftonline.com",
        AZURE_US_GOVERNMENT,
        "login.usgovcloudapi.net",
        "login.sovcloud-identity.fr",
        "login.sovcloud-identity.de",
        "login.sovcloud-identity.sg",
    }
)
B2C_HOST_SUFFIXES = ("b2clogin.com", "b2clogin.cn", "b2clogin.us", "b2clogin.de")
CIAM_HOST_SUFFIX = ".ciamlogin.com"


# A tenant id or domain as it may appear in a URL path: RFC 3986 unreserved characters but '~'
# (letters, digits, '.', '-', '_'; msal accepts e.g. "my_tenant"), none of which can reshape a
# URL; one made of dots only would be a relative path segment.
_TENANT_RE = re.compile(r"[A-Za-z0-9._-]+")


def check_tenant_id(tenant: object, what: str = "tenant id") -> str:
    """Return ``tenant`` if it is a tenant id or domain that is safe in a URL path.

    Raises:
        ValueError: ``tenant`` has characters other than letters, digits, ``.``, ``-`` and
            ``_``, or is only dots (``..`` would climb the URL path).
    """
    if not isinstance(tenant, str) or not _TENANT_RE.fullmatch(tenant) or not tenant.strip("."):
        shown = repr(tenant)[:80] if isinstance(tenant, str) else type(tenant).__name__
        raise ValueError(f"{what} {shown} is not a tenant id or domain "
                         "(only letters, digits, '.', '-' and '_')")
    return tenant


def _check_segments(url: str, segments: list[str], what: str) -> None:
    for segment in segments:
        if unquote(segment) in (".", ".."):
            raise ValueError(f"{what} {url!r} has a relative segment ({segment!r}) in its path")


class AuthorityBuilder:
    """Build an authority URL from a cloud instance and a tenant.

    ``str(AuthorityBuilder(AZURE_PUBLIC, "contoso.onmicrosoft.com"))`` is
    ``"https://login.microsoftonline.com/contoso.onmicrosoft.com"``.
    """

    def __init__(self, instance: str, tenant: str) -> None:
        self._instance = instance.rstrip("/")
        self._tenant = tenant.strip("/")

    def __str__(self) -> str:
        return f"https://{self._instance}/{self._tenant}"

    def __repr__(self) -> str:
        return f"AuthorityBuilder({self._instance!r}, {self._tenant!r})"


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Authority:
    """A parsed authority.

    ``url`` is the normalized authority (no trailing slash), ``netloc`` the host with any
    port (used to build URLs), ``instance`` the host name alone (the cache ``environment``),
    ``tenant`` the first path segment (or the CIAM default tenant), ``kind`` one of
    ``"aad"``, ``"b2c"``, ``"adfs"``, ``"ciam"``, ``"oidc"``.
    """

    url: str
    scheme: str
    netloc: str
    instance: str
    path: str
    tenant: str
    kind: str

    @property
    def is_loopback(self) -> bool:
        """True when the host is this machine (the emulator)."""
        return is_loopback_host(self.instance)

    @property
    def origin(self) -> str:
        """``scheme://netloc``."""
        return f"{self.scheme}://{self.netloc}"


def _split(url: str, what: str) -> tuple[str, str, str, str]:
    if not isinstance(url, str) or not url:
        raise ValueError(f"{what} must be a non-empty URL string")
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if not host:
        raise ValueError(f"{what} {url!r} has no host name")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise ValueError(
            f"{what} {url!r} must use https (plain http is only allowed on loopback hosts)"
        )
    if parts.scheme not in ("https", "http"):
        raise ValueError(f"{what} {url!r} must be an https URL")
    return parts.scheme, parts.netloc, host.lower(), parts.path.rstrip("/")


def parse_authority(authority: object) -> Authority:
    """Parse an Entra authority URL (or :class:`AuthorityBuilder`).

    Raises:
        ValueError: not https (and not loopback), no host, or no tenant path segment.
    """
    url = str(authority) if isinstance(authority, AuthorityBuilder) else authority
    if not isinstance(url, str):
        raise ValueError("authority must be a URL string or an AuthorityBuilder")
    scheme, netloc, host, path = _split(url, "authority")
    segments = [s for s in path.split("/") if s]
    _check_segments(url, segments, "authority")
    if segments:
        check_tenant_id(segments[0], f"the tenant of authority {url!r}:")
    is_ciam = host.endswith(CIAM_HOST_SUFFIX)
    if not segments:
        if not is_ciam:
            raise ValueError(
                f"authority {url!r} should be an https URL with a tenant in its path, e.g. "
                "https://login.microsoftonline.com/your_tenant, "
                "https://tenant_name.ciamlogin.com or "
                "https://tenant_name.b2clogin.com/tenant.onmicrosoft.com/policy"
            )
        # A path-less CIAM authority means the tenant named after the host.
        segments = [host[: -len(CIAM_HOST_SUFFIX)] + ".onmicrosoft.com"]
    tenant = segments[0]
    if is_ciam:
        kind = "ciam"
    elif tenant.lower() == "adfs":
        kind = "adfs"
    elif any(host.endswith("." + s) for s in B2C_HOST_SUFFIXES) or (
        len(segments) == 2 and segments[1].lower().startswith("b2c_")
    ):
        kind = "b2c"
    else:
        kind = "aad"
    norm_path = "/" + "/".join(segments)
    return Authority(
        url=f"{scheme}://{netloc}{norm_path}",
        scheme=scheme,
        netloc=netloc,
        instance=host,
        path=norm_path,
        tenant=tenant,
        kind=kind,
    )


def parse_oidc_authority(url: object) -> Authority:
    """Parse a generic OpenID Connect issuer URL given as ``oidc_authority``.

    Raises:
        ValueError: not https (and not loopback) or no host.
    """
    if not isinstance(url, str):
        raise ValueError("oidc_authority must be a URL string")
    scheme, netloc, host, path = _split(url, "oidc_authority")
    segments = [s for s in path.split("/") if s]
    _check_segments(url, segments, "oidc_authority")
    return Authority(
        url=f"{scheme}://{netloc}{path}",
        scheme=scheme,
        netloc=netloc,
        instance=host,
        path=path,
        tenant=segments[0] if segments else "",
        kind="oidc",
    )


def tenant_of(endpoint: str) -> str:
    """The first path segment of an endpoint URL: the cache *realm* of a token endpoint."""
    segments = [s for s in urlsplit(endpoint).path.split("/") if s]
    return segments[0] if segments else ""
