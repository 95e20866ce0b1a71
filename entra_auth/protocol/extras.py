"""What a caller adds to a token request: extra form fields and client-originated claims.

msal 1.39's ``data=`` (extra body fields), ``fmi_path=`` (a federated managed identity path,
sent as a body field) and ``forwarded_client_claims=`` (claims a client forwards: merged into
the ``claims`` parameter on the wire, and a cache-key-only ``client_claims`` field). Any of
them gives the cached access token an extended cache key, so a token got with them is only
ever handed out for the same values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..cache.schema import compute_ext_cache_key

__all__ = ["NO_EXTRAS", "Extras", "build_extras", "merge_claims_objects"]

# Fields the flows set themselves (grant, client identity and authentication): a caller's
# ``data`` may not replace them, or the request would not be what the method says it is.
_RESERVED = frozenset({
    "client_id", "grant_type", "scope", "claims", "client_secret", "client_assertion",
    "client_assertion_type", "client_info",
})
CLIENT_CLAIMS_FIELD = "client_claims"  # cache-key-only, never sent (as msal)


def _claims_object(claims: str, what: str) -> dict[str, Any]:
    # The value itself is never quoted in the error: it may hold something sensitive.
    try:
        parsed = json.loads(claims)
    except (ValueError, TypeError, RecursionError):
        raise ValueError(f"{what} is not valid JSON (a claims request object)") from None
    if not isinstance(parsed, dict):
        raise ValueError(f"{what} is not a JSON object (a claims request object)")
    return parsed


def _deep_merge(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for name, value in overlay.items():
        old = merged.get(name)
        merged[name] = (_deep_merge(old, value)
                        if isinstance(old, dict) and isinstance(value, dict) else value)
    return merged


def merge_claims_objects(first: str | None, second: str | None) -> str | None:
    """One ``claims`` JSON string with both requests' claims (``second`` wins on conflicts).

    Raises:
        ValueError: either is not a JSON object.
    """
    if not first or not second:
        return first or second or None
    return json.dumps(_deep_merge(_claims_object(first, "claims"),
                                  _claims_object(second, "forwarded_client_claims")))


@dataclass(frozen=True)
class Extras:
    """Validated extras of one call (see :func:`build_extras`)."""

    form: Mapping[str, str] = field(default_factory=dict)
    client_claims: str | None = None

    @property
    def cache_fields(self) -> dict[str, str]:
        """What the cache event's ``data`` gets besides the wire form (``client_claims``)."""
        return {CLIENT_CLAIMS_FIELD: self.client_claims} if self.client_claims else {}

    @property
    def ext_cache_key(self) -> str | None:
        """The extended cache key a token got with these extras is filed under, or None."""
        return compute_ext_cache_key({**self.form, **self.cache_fields}) or None

    def claims(self, claims: str | None) -> str | None:
        """The ``claims`` to send: the flow's (challenge and capabilities) plus the client's."""
        return merge_claims_objects(claims, self.client_claims)

    def __bool__(self) -> bool:
        return bool(self.form) or bool(self.client_claims)


NO_EXTRAS = Extras()


def build_extras(
    data: object = None, *, fmi_path: object = None, forwarded_client_claims: object = None
) -> Extras:
    """Check msal's ``data``, ``fmi_path`` and ``forwarded_client_claims`` arguments.

    Raises:
        ValueError: ``data`` is not a mapping of string names to string (or number) values,
            or names a field the flow sets itself; ``fmi_path`` is not a string;
            ``forwarded_client_claims`` is not a string holding a JSON object.
    """
    form: dict[str, str] = {}
    if data is not None:
        if not isinstance(data, Mapping):
            raise ValueError(f"data must be a dict of extra form fields, not {type(data).__name__}")
        for name, value in data.items():
            if not isinstance(name, str) or not isinstance(value, (str, int, float)) or (
                    isinstance(value, bool)):
                raise ValueError("data must map field names (strings) to string values")
            if name in _RESERVED:
                raise ValueError(f"data may not set {name!r}: the method sets it")
            form[name] = str(value)
    if fmi_path is not None:
        if not isinstance(fmi_path, str):
            raise ValueError(f"fmi_path must be a string, got {type(fmi_path).__name__}")
        form["fmi_path"] = fmi_path
    client_claims: str | None = None
    if forwarded_client_claims is not None:
        if not isinstance(forwarded_client_claims, str):
            raise ValueError("forwarded_client_claims must be a string, got "
                             f"{type(forwarded_client_claims).__name__}")
        _claims_object(forwarded_client_claims, "forwarded_client_claims")
        client_claims = forwarded_client_claims
    if not form and not client_claims:
        return NO_EXTRAS
    return Extras(form, client_claims)
