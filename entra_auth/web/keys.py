"""Signing keys of an authority for token validation: OIDC discovery + JWKS (RFC 7517), cached.

I/O-free: lookups are flows (see :mod:`entra_auth.protocol.messages`) that yield the HTTP
requests they need. An unknown ``kid`` triggers at most one JWKS refetch per
``refresh_interval``, so a flood of forged tokens can't make us hammer the keys endpoint.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ProtocolError, TransportFailure
from ..protocol.messages import Flow, HttpRequest, HttpResponse, SendError

__all__ = ["AuthorityMetadata", "SigningKeys"]

_ACCEPT = {"Accept": "application/json"}
_TIMEOUT = 10.0


@dataclass(frozen=True)
class AuthorityMetadata:
    """What validation needs from the discovery document."""

    issuer: str
    jwks_uri: str


def _json(response: HttpResponse, what: str) -> dict[str, Any]:
    if response.status_code != 200:
        raise ProtocolError("key_fetch_failed", f"{what} answered HTTP {response.status_code}")
    try:
        data = json.loads(response.text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ProtocolError("key_fetch_failed", f"{what} is not a JSON object")
    return data


def _get(url: str, what: str) -> Flow[dict[str, Any]]:
    try:
        response = yield HttpRequest("GET", url, _ACCEPT, idempotent=True, timeout=_TIMEOUT)
    except SendError as exc:
        raise TransportFailure(
            "key_fetch_failed", f"could not fetch the {what}: GET {url.split('?', 1)[0]}: {exc}"
        ) from None
    assert isinstance(response, HttpResponse)
    return _json(response, what)


def _usable_keys(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise ProtocolError("key_fetch_failed", "the JWKS has no 'keys' list")
    found: dict[str, dict[str, Any]] = {}
    for key in keys:
        if not isinstance(key, dict) or not isinstance(key.get("kid"), str):
            continue
        if key.get("use", "sig") != "sig" or key.get("kty") not in ("RSA", "EC"):
            continue
        found.setdefault(key["kid"], key)
    return found


class SigningKeys:
    """The discovery metadata and JSON Web Keys of one authority, cached between requests.

    Thread-safe; no lock is held while a request is in flight (two concurrent first fetches
    may both go out, which is harmless).
    """

    def __init__(
        self,
        discovery_url: str,
        *,
        refresh_interval: float = 300.0,
        max_age: float = 24 * 3600.0,
    ) -> None:
        """Cache the keys published through ``discovery_url``.

        Args:
            discovery_url: The authority's OpenID configuration URL.
            refresh_interval: Minimum seconds between refetches caused by an unknown ``kid``.
            max_age: Refetch the key set when it is older than this (seconds).
        """
        self.discovery_url = discovery_url
        self.refresh_interval = refresh_interval
        self.max_age = max_age
        self._lock = threading.Lock()
        self._metadata: AuthorityMetadata | None = None
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at: float | None = None
        self._last_unknown_kid_fetch = -math.inf

    def metadata_flow(self) -> Flow[AuthorityMetadata]:
        """The discovery metadata, fetched once.

        Raises:
            ProtocolError: The document is not JSON or lacks ``issuer``/``jwks_uri``.
            TransportFailure: It could not be fetched.
        """
        with self._lock:
            if self._metadata is not None:
                return self._metadata
        doc = yield from _get(self.discovery_url, "OpenID configuration")
        issuer, jwks_uri = doc.get("issuer"), doc.get("jwks_uri")
        if not isinstance(issuer, str) or not issuer or not isinstance(jwks_uri, str):
            raise ProtocolError("key_fetch_failed",
                                "the OpenID configuration lacks issuer or jwks_uri")
        metadata = AuthorityMetadata(issuer, jwks_uri)
        with self._lock:
            self._metadata = metadata
        return metadata

    def key_flow(self, kid: str, now: float) -> Flow[dict[str, Any] | None]:
        """The JWK with this ``kid``, or None when the authority does not publish it.

        Args:
            kid: The token header's key id.
            now: The current time (seconds since the epoch).

        Raises:
            ProtocolError: Discovery or the JWKS answered with something unusable, and no
                earlier key set can stand in.
            TransportFailure: They could not be fetched, and no earlier key set can stand in.
        """
        metadata = yield from self.metadata_flow()
        with self._lock:
            key = self._keys.get(kid)
            fresh = self._fetched_at is not None and now - self._fetched_at < self.max_age
            if key is not None and fresh:
                return key
            if fresh and key is None:
                if now - self._last_unknown_kid_fetch < self.refresh_interval:
                    return None  # refetched recently: this kid really is unknown
                self._last_unknown_kid_fetch = now
        try:
            document = yield from _get(metadata.jwks_uri, "signing keys (JWKS)")
            keys = _usable_keys(document)
        except (ProtocolError, TransportFailure):
            with self._lock:
                if self._fetched_at is None:
                    raise
                # Keep validating with the keys we have rather than failing every request.
                return self._keys.get(kid)
        with self._lock:
            self._keys = keys
            self._fetched_at = now
            if kid not in keys:
                self._last_unknown_kid_fetch = now
        return keys.get(kid)

    @property
    def cached_metadata(self) -> AuthorityMetadata | None:
        """The discovery metadata if already fetched (no I/O)."""
        return self._metadata

    def current_key(self, kid: str, now: float) -> dict[str, Any] | None:
        """The JWK with this ``kid`` from a key set younger than ``max_age``, else None (no I/O).

        None also when the kid is unknown; :meth:`key_flow` then decides whether to refetch.
        """
        fetched_at = self._fetched_at
        if fetched_at is None or now - fetched_at >= self.max_age:
            return None
        return self._keys.get(kid)

    @property
    def known_kids(self) -> list[str]:
        """The key ids currently cached."""
        with self._lock:
            return sorted(self._keys)
