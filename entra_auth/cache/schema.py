"""MSAL unified token-cache schema: credential types, entry keys, entries built from a token event.

Follows the cross-MSAL "unified cache schema" (sections AccessToken, RefreshToken, IdToken,
Account, AppMetadata) as written by msal 1.39, including its extended AccessToken key ("atext").
Pure functions: no I/O, no clock (``now`` is an argument).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "AuthorityType",
    "CredentialType",
    "Entry",
    "assertion_hash",
    "build_entries",
    "compute_ext_cache_key",
    "make_key_makers",
    "parse_realm",
]

Entry = dict[str, Any]
KeyMaker = Callable[..., str]


def assertion_hash(user_assertion: str) -> str:
    """base64url SHA-256 of an on-behalf-of user assertion: its cache partition key (the
    entries' ``user_assertion_hash``; the assertion itself is never stored)."""
    digest = hashlib.sha256(user_assertion.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class CredentialType:
    """Section names of the unified schema (also the ``credential_type`` of token entries)."""

    ACCESS_TOKEN = "AccessToken"
    ACCESS_TOKEN_EXTENDED = "atext"  # key infix of ATs isolated by an extended cache key
    REFRESH_TOKEN = "RefreshToken"
    ACCOUNT = "Account"
    ID_TOKEN = "IdToken"
    APP_METADATA = "AppMetadata"


class AuthorityType:
    """Values of an Account entry's ``authority_type``."""

    ADFS = "ADFS"
    MSSTS = "MSSTS"  # Entra ID v2, for both work/school and personal Microsoft accounts


_GRANT_DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
# Grants after which MSAL records where the account came from ("account_source").
_ACCOUNT_SOURCE_GRANTS = frozenset(
    {"broker", "authorization_code", "password", _GRANT_DEVICE_CODE, "user_fic"}
)
_CIAM_SUFFIX = ".ciamlogin.com"

# Request body fields that never isolate cached tokens: every standard OAuth field, plus secrets.
# Any other non-empty field (e.g. fmi_path) goes into the extended cache key, as in MSAL Go/.NET.
_NOT_IN_EXT_CACHE_KEY = frozenset(
    {
        "client_id", "grant_type", "scope", "claims", "username", "password", "refresh_token",
        "code", "redirect_uri", "code_verifier", "device_code", "assertion",
        "requested_token_use", "client_assertion", "client_assertion_type", "client_secret",
        "token_type", "req_cnf", "key_id", "user_federated_identity_credential", "user_id",
        "client_info",
    }
)


def _join_key(*parts: str | None) -> str:
    return "-".join(part or "" for part in parts).lower()


def make_key_makers() -> dict[str, KeyMaker]:
    """Return the key maker of each section: ``entry fields -> cache key`` (MSAL's formulas)."""

    def refresh_token_key(
        home_account_id: str | None = None,
        environment: str | None = None,
        client_id: str | None = None,
        target: str | None = None,
        **_: Any,
    ) -> str:
        # The realm slot stays empty: a refresh token works across tenants.
        return _join_key(
            home_account_id, environment, CredentialType.REFRESH_TOKEN, client_id, "", target
        )

    def access_token_key(
        home_account_id: str | None = None,
        environment: str | None = None,
        client_id: str | None = None,
        realm: str | None = None,
        target: str | None = None,
        ext_cache_key: str | None = None,
        **_: Any,
    ) -> str:
        if ext_cache_key:
            return _join_key(
                home_account_id, environment, CredentialType.ACCESS_TOKEN_EXTENDED,
                client_id, realm, target, ext_cache_key,
            )
        return _join_key(
            home_account_id, environment, CredentialType.ACCESS_TOKEN, client_id, realm, target
        )

    def id_token_key(
        home_account_id: str | None = None,
        environment: str | None = None,
        client_id: str | None = None,
        realm: str | None = None,
        **_: Any,
    ) -> str:
        # The trailing empty slot is the (unused) target the schema requires.
        return _join_key(
            home_account_id, environment, CredentialType.ID_TOKEN, client_id, realm, ""
        )

    def account_key(
        home_account_id: str | None = None,
        environment: str | None = None,
        realm: str | None = None,
        **_: Any,
    ) -> str:
        return _join_key(home_account_id, environment, realm)

    def app_metadata_key(
        environment: str | None = None, client_id: str | None = None, **_: Any
    ) -> str:
        # MSAL does not lowercase this one.
        return f"appmetadata-{environment or ''}-{client_id or ''}"

    return {
        CredentialType.ACCESS_TOKEN: access_token_key,
        CredentialType.REFRESH_TOKEN: refresh_token_key,
        CredentialType.ID_TOKEN: id_token_key,
        CredentialType.ACCOUNT: account_key,
        CredentialType.APP_METADATA: app_metadata_key,
    }


def compute_ext_cache_key(data: Mapping[str, Any] | None) -> str:
    """Return the extended cache key of a token request body, or ``""`` when it needs none.

    Non-standard, non-empty body fields (e.g. ``fmi_path``) isolate cached access tokens. The
    fields are sorted by name and netstring-encoded (``len:name`` ``len:value``, UTF-8 byte
    lengths), hashed with SHA-256 and base64url-encoded without padding, lowercased: the same
    value MSAL Python, Go and .NET compute.

    Args:
        data: the token request's body fields.

    Returns:
        The key, or an empty string.
    """
    if not data:
        return ""
    fields = {
        name: str(value)
        for name, value in data.items()
        if name not in _NOT_IN_EXT_CACHE_KEY and value
    }
    if not fields:
        return ""
    encoded = "".join(
        f"{len(name.encode())}:{name}{len(fields[name].encode())}:{fields[name]}"
        for name in sorted(fields)
    )
    digest = hashlib.sha256(encoded.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii").lower()


def parse_realm(token_endpoint: str) -> tuple[str, str]:
    """Return ``(environment, realm)`` of a token endpoint URL: its host and first path segment.

    Raises:
        ValueError: the URL has no host or no path segment.
    """
    parts = urlsplit(token_endpoint)
    host = parts.hostname
    segments = parts.path.split("/")
    first = segments[1] if len(segments) >= 2 else ""
    if parts.scheme in ("https", "http") and host:
        if host.endswith(_CIAM_SUFFIX) and not first:
            # A CIAM authority may omit the tenant; it is then the subdomain's tenant.
            return host, host[: -len(_CIAM_SUFFIX)] + ".onmicrosoft.com"
        if first:
            return host, first
    raise ValueError(
        "token_endpoint must be an https URL with a host and at least one path segment, "
        "e.g. https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
    )


def _b64url_json(segment: str, what: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw.decode("utf-8"))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise ValueError(f"the {what} in the token response is not valid base64url JSON") from None
    if not isinstance(value, dict):
        raise ValueError(f"the {what} in the token response is not a JSON object")
    return value


def _id_token_claims(response: Mapping[str, Any]) -> dict[str, Any]:
    given = response.get("id_token_claims")  # a broker hands claims over already decoded
    if given:
        if not isinstance(given, Mapping):
            raise ValueError("id_token_claims in the token response is not an object")
        return dict(given)
    id_token = response.get("id_token")
    if not id_token:
        return {}
    if not isinstance(id_token, str) or id_token.count(".") < 1:
        raise ValueError("the id_token in the token response is not a JWT")
    # Not validated here, as in MSAL: the token came straight from the token endpoint.
    return _b64url_json(id_token.split(".")[1], "id_token payload")


def _account_identity(
    response: Mapping[str, Any], claims: Mapping[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """Return (client_info, home_account_id); an empty client_info means an app-only token."""
    raw = response.get("client_info")
    if raw is not None:
        if not isinstance(raw, str):
            raise ValueError("client_info in the token response is not a string")
        client_info = _b64url_json(raw, "client_info")
        if "uid" in client_info and "utid" in client_info:
            return client_info, f"{client_info['uid']}.{client_info['utid']}"
    if claims:
        # ADFS without client_info: the subject identifies the account.
        sub = claims.get("sub")
        return {"uid": sub}, sub
    return {}, None


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} in the token response is not an integer")
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} in the token response is not an integer") from None


def _scopes(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return value.split()
    return [str(scope) for scope in value]


def build_entries(event: Mapping[str, Any], now: int) -> list[tuple[str, Entry]]:
    """Turn a token event into the ``(section, entry)`` pairs MSAL's ``add()`` would store.

    Args:
        event: MSAL's token event: ``client_id``, ``scope`` (list), ``token_endpoint``,
            ``environment``, ``response``, ``data`` (the request body), ``grant_type``,
            optional ``skip_account_creation``, ``authority_type``, ``username``,
            ``_account_id``, and ours: ``user_assertion_hash`` (on-behalf-of partition).
        now: the current time in epoch seconds.

    Returns:
        Entries in MSAL's write order: AccessToken, Account, IdToken, RefreshToken, AppMetadata.

    Raises:
        ValueError: the event is malformed (bad endpoint, id_token, client_info or lifetimes).
    """
    environment: str | None = None
    realm: str | None = None
    if event.get("token_endpoint"):
        environment, realm = parse_realm(str(event["token_endpoint"]))
    if "environment" in event:
        environment = event["environment"]
    response = event.get("response") or {}
    data = event.get("data") or {}
    if not isinstance(response, Mapping) or not isinstance(data, Mapping):
        raise ValueError("the token event's response and data must be mappings")
    client_id = event.get("client_id")
    access_token = response.get("access_token")
    refresh_token = response.get("refresh_token")
    id_token = response.get("id_token")
    claims = _id_token_claims(response)
    client_info, home_account_id = _account_identity(response, claims)
    target = " ".join(sorted(_scopes(event.get("scope"))))
    assertion_hash = event.get("user_assertion_hash")
    entries: list[tuple[str, Entry]] = []

    if access_token:
        if response.get("expires_on"):  # some managed-identity endpoints send this instead
            default_expires_in = _as_int(response["expires_on"], "expires_on") - now
        else:
            default_expires_in = 600
        expires_in = _as_int(response.get("expires_in", default_expires_in), "expires_in")
        ext_expires_in = _as_int(response.get("ext_expires_in", expires_in), "ext_expires_in")
        at: Entry = {
            "credential_type": CredentialType.ACCESS_TOKEN,
            "secret": access_token,
            "home_account_id": home_account_id,
            "environment": environment,
            "client_id": client_id,
            "target": target,
            "realm": realm,
            "token_type": response.get("token_type", "Bearer"),
            "cached_at": str(now),
            "expires_on": str(now + expires_in),
            "extended_expires_on": str(now + ext_expires_in),
        }
        if "key_id" in data:  # SSH certificates and PoP tokens are bound to a key
            at["key_id"] = data["key_id"]
        ext_cache_key = compute_ext_cache_key(data)
        if ext_cache_key:
            at["ext_cache_key"] = ext_cache_key
        if "refresh_in" in response:
            at["refresh_on"] = str(now + _as_int(response["refresh_in"], "refresh_in"))
        if assertion_hash:
            at["user_assertion_hash"] = assertion_hash
        entries.append((CredentialType.ACCESS_TOKEN, at))

    if client_info and not event.get("skip_account_creation"):
        username = claims.get("preferred_username", claims.get("upn"))
        account: Entry = {
            "home_account_id": home_account_id,
            "environment": environment,
            "realm": realm,
            "local_account_id": event.get("_account_id", claims.get("oid", claims.get("sub"))),
            "username": username or data.get("username") or event.get("username") or "",
            "authority_type": event.get(
                "authority_type",
                AuthorityType.ADFS if realm == "adfs" else AuthorityType.MSSTS,
            ),
        }
        if event.get("grant_type") in _ACCOUNT_SOURCE_GRANTS:
            account["account_source"] = event["grant_type"]
        entries.append((CredentialType.ACCOUNT, account))

    if id_token:
        entries.append(
            (
                CredentialType.ID_TOKEN,
                {
                    "credential_type": CredentialType.ID_TOKEN,
                    "secret": id_token,
                    "home_account_id": home_account_id,
                    "environment": environment,
                    "realm": realm,
                    "client_id": client_id,
                },
            )
        )

    if refresh_token:
        rt: Entry = {
            "credential_type": CredentialType.REFRESH_TOKEN,
            "secret": refresh_token,
            "home_account_id": home_account_id,
            "environment": environment,
            "client_id": client_id,
            "target": target,
            "last_modification_time": str(now),
        }
        if "foci" in response:
            rt["family_id"] = response["foci"]
        if assertion_hash:
            rt["user_assertion_hash"] = assertion_hash
        entries.append((CredentialType.REFRESH_TOKEN, rt))

    app_metadata: Entry = {"client_id": client_id, "environment": environment}
    if "foci" in response:
        app_metadata["family_id"] = response.get("foci")
    entries.append((CredentialType.APP_METADATA, app_metadata))
    return entries


def scope_set(target: Any) -> frozenset[str]:
    """Lowercased scopes of an entry's space-joined ``target`` (tolerates a missing target)."""
    if not isinstance(target, str):
        return frozenset()
    return frozenset(target.lower().split())


def lowered(values: Iterable[str]) -> frozenset[str]:
    """Lowercased set of strings, ignoring non-strings."""
    return frozenset(v.lower() for v in values if isinstance(v, str))
