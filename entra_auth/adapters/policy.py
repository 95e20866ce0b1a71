"""Where a bearer token may be sent: https only (loopback excepted), and only to allowed hosts.

Allowed hosts come from the scopes' resource (``https://graph.microsoft.com/.default`` ->
``graph.microsoft.com``; bare scopes such as ``User.Read`` are Microsoft Graph's) or are
configured explicitly. RFC 6750 section 5.3 asks clients not to leak bearer tokens.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from ..errors import EntraAuthError

__all__ = ["DestinationPolicy", "UnsafeDestinationError", "hosts_for_scopes"]

GRAPH_HOST = "graph.microsoft.com"
# Where a URL's netloc ends, as urlsplit sees it.
_NETLOC_END = re.compile(r"[/?#]")
_RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
# Resources whose token audience differs from the host the API is called on.
_RESOURCE_HOST_ALIASES: dict[str, tuple[str, ...]] = {
    "management.core.windows.net": ("management.azure.com",),
}


class UnsafeDestinationError(EntraAuthError):
    """A request would have carried a bearer token somewhere it must not go; nothing was sent."""

    def __init__(self, description: str) -> None:
        super().__init__("unsafe_destination", description)


def hosts_for_scopes(scopes: Sequence[str]) -> list[str]:
    """Return the API hosts a token for ``scopes`` is meant for.

    Raises:
        ValueError: A scope names a resource without a host (``api://...``, a GUID), so the
            caller has to say where the token may go.
    """
    hosts: list[str] = []
    for scope in scopes:
        lowered = scope.strip().lower()
        if not lowered or lowered in _RESERVED_SCOPES:
            continue
        if "://" not in lowered and "/" not in lowered:
            # A bare permission name ("User.Read") is a Microsoft Graph scope.
            candidates: tuple[str, ...] = (GRAPH_HOST,)
        else:
            parts = urlsplit(lowered)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(
                    f"cannot tell which host the scope {scope!r} is for; pass allowed_hosts=[...]"
                )
            candidates = (parts.hostname, *_RESOURCE_HOST_ALIASES.get(parts.hostname, ()))
        hosts.extend(h for h in candidates if h not in hosts)
    if not hosts:
        raise ValueError("no resource scope to derive allowed hosts from; pass allowed_hosts=[...]")
    return hosts


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class DestinationPolicy:
    """Decides whether a URL may receive a bearer token.

    Entries are host names (any port), ``host:port`` (that port only) or ``*.domain``
    (any subdomain). Matching is case-insensitive.
    """

    def __init__(self, allowed_hosts: Iterable[str]) -> None:
        self._any_port: set[str] = set()
        self._with_port: set[tuple[str, int]] = set()
        self._suffixes: list[str] = []
        entries = [h.strip().lower() for h in allowed_hosts if h and h.strip()]
        if not entries:
            raise ValueError("allowed_hosts must name at least one host")
        for entry in entries:
            if "/" in entry or "@" in entry:
                raise ValueError(f"allowed_hosts entries are host[:port], not URLs: {entry!r}")
            if entry.startswith("*."):
                self._suffixes.append(entry[1:])
                continue
            host, port = _split_host_port(entry)
            if port is None:
                self._any_port.add(host)
            else:
                self._with_port.add((host, port))
        self.description = ", ".join(entries)
        # Verdicts by "scheme://netloc": everything a verdict depends on (urlsplit ends the
        # netloc at the first of "/?#" too). Saves most of the per-request cost.
        self._verdicts: dict[str, str | None] = {}

    @classmethod
    def for_scopes(
        cls, scopes: Sequence[str], allowed_hosts: Iterable[str] | None = None
    ) -> DestinationPolicy:
        """Build the policy from explicit ``allowed_hosts``, else from the scopes' resource."""
        if allowed_hosts is not None:
            if isinstance(allowed_hosts, str):
                raise TypeError("allowed_hosts must be a list of hosts, not a string")
            return cls(allowed_hosts)
        return cls(hosts_for_scopes(scopes))

    def check(self, url: str) -> None:
        """Raise :class:`UnsafeDestinationError` unless ``url`` may receive a bearer token."""
        scheme, _, rest = url.partition("://")
        key = f"{scheme}://{_NETLOC_END.split(rest, 1)[0]}"
        try:
            reason = self._verdicts[key]
        except KeyError:
            reason = self.refusal(url)
            if len(self._verdicts) < 1024:
                self._verdicts[key] = reason
        if reason is not None:
            raise UnsafeDestinationError(reason)

    def refusal(self, url: str) -> str | None:
        """Return why ``url`` may not receive a token, or None when it may."""
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            port = parts.port
        except ValueError:
            return "refusing to send a bearer token to a malformed URL"
        scheme = parts.scheme.lower()
        origin = f"{scheme}://{host}" + (f":{port}" if port is not None else "")
        if not host:
            return "refusing to send a bearer token to a URL without a host"
        if scheme != "https" and not (scheme == "http" and _is_loopback(host)):
            return f"refusing to send a bearer token over {scheme or 'no scheme'} to {origin}"
        effective_port = port if port is not None else (443 if scheme == "https" else 80)
        if host in self._any_port or (host, effective_port) in self._with_port:
            return None
        if any(host.endswith(suffix) for suffix in self._suffixes):
            return None
        return f"refusing to send a bearer token to {origin}: host not in allowed_hosts"

    def allows(self, url: str) -> bool:
        """True when ``url`` may receive a bearer token."""
        return self.refusal(url) is None


def _split_host_port(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif entry.count(":") == 1:
        host, _, port_text = entry.partition(":")
    else:
        host, port_text = entry, ""
    if not port_text:
        return host, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"bad port in allowed_hosts entry {entry!r}")
    return host, int(port_text)


def same_origin(first: str, second: str) -> bool:
    """True when two URLs share scheme, host and port (RFC 6454 origin)."""
    try:
        a, b = urlsplit(first), urlsplit(second)
        return (
            a.scheme.lower() == b.scheme.lower()
            and (a.hostname or "").lower() == (b.hostname or "").lower()
            and _port(a.scheme, a.port) == _port(b.scheme, b.port)
        )
    except ValueError:
        return False


def _port(scheme: str, port: int | None) -> int:
    if port is not None:
        return port
    return 443 if scheme.lower() == "https" else 80
