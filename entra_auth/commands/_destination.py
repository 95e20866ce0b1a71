"""Where the CLI may send a bearer token: the same rule as ``EntraAuth`` (RFC 6750 section 5.3).

https only (plain http only to loopback), and only to the hosts of the requested scope's
resource, the configured Graph URL (for Graph scopes) and the hosts named with ``--allow-host``.
The check runs before any token is requested, so a refused URL costs nothing and leaks nothing.
"""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

from ..protocol.authority import is_loopback_host
from ._common import EXIT_USAGE, CliError

__all__ = ["add_destination_arguments", "check_destination"]

# Resources whose APIs live on subdomains of the resource's host (a vault's own host).
_SUBDOMAIN_RESOURCES = frozenset({"vault.azure.net", "vault.azure.cn", "vault.usgovcloudapi.net"})


def add_destination_arguments(parser: argparse.ArgumentParser) -> None:
    """``--allow-host HOST`` (repeatable)."""
    parser.add_argument("--allow-host", action="append", default=[], metavar="HOST",
                        help="also send the token to HOST (host, host:port or *.domain; "
                             "repeat for more); https only, except on loopback")


def _shown(url: str) -> str:
    """The URL without user info, query or fragment (they may hold secrets)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{port}" if port is not None else "")
    return f"{parts.scheme}://{netloc}{parts.path}"


def _allowed_hosts(args: argparse.Namespace, scopes: list[str], graph_base: str) -> list[str]:
    # imported here: the adapters package imports requests and httpx
    from ..adapters.policy import GRAPH_HOST, hosts_for_scopes

    try:
        hosts = hosts_for_scopes(scopes)
    except ValueError:
        hosts = []
    entries = list(hosts)
    if GRAPH_HOST in hosts:
        # The configured Graph URL (--graph-url / ENTRA_AUTH_GRAPH_URL) serves Graph's scope.
        try:
            graph = urlsplit(graph_base)
            host = graph.hostname or ""
            if ":" in host:  # an IPv6 literal
                host = f"[{host}]"
            if host:
                entries.append(host + (f":{graph.port}" if graph.port else ""))
        except ValueError:
            pass
    entries += ["*." + h for h in hosts if h in _SUBDOMAIN_RESOURCES]
    entries += [str(h) for h in getattr(args, "allow_host", None) or []]
    return entries


def check_destination(args: argparse.Namespace, url: str, scopes: list[str],
                      graph_base: str) -> None:
    """Refuse (exit 2, one line naming the URL and the rule) a URL that may not get the token.

    Raises:
        CliError: ``url`` is not https (and not loopback), or its host is not allowed for
            ``scopes``; or ``--allow-host`` is malformed.
    """
    from ..adapters.policy import DestinationPolicy

    entries = _allowed_hosts(args, scopes, graph_base)
    shown = _shown(url)
    scope_text = " ".join(scopes)
    if not entries:
        raise CliError(f"refusing to send a token for {scope_text} to {shown}: cannot tell "
                       "which host it is for; name it with --allow-host HOST", EXIT_USAGE)
    try:
        policy = DestinationPolicy(entries)
    except ValueError as exc:
        raise CliError(f"--allow-host: {exc}", EXIT_USAGE) from None
    if policy.allows(url):
        return
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        _ = parts.port  # raises ValueError for a bad port
    except ValueError:
        raise CliError(f"refusing to send a token to {shown}: not a valid URL",
                       EXIT_USAGE) from None
    if not host:
        raise CliError(f"refusing to send a token to {shown}: the URL has no host", EXIT_USAGE)
    if scheme != "https" and not (scheme == "http" and is_loopback_host(host)):
        raise CliError(f"refusing to send a token to {shown}: tokens go over https only "
                       "(plain http only to loopback)", EXIT_USAGE)
    raise CliError(f"refusing to send a token for {scope_text} to {shown}: its host is not "
                   f"one the token is for ({policy.description}); add --allow-host "
                   f"{host} if it is", EXIT_USAGE)
