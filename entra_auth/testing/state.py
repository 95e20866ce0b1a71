"""The emulator's mutable runtime state: clock, codes, refresh tokens, sessions, request log.

Everything lives behind one re-entrant lock (``State.lock``); request handlers run in threads.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AuthCode",
    "Clock",
    "DeviceCode",
    "LoggedRequest",
    "RefreshToken",
    "Session",
    "SignIn",
    "State",
    "new_opaque",
]

REDACTED = "<redacted>"
# Form/query fields whose values never reach the request log.
SECRET_FIELDS = frozenset({
    "client_secret", "client_assertion", "assertion", "password", "refresh_token", "code",
    "code_verifier", "device_code", "otp", "id_token", "access_token", "user_code",
})
# x-identity-header / secret: App Service's managed-identity secret (2019-08-01 / 2017-09-01).
SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "x-identity-header",
                            "secret"})


def new_opaque(prefix: str = "1.A", nbytes: int = 48) -> str:
    """An opaque, unguessable token value (codes, refresh tokens)."""
    return prefix + secrets.token_urlsafe(nbytes)


class Clock:
    """The emulator's notion of now: wall time plus a test-controlled offset."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Seconds since the epoch, as the emulator sees them."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock forward (or back, if negative)."""
        with self._lock:
            self._offset += seconds

    def reset(self) -> None:
        """Return to wall time."""
        with self._lock:
            self._offset = 0.0


@dataclass
class SignIn:
    """Who authenticated, when, and how; carried from sign-in to every token it yields."""

    user_oid: str
    tenant_id: str
    auth_time: int
    mfa: bool


@dataclass
class AuthCode:
    """An issued authorization code."""

    client_id: str
    redirect_uri: str
    scope: str
    signin: SignIn
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    claims: dict[str, Any] | None
    expires_at: float
    max_age_requested: bool = False
    redeemed: bool = False
    spa: bool = False  # issued to a single-page-app redirect URI: redeemed cross-origin only


@dataclass
class RefreshToken:
    """An issued refresh token."""

    client_id: str
    family_id: str | None
    signin: SignIn
    expires_at: float
    issued_at: float
    revoked: bool = False


@dataclass
class DeviceCode:
    """A pending device authorization (RFC 8628)."""

    client_id: str
    authority_segment: str
    scope: str
    claims: dict[str, Any] | None
    user_code: str
    expires_at: float
    status: str = "pending"  # pending | approved | denied | redeemed
    signin: SignIn | None = None
    last_poll: float = 0.0
    interval: int = 5  # the polling interval the client was given (slow_down adds 5)


@dataclass
class Session:
    """A browser session (the cookie the sign-in page sets)."""

    user_oid: str
    auth_time: int
    mfa: bool


@dataclass
class LoggedRequest:
    """One request the emulator received, with secrets redacted.

    Attributes:
        method: HTTP method.
        path: URL path without the query.
        endpoint: Endpoint name (``token``, ``authorize``, ``openid_configuration``, ...).
        query: Query parameters (secret values redacted).
        headers: Lowercased header names to values (``Authorization``, cookies and the
            App Service ``X-IDENTITY-HEADER`` redacted).
        form: Form fields (secret values replaced by ``"<redacted>"``).
        status: The HTTP status answered (0 for a dropped connection).
        time: Emulator-clock time of arrival.
    """

    method: str
    path: str
    endpoint: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]
    status: int = 0
    time: float = 0.0

    @property
    def grant_type(self) -> str | None:
        """The ``grant_type`` form field, if any."""
        return self.form.get("grant_type")


def redact(fields: dict[str, str]) -> dict[str, str]:
    """Copy of form/query fields with secret values replaced."""
    return {k: (REDACTED if k.lower() in SECRET_FIELDS and v else v) for k, v in fields.items()}


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """Copy of headers with credentials replaced."""
    return {k: (REDACTED if k in SECRET_HEADERS else v) for k, v in headers.items()}


@dataclass
class State:
    """All mutable runtime records, guarded by ``lock``."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    clock: Clock = field(default_factory=Clock)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    device_codes: dict[str, DeviceCode] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    transactions: dict[str, dict[str, str]] = field(default_factory=dict)
    user_consents: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    revoked_at: dict[str, int] = field(default_factory=dict)
    issued_access_tokens: dict[str, set[str]] = field(default_factory=dict)
    revoked_uti: set[str] = field(default_factory=set)
    # Access tokens of users whose sessions were revoked (a critical event): on-behalf-of
    # refuses them as assertions. A milder event (revoke_access_tokens) only challenges them.
    sessions_revoked_uti: set[str] = field(default_factory=set)
    challenged_uti_of: dict[str, set[str]] = field(default_factory=dict)  # by user oid
    required_acrs: str | None = None
    throttle_counts: dict[str, int] = field(default_factory=dict)  # /v1.0/throttled, by key
    token_issuers: dict[str, Any] = field(default_factory=dict)  # external issuers, by iss
    seen_assertions: dict[tuple[str, str], int] = field(default_factory=dict)  # (app, jti): exp
    log: list[LoggedRequest] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)
    tokens_issued: int = 0
    # Bumped by every clear(): a request held back by a delay fault across a reset is dropped
    # instead of answered, so it can't issue a token into the next test's fresh state.
    generation: int = 0

    def clear(self) -> None:
        """Forget everything (the signing keys and the model live elsewhere)."""
        with self.lock:
            self.generation += 1
            self.clock.reset()
            for store in (self.codes, self.refresh_tokens, self.device_codes, self.sessions,
                          self.transactions, self.user_consents, self.revoked_at,
                          self.issued_access_tokens):
                store.clear()
            self.revoked_uti.clear()
            self.sessions_revoked_uti.clear()
            self.challenged_uti_of.clear()
            self.required_acrs = None
            self.throttle_counts.clear()
            self.token_issuers.clear()
            self.log.clear()
            self.internal_errors.clear()
            self.tokens_issued = 0

    def consents_of(self, user_oid: str, client_id: str) -> set[str]:
        """Scopes this user consented to for this client (full scope strings, lowercased)."""
        return self.user_consents.get((user_oid, client_id.lower()), set())

    def add_consent(self, user_oid: str, client_id: str, scopes: list[str]) -> None:
        """Record a user's consent."""
        key = (user_oid, client_id.lower())
        self.user_consents.setdefault(key, set()).update(s.lower() for s in scopes)

    def revoke_user(self, user_oid: str) -> None:
        """Revoke a user's sessions and refresh tokens; mark their access tokens for CAE."""
        with self.lock:
            for rt in self.refresh_tokens.values():
                if rt.signin.user_oid == user_oid:
                    rt.revoked = True
            for sid in [s for s, sess in self.sessions.items() if sess.user_oid == user_oid]:
                del self.sessions[sid]
            self.revoke_access_tokens(user_oid)
            self.sessions_revoked_uti.update(self.challenged_uti_of.get(user_oid, set()))

    def revoke_access_tokens(self, user_oid: str) -> None:
        """Mark a user's access tokens issued so far for CAE; sessions and RTs stay valid."""
        with self.lock:
            self.revoked_at[user_oid] = int(self.clock.now())
            issued = self.issued_access_tokens.pop(user_oid, set())
            self.revoked_uti.update(issued)
            self.challenged_uti_of.setdefault(user_oid, set()).update(issued)
