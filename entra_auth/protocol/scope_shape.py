"""Catch scope lists Entra ID is sure to refuse, before any request, and say what to pass.

Entra's v2.0 endpoint wants permissions of one resource per request (AADSTS28000 otherwise),
``{resource}/.default`` alone (AADSTS70011 when mixed with other scopes of that resource), and
a permission where a v1 ``resource`` URL was given (``https://graph.microsoft.com`` is a
resource, not a scope). Bare names (``User.Read``) are Microsoft Graph's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["scope_shape_problem", "suggest_for_scope"]

GRAPH = "https://graph.microsoft.com"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
_RESERVED = frozenset({"openid", "profile", "offline_access", "email"})
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def _is_resource_url(scope: str) -> bool:
    scheme, sep, rest = scope.partition("://")
    return bool(sep and scheme) and "/" not in rest.rstrip("/")


def suggest_for_scope(scope: str) -> str | None:
    """What to pass instead of a lone scope that is a resource URL; None when it looks fine.

    >>> suggest_for_scope("https://graph.microsoft.com")
    "'https://graph.microsoft.com/.default' (all the app's permissions on it) or a permission such as 'https://graph.microsoft.com/User.Read'"
    """  # noqa: E501
    if _is_resource_url(scope):
        base = scope.rstrip("/")
        example = "User.Read" if base.lower() == GRAPH else "<permission>"
        return (f"'{base}/.default' (all the app's permissions on it) or a permission such as "
                f"'{base}/{example}'")
    if scope.strip() == ".default":
        return "'<resource>/.default', e.g. 'https://graph.microsoft.com/.default'"
    return None


def _resource_of(scope: str) -> str:
    prefix, sep, _ = scope.rpartition("/")
    if not sep:
        return GRAPH
    key = prefix.rstrip("/").lower()
    if key.startswith("api://") and _GUID.match(key[6:]):
        key = key[6:]
    return GRAPH if key == GRAPH_APP_ID else key


def scope_shape_problem(scopes: Sequence[str]) -> str | None:
    """Why Entra would refuse these scopes, with what to pass instead; None when they look fine.

    Checks: a resource URL given as a scope, ``.default`` mixed with other scopes, and scopes
    of more than one resource. Reserved OIDC scopes are ignored.
    """
    wanted = [s.strip() for s in scopes if s.strip().lower() not in _RESERVED]
    for scope in wanted:
        hint = suggest_for_scope(scope)
        if hint is not None:
            return f"{scope!r} is not a scope; pass {hint}"
    resources: dict[str, list[str]] = {}
    for scope in wanted:
        resources.setdefault(_resource_of(scope), []).append(scope)
    uris = [r for r in resources if not _GUID.match(r)]
    guids = [r for r in resources if _GUID.match(r)]
    # An app id and a URI may name the same resource (Graph's id is mapped to its URI above):
    # only flag what is surely two.
    if len(uris) > 1 or len(guids) > 1 or (guids and GRAPH in uris):
        listed = "; ".join(f"{r}: {', '.join(map(repr, s))}" for r, s in resources.items())
        return ("a token is for one resource, and these scopes name "
                f"{len(resources)} ({listed}); request each resource's scopes separately "
                "(one EntraAuth per API)")
    defaults = [s for s in wanted if s.rpartition("/")[2] == ".default"]
    if defaults and any(s not in defaults for s in wanted):
        others = [s for s in wanted if s not in defaults]
        return (f"{defaults[0]!r} already asks for every permission the app has on that "
                f"resource and can't be combined with other scopes ({', '.join(map(repr, others))}"
                f"); pass [{defaults[0]!r}] alone, or the permissions without .default")
    return None
