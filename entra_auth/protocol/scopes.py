"""Scope handling for Entra ID v2.0 requests: reserved OIDC scopes, decoration, comparison.

See OpenID Connect Core 1.0 section 3.1.2.1 (``openid``) and RFC 6749 section 3.3 (scope).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["RESERVED_SCOPES", "check_scopes", "decorate_scopes", "scopes_cover"]

RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access"})


def check_scopes(scopes: object) -> list[str]:
    """Return ``scopes`` as a list of strings, or raise ValueError for a wrong type.

    A bare string is refused because iterating it would send one scope per character.
    """
    if isinstance(scopes, str) or not isinstance(scopes, (list, tuple, set, frozenset)):
        raise ValueError("The input scopes should be a list, tuple, or set of strings")
    result = []
    for scope in scopes:
        if not isinstance(scope, str):
            raise ValueError(f"Each scope must be a string, got {type(scope).__name__}")
        result.append(scope)
    return result


def decorate_scopes(scopes: object, exclude_scopes: Iterable[str] = ()) -> list[str]:
    """Add the reserved scopes a user flow always sends, minus ``exclude_scopes``.

    Raises:
        ValueError: ``scopes`` is not a list/tuple/set or contains a reserved scope.
    """
    scope_set = set(check_scopes(scopes))
    reserved = scope_set & RESERVED_SCOPES
    if reserved:
        raise ValueError(
            f"You cannot pass the reserved scope(s) {sorted(reserved)}: they are added "
            f"automatically. The reserved list is {sorted(RESERVED_SCOPES)}"
        )
    return sorted((scope_set | RESERVED_SCOPES) - set(exclude_scopes))


def scopes_cover(granted: Iterable[str], requested: Iterable[str]) -> bool:
    """True when every requested scope is among the granted ones (case-insensitive)."""
    have = {s.lower() for s in granted}
    return all(s.lower() in have for s in requested)


def join(scopes: Iterable[str]) -> str:
    """Sort and space-join scopes the way MSAL puts them on the wire."""
    return " ".join(sorted(set(scopes)))
