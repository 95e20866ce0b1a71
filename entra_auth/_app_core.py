"""What the sync and async application classes share: one constructor step and result shapes.

:class:`AppCore` validates MSAL's constructor arguments and builds the flows'
:class:`ClientContext`; each class then picks its own transport (requests, or an
``httpx.AsyncClient``). Nothing here does I/O: the flows run in ``run_sync``/``run_async``.

:func:`log_as_msal` (public as ``entra_auth.log_as_msal``) is one switch that sends
entra_auth's log records through msal's loggers, for drop-in users (``import entra_auth as
msal``) whose logging is configured on ``msal`` and its children: each entra_auth logger becomes
a child of its msal counterpart, so the level set on the msal logger decides what is emitted
and the handlers on it (and its ancestors) receive the records. Record names stay
``entra_auth.*``; nothing else changes in the records (no token or secret is logged at any
level, on either name).
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from ._version import __version__
from .protocol.authority import Authority, AuthorityBuilder, parse_authority, parse_oidc_authority
from .protocol.context import CacheLike, ClientAuth, ClientContext
from .protocol.region import check_explicit_region

__all__ = ["MSAL_LOGGERS", "AppCore", "ConfidentialRules", "PublicRules", "log_as_msal"]

DEFAULT_AUTHORITY = "https://login.microsoftonline.com/common"
SKU = "entra_auth.Python"


def warn_caller(message: str, category: type[Warning] = DeprecationWarning) -> None:
    """``warnings.warn`` attributed to the first frame outside entra_auth (the caller's line)."""
    level = 2  # 1 would be this function, 2 the frame that called it
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("entra_auth."):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, category, stacklevel=level)


# Keywords msal accepts somewhere that entra_auth refuses, with what to do instead.
_UNSUPPORTED_HINTS = {
    "post": "msal's internal test hook; pass http_client= to the constructor instead",
    "auth_scheme": "proof-of-possession tokens need a broker, which entra_auth does not support",
    "headers": "extra request headers are not supported",
    "params": "extra query parameters are not supported on token requests",
}


def reject_unknown_kwargs(method: str, kwargs: Mapping[str, Any]) -> None:
    """Raise ``TypeError`` naming the first keyword ``method`` does not know.

    A dropped argument would mean a token other than the one asked for, so nothing is ignored.
    """
    for name in kwargs:
        hint = _UNSUPPORTED_HINTS.get(name)
        raise TypeError(f"{method}() got an unexpected keyword argument {name!r}"
                        + (f" ({hint})" if hint else ""))


def home_account_id_of(account: object) -> str | None:
    """The ``home_account_id`` of an account dict (what a cache backend loads for it), or None."""
    home = account.get("home_account_id") if isinstance(account, Mapping) else None
    return home if isinstance(home, str) and home else None


class AppCore:
    """The configuration both application kinds, sync and async, are built from.

    Takes MSAL Python's constructor parameters; see ``docs/client.md`` for the few that are
    accepted but have no effect here (broker flags, ``enable_pii_log``).
    """

    ATTEMPT_REGION_DISCOVERY = True
    DISABLE_MSAL_FORCE_REGION = False
    _TOKEN_SOURCE = "token_source"
    _TOKEN_SOURCE_IDP = "identity_provider"
    _TOKEN_SOURCE_CACHE = "cache"

    def __init__(
        self,
        client_id: str,
        client_credential: Any = None,
        authority: str | AuthorityBuilder | None = None,
        validate_authority: bool = True,
        token_cache: Any = None,
        http_client: Any = None,
        verify: Any = True,
        proxies: Mapping[str, str] | None = None,
        timeout: Any = None,
        client_claims: Mapping[str, Any] | None = None,
        app_name: str | None = None,
        app_version: str | None = None,
        client_capabilities: list[str] | None = None,
        azure_region: str | bool | None = None,
        exclude_scopes: list[str] | None = None,
        http_cache: MutableMapping[str, Any] | None = None,
        instance_discovery: bool | None = None,
        allow_broker: bool | None = None,
        enable_pii_log: bool | None = None,
        oidc_authority: str | None = None,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Any] | None = None,
    ) -> None:
        """Create an application (no network I/O happens until the first token request).

        Args:
            client_id: The application (client) id registered in Entra ID.
            client_credential: None for a public client; for a confidential client a secret
                string, a certificate dict (``private_key`` + ``thumbprint`` or
                ``public_certificate``, optional ``passphrase``; or ``private_key_pfx_path``),
                or ``{"client_assertion": str_or_callable}``.
            authority: ``https://{host}/{tenant}`` (default ``.../common``) or an
                :class:`AuthorityBuilder`; http is accepted only for loopback hosts.
            validate_authority: False skips instance discovery for unknown hosts.
            token_cache: A ``TokenCache``; a new in-memory one by default.
            http_client: An object with MSAL's ``post``/``get`` interface (for the
                :mod:`entra_auth.aio` classes, an ``httpx.AsyncClient``).
            verify: ``verify`` for requests (ignored with ``http_client``).
            proxies: ``proxies`` for requests (ignored with ``http_client``).
            timeout: ``timeout`` for requests (ignored with ``http_client``).
            client_claims: Extra claims signed into a certificate's client assertion.
            app_name: Sent as ``x-app-name``.
            app_version: Sent as ``x-app-ver``.
            client_capabilities: e.g. ``["CP1"]``, sent in every request's ``claims``.
            azure_region: A region name, ``ATTEMPT_REGION_DISCOVERY`` or None (off).
            exclude_scopes: Reserved scopes not to add (``openid`` can't be excluded).
            http_cache: A dict-like store for throttling state and discovery documents.
            instance_discovery: False to never ask the instance discovery endpoint.
            allow_broker: Accepted for compatibility; brokers are not supported.
            enable_pii_log: Accepted for compatibility; nothing personal is ever logged.
            oidc_authority: A generic OpenID Connect issuer URL, instead of ``authority``.
            clock: (entra_auth only, keyword-only) Seconds since the epoch, default
                ``time.time``. Every time decision of the flows reads it: cache expiry and
                ``refresh_on``, throttling windows, device-code deadlines. Given one, it also
                measures those in-process durations (by default ``time.monotonic`` does).
            sleep: (entra_auth only, keyword-only) How the application waits (device-code
                polling, a throttled discovery's retry): ``time.sleep`` by default; for the
                :mod:`entra_auth.aio` classes an async function, default ``asyncio.sleep``.
                Tests pass one that advances a fake ``clock`` and returns at once.

        Raises:
            ValueError: a malformed or non-https authority, both ``authority`` and
                ``oidc_authority``, bad ``exclude_scopes``, an unusable credential, or (async)
                an ``http_client`` that is not an ``httpx.AsyncClient``.
            TypeError: a ``clock`` or ``sleep`` that is not callable.
        """
        if not isinstance(client_id, str) or not client_id:
            raise ValueError("client_id must be a non-empty string")
        self._check_time(clock, sleep)
        self._sleep = sleep
        if oidc_authority and authority:
            raise ValueError("Pass either authority or oidc_authority, not both")
        self._check_region(azure_region, client_credential)
        self.client_id = client_id
        self.client_credential = client_credential
        self.authority: Authority = (
            parse_oidc_authority(oidc_authority) if oidc_authority
            else parse_authority(authority or DEFAULT_AUTHORITY)
        )
        if exclude_scopes is not None and not isinstance(exclude_scopes, list):
            raise ValueError(f"Invalid exclude_scopes={exclude_scopes!r}: it must be a list")
        if "openid" in (exclude_scopes or []):
            raise ValueError('Invalid exclude_scopes: you can not opt out of the "openid" scope')
        if client_capabilities is not None and not isinstance(client_capabilities, list):
            raise ValueError("client_capabilities must be a list of strings, e.g. ['CP1']")
        if token_cache is None:
            from .cache import TokenCache

            token_cache = TokenCache()
        self.token_cache = token_cache
        self.app_name = app_name
        self.app_version = app_version
        self._broker_requested = bool(allow_broker)
        del enable_pii_log
        headers = {
            "x-client-sku": SKU,
            "x-client-ver": __version__,
            "x-client-os": sys.platform,
        }
        if app_name:
            headers["x-app-name"] = app_name
        if app_version:
            headers["x-app-ver"] = app_version
        self._ctx = ClientContext(
            client_id=client_id,
            cache=self._as_cache(token_cache),
            clock=clock or time.time,
            # A caller's clock measures durations too: one fake clock drives every decision.
            monotonic=clock or time.monotonic,
            random_bytes=secrets.token_bytes,
            client_auth=self._build_client_auth(client_credential, client_claims),
            telemetry_headers=headers,
            client_capabilities=tuple(client_capabilities or ()),
            exclude_scopes=frozenset(exclude_scopes or ()),
            http_cache=http_cache if http_cache is not None else {},
            instance_discovery=instance_discovery is not False,
            validate_authority=bool(validate_authority),
            azure_region=azure_region,
            environ=os.environ,
        )
        self._connect(http_client, verify, proxies, timeout)

    def _check_time(self, clock: object, sleep: object) -> None:
        """Refuse a ``clock`` or ``sleep`` that can't be called (``TypeError``)."""
        if clock is not None and not callable(clock):
            raise TypeError(f"clock must be a callable returning epoch seconds, not {clock!r}")
        if sleep is not None and not callable(sleep):
            raise TypeError(f"sleep must be a callable taking seconds, not {sleep!r}")

    def _check_region(self, azure_region: object, client_credential: object) -> None:
        """Refuse a malformed region the caller chose, before anything else is built (as MSAL).

        ``MSAL_FORCE_REGION`` counts only for confidential clients that made no choice; set to
        an empty string it is malformed too. A malformed detected region (``REGION_NAME``,
        IMDS) is not an error: it is logged and the global endpoint is used.
        """
        if isinstance(azure_region, str):
            check_explicit_region(azure_region, "azure_region")
        elif azure_region is None and client_credential and not self.DISABLE_MSAL_FORCE_REGION:
            forced = os.environ.get("MSAL_FORCE_REGION")
            if forced is not None:
                check_explicit_region(forced, "MSAL_FORCE_REGION")

    def _connect(
        self, http_client: Any, verify: Any, proxies: Mapping[str, str] | None, timeout: Any
    ) -> None:
        """Open this class's transport (sync or async) and its single-flight table."""
        raise NotImplementedError

    @staticmethod
    def _as_cache(token_cache: Any) -> CacheLike:
        needed = ("add", "find_access_token", "find_refresh_tokens", "find_accounts")
        missing = [name for name in needed if not callable(getattr(token_cache, name, None))]
        if missing:
            raise ValueError(
                "token_cache must be an entra_auth TokenCache (or SerializableTokenCache); "
                f"it lacks {', '.join(missing)}"
            )
        cache: CacheLike = token_cache
        return cache

    def _build_client_auth(
        self, client_credential: Any, client_claims: Mapping[str, Any] | None
    ) -> ClientAuth | None:
        if client_credential is None:
            return None
        if isinstance(client_credential, Mapping) and isinstance(
                client_credential.get("client_assertion"), (str, bytes)):
            warn_caller(
                "A static string/bytes client_assertion will eventually expire and is "
                "discouraged: pass a no-argument callable returning a fresh assertion instead, "
                "optionally wrapped in entra_auth.AutoRefresher (msal.AutoRefresher) to reuse "
                "each value for a while."
            )
        from .credentials import build_client_auth

        auth: ClientAuth = build_client_auth(
            client_credential,
            client_id=self.client_id,
            client_claims=client_claims,
            is_adfs=self.authority.kind == "adfs",
        )
        return auth

    def _authority_for(self, authority: str | AuthorityBuilder | None) -> Authority:
        return parse_authority(authority) if authority else self.authority

    def is_pop_supported(self) -> bool:
        """Proof-of-possession needs a broker, which is not supported: always False."""
        return False

    @staticmethod
    def _refuse_auth_scheme(kwargs: Mapping[str, Any]) -> None:
        """Refuse ``auth_scheme`` (proof-of-possession): sending a bearer token where a
        PoP token was asked for would be a security surprise (msal refuses it too without
        a broker)."""
        if kwargs.get("auth_scheme") is not None:
            raise ValueError(
                "auth_scheme (proof-of-possession) needs a broker, which entra_auth does not "
                "have; refusing rather than returning a bearer token. Drop auth_scheme to get "
                "a bearer token.")

    # -- the shapes of the public methods' results (a guarded flow may end in an error dict) --

    @staticmethod
    def _result(value: object) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise TypeError("internal error: a flow returned a non-dict result")
        return value

    @staticmethod
    def _account_list(found: object) -> list[dict[str, Any]]:
        return found if isinstance(found, list) else []

    @staticmethod
    def _url(url: str | dict[str, Any]) -> str:
        if not isinstance(url, str):
            raise ValueError(
                f"Could not build the authorization URL: {url.get('error_description')}")
        return url

    @staticmethod
    def _without_error(result: dict[str, Any] | None) -> dict[str, Any] | None:
        return result if result and "error" not in result else None


_BROKER_WARNED: list[bool] = []


def warn_no_broker() -> None:
    """Say once per process that broker flags change nothing here, and what happens instead."""
    if _BROKER_WARNED:
        return
    _BROKER_WARNED.append(True)
    import warnings

    warnings.warn(
        "entra_auth has no broker (WAM, Company Portal): allow_broker / enable_broker_on_* "
        "are ignored. acquire_token_interactive signs in through the system browser "
        "instead, tokens are bearer tokens (no proof-of-possession), and no "
        "device-bound sign-in or OS account is used.", UserWarning, stacklevel=3)


class PublicRules(AppCore):
    """The public-client constructor: no credential; broker flags accepted and ignored."""

    DEVICE_FLOW_CORRELATION_ID = "_correlation_id"
    CONSOLE_WINDOW_HANDLE = object()

    def __init__(
        self,
        client_id: str,
        client_credential: Any = None,
        *,
        enable_broker_on_windows: bool | None = None,
        enable_broker_on_mac: bool | None = None,
        enable_broker_on_linux: bool | None = None,
        enable_broker_on_wsl: bool | None = None,
        **kwargs: Any,
    ) -> None:
        """Create a public client. Takes :class:`ClientApplication`'s keyword arguments.

        Raises:
            ValueError: ``client_credential`` is given (public clients have no secret).
        """
        if client_credential is not None:
            raise ValueError("A public client application must not be given a client_credential")
        super().__init__(client_id, None, **kwargs)
        self._broker_requested = self._broker_requested or any(
            (enable_broker_on_windows, enable_broker_on_mac, enable_broker_on_linux,
             enable_broker_on_wsl)
        )
        if self._broker_requested:
            warn_no_broker()


class ConfidentialRules(AppCore):
    """The confidential-client constructor: a credential is required."""

    def __init__(self, client_id: str, client_credential: Any = None, **kwargs: Any) -> None:
        """Create a confidential client. Takes :class:`ClientApplication`'s arguments.

        Raises:
            ValueError: no or an unusable ``client_credential``.
        """
        if client_credential is None:
            raise ValueError("A confidential client application needs a client_credential")
        super().__init__(client_id, client_credential, **kwargs)
        if self._broker_requested:
            warn_no_broker()

    def _warn_if_multi_tenant(self) -> None:
        """msal's warning before client credentials are requested from a multi-tenant alias."""
        if self.authority.tenant.lower() in ("common", "organizations"):
            warn_caller(
                f"Using the /{self.authority.tenant} authority in acquire_token_for_client() is "
                "unreliable: use the application's own tenant (its id or domain) instead."
            )

    def _remove_app_tokens(self) -> None:
        self._ctx.cache.remove_app_tokens(
            client_id=self.client_id, environments=[self.authority.instance]
        )


# -- log_as_msal ----------------------------------------------------------------------------

#: entra_auth logger -> the msal logger it is attached under by :func:`log_as_msal`
MSAL_LOGGERS: dict[str, str] = {
    "entra_auth": "msal",
    "entra_auth.application": "msal.application",
    "entra_auth.cache": "msal.token_cache",
    "entra_auth.managed_identity": "msal.managed_identity",
    "entra_auth.region": "msal.region",
    "entra_auth.interactive": "msal.oauth2cli.authcode",
    "entra_auth.adapters": "msal",
}

_lock = threading.Lock()
_saved_parents: dict[str, logging.Logger | None] = {}


def log_as_msal(enabled: bool = True) -> None:
    """Route entra_auth's log records through msal's loggers (or stop doing so).

    Each logger in :data:`MSAL_LOGGERS` gets its msal counterpart as parent: an entra_auth
    logger with no level of its own then uses the msal logger's level, and its records reach
    the msal logger's handlers, then its ancestors' (the root's), each once. A level or
    handler set on an entra_auth logger itself still applies. Calling it twice is harmless.

    Args:
        enabled: False restores the loggers' own hierarchy (``entra_auth`` under the root).
    """
    with _lock:
        if enabled:
            for ours, theirs in MSAL_LOGGERS.items():
                logger = logging.getLogger(ours)
                if ours not in _saved_parents:
                    _saved_parents[ours] = logger.parent
                logger.parent = logging.getLogger(theirs)
        else:
            for ours, parent in _saved_parents.items():
                logging.getLogger(ours).parent = parent
            _saved_parents.clear()
        _clear_level_caches()


def _clear_level_caches() -> None:
    # Loggers memoize isEnabledFor(); a new parent changes the answer.
    logging.root.manager._clear_cache()  # type: ignore[attr-defined]
