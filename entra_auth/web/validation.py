"""Validate the Entra access tokens a web API receives (RFC 7519/7515 with RFC 8725's advice).

Checks signature (against the authority's JWKS), algorithm (asymmetric only: no ``none``, no
HMAC), issuer (single tenant, or multi-tenant with ``{tenantid}`` checked against ``tid``),
tenant, audience, ``exp``/``nbf`` with leeway, token version, and scopes/app roles. The checks
are an I/O-free flow with the time passed in; keys are fetched through the project's transports.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..protocol.authority import parse_authority
from ..protocol.messages import Flow, HttpRequest, HttpResponse
from ..transport.driver import run_async, run_sync
from .errors import InsufficientScopeError, InvalidTokenError
from .jws import KeyBuilder, parse_header, verify_compact
from .keys import AuthorityMetadata, SigningKeys
from .time_claims import check_time_claims
from .validated_cache import ValidatedTokenCache

__all__ = ["TokenValidator", "ValidatedToken", "check_claims", "check_permissions"]

ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
)
MULTI_TENANT = frozenset({"common", "organizations", "consumers"})
V1_ISSUER = "https://sts.windows.net/{tenantid}/"


@dataclass(frozen=True)
class ValidatedToken:
    """A bearer token that passed validation, with its claims.

    Attributes:
        token: The raw access token (the user assertion for on-behalf-of).
        claims: The token's claims.
    """

    token: str = field(repr=False)
    claims: Mapping[str, Any]

    @property
    def tenant_id(self) -> str:
        """The ``tid`` claim."""
        return str(self.claims.get("tid", ""))

    @property
    def object_id(self) -> str | None:
        """The caller's object id (``oid``): the user, or the calling app's service principal."""
        oid = self.claims.get("oid")
        return oid if isinstance(oid, str) else None

    @property
    def username(self) -> str | None:
        """``preferred_username`` (v2.0) or ``upn`` (v1.0), for display only."""
        name = self.claims.get("preferred_username") or self.claims.get("upn")
        return name if isinstance(name, str) else None

    @property
    def scopes(self) -> frozenset[str]:
        """The delegated permissions (``scp``)."""
        scp = self.claims.get("scp")
        return frozenset(scp.split()) if isinstance(scp, str) else frozenset()

    @property
    def roles(self) -> frozenset[str]:
        """The app roles (``roles``)."""
        roles = self.claims.get("roles")
        return frozenset(r for r in roles if isinstance(r, str)) if isinstance(roles, list) \
            else frozenset()

    @property
    def is_app_only(self) -> bool:
        """True for an application's own token (client credentials): no user, no ``scp``."""
        return "scp" not in self.claims


def _tenant_of_issuer(issuer: str) -> str | None:
    segments = [s for s in issuer.split("/") if s]
    for segment in segments[2:] if "://" in issuer else segments:
        if len(segment) == 36 and segment.count("-") == 4:
            return segment.lower()
    return None


def check_claims(
    claims: Mapping[str, Any],
    *,
    metadata: AuthorityMetadata,
    audiences: Collection[str],
    now: float,
    leeway: float = 60.0,
    allowed_tenants: Collection[str] | None = None,
    accepted_versions: Collection[str] = ("2.0",),
    v1_issuer: str = V1_ISSUER,
) -> None:
    """Check a signature-verified token's claims. Pure: no I/O, no clock.

    Raises:
        InvalidTokenError: Wrong version, issuer, tenant or audience; expired or not yet valid;
            no ``scp`` or ``roles`` (not an access token for an API).
    """
    version = str(claims.get("ver", ""))
    if version not in accepted_versions:
        raise InvalidTokenError(f"token version {version[:8] or 'missing'} is not accepted")
    tid = claims.get("tid")
    if not isinstance(tid, str) or not tid:
        raise InvalidTokenError("the token has no tenant id")
    template = v1_issuer if version == "1.0" else metadata.issuer
    expected_issuer = template.replace("{tenantid}", tid)
    if claims.get("iss") != expected_issuer:
        raise InvalidTokenError("the token was not issued by the expected authority")
    own_tenant = None if "{tenantid}" in metadata.issuer else _tenant_of_issuer(metadata.issuer)
    if own_tenant is not None and tid.lower() != own_tenant:
        raise InvalidTokenError("the token is for another tenant")
    if allowed_tenants is not None and tid.lower() not in {t.lower() for t in allowed_tenants}:
        raise InvalidTokenError("the token's tenant is not allowed")
    aud = claims.get("aud")
    token_audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    wanted = {a.rstrip("/").lower() for a in audiences}
    if not any(isinstance(a, str) and a.rstrip("/").lower() in wanted for a in token_audiences):
        raise InvalidTokenError("the token is not meant for this API (audience)")
    check_time_claims(claims, now=now, leeway=leeway)
    if "scp" not in claims and "roles" not in claims:
        raise InvalidTokenError("the token carries no scopes or roles (not an access token)")


def check_permissions(
    token: ValidatedToken,
    scopes: Iterable[str] | None = None,
    roles: Iterable[str] | None = None,
) -> None:
    """Require at least one of ``scopes`` (delegated) or of ``roles`` (app roles).

    With neither given, any validated token passes.

    Raises:
        InsufficientScopeError: The token has none of them (answer 403).
    """
    scope_list = list(scopes or [])
    role_list = list(roles or [])
    if not scope_list and not role_list:
        return
    if token.scopes & set(scope_list) or token.roles & set(role_list):
        return
    raise InsufficientScopeError(
        "the token has none of the scopes or roles this endpoint requires",
        scope=scope_list or role_list,
    )


class _LazyAsyncTransport:
    """An ``httpx.AsyncClient`` opened only if a flow needs the network (rare: key fetches)."""

    def __init__(self, verify: Any) -> None:
        self.verify = verify
        self.transport: Any = None

    async def send(self, request: HttpRequest) -> HttpResponse:
        if self.transport is None:
            from ..transport.httpx_transport import AsyncHttpxTransport

            self.transport = AsyncHttpxTransport(verify=self.verify)
        response: HttpResponse = await self.transport.send(request)
        return response

    async def aclose(self) -> None:
        if self.transport is not None:
            await self.transport.aclose()


class TokenValidator:
    """Validates the bearer tokens sent to one web API.

    Example::

        validator = TokenValidator(API_CLIENT_ID,
                                   authority="https://login.microsoftonline.com/TENANT_ID")
        token = validator.validate(bearer, scopes=["access_as_user"])
        token.claims["oid"]
    """

    def __init__(
        self,
        client_id: str,
        *,
        authority: str = "https://login.microsoftonline.com/organizations",
        audiences: Iterable[str] | None = None,
        allowed_tenants: Iterable[str] | None = None,
        accepted_versions: Iterable[str] = ("2.0",),
        algorithms: Iterable[str] = ("RS256",),
        leeway: float = 60.0,
        verify: Any = True,
        http_client: Any = None,
        clock: Callable[[], float] = time.time,
        key_refresh_interval: float = 300.0,
        v1_issuer: str = V1_ISSUER,
        validated_cache_size: int = 2048,
    ) -> None:
        """Configure validation for the API whose application (client) id is ``client_id``.

        Args:
            client_id: The API's application id.
            authority: ``https://login.microsoftonline.com/{tenant}`` for a single-tenant API;
                ``.../organizations`` or ``.../common`` for a multi-tenant one (the issuer's
                ``{tenantid}`` is then checked against the token's ``tid``).
            audiences: Accepted ``aud`` values. Default: the client id and ``api://{client_id}``.
            allowed_tenants: For a multi-tenant API, the tenant ids it serves (None: any).
            accepted_versions: Accepted ``ver`` claims (``"2.0"``; add ``"1.0"`` for v1 tokens).
            algorithms: Accepted signing algorithms; asymmetric ones only.
            leeway: Clock skew tolerated on ``exp``/``nbf`` (seconds).
            verify: TLS verification for key fetches (a CA bundle path, or a bool).
            http_client: A ``requests.Session`` to fetch keys with (sync validation).
            clock: Seconds since the epoch.
            key_refresh_interval: Minimum seconds between key refetches for an unknown ``kid``.
            v1_issuer: The v1.0 issuer template (sovereign clouds differ).
            validated_cache_size: How many validated tokens to remember (0: none). A token
                seen again is accepted without re-checking its signature and claims while a
                fresh check would still pass its ``exp``/``nbf`` (with ``leeway``) and the
                authority still publishes its signing key; scopes and roles are checked on
                every call.

        Raises:
            ValueError: An empty client id, a bad authority, or a symmetric/``none`` algorithm.
        """
        if not isinstance(client_id, str) or not client_id.strip():
            raise ValueError("client_id must be the API's application id")
        parsed = parse_authority(authority)
        self.client_id = client_id
        self.authority = parsed.url
        self.algorithms = frozenset(algorithms)
        if not self.algorithms or not self.algorithms <= ASYMMETRIC_ALGORITHMS:
            raise ValueError("algorithms must be asymmetric (RS256, PS256, ES256, ...)")
        self.audiences = frozenset(audiences or (client_id, f"api://{client_id}"))
        self.allowed_tenants = frozenset(allowed_tenants) if allowed_tenants is not None \
            else None
        self.accepted_versions = frozenset(accepted_versions)
        self.leeway = leeway
        self.clock = clock
        self.v1_issuer = v1_issuer
        self.verify = verify
        self.multi_tenant = parsed.tenant.lower() in MULTI_TENANT
        self.keys = SigningKeys(
            f"{parsed.url}/v2.0/.well-known/openid-configuration",
            refresh_interval=key_refresh_interval,
        )
        self._http_client = http_client
        self._transport: Any = None
        self._key_builder = KeyBuilder()
        self.validated_cache: ValidatedTokenCache[ValidatedToken] = ValidatedTokenCache(
            validated_cache_size)

    def __repr__(self) -> str:
        return f"TokenValidator(client_id={self.client_id!r}, authority={self.authority!r})"

    def validate_flow(
        self,
        token: str,
        *,
        now: float,
        scopes: Iterable[str] | None = None,
        roles: Iterable[str] | None = None,
    ) -> Flow[ValidatedToken]:
        """The I/O-free validation: yields key-fetch requests, returns the validated token.

        Raises:
            InvalidTokenError: The token is not acceptable (answer 401).
            InsufficientScopeError: It lacks the required scopes/roles (answer 403).
            ProtocolError, TransportFailure: The signing keys could not be fetched.
        """
        validated = self._validate_without_io(token, now)
        if validated is None:
            algorithm, kid = self._algorithm_and_kid(token)
            jwk = yield from self.keys.key_flow(kid, now)
            if jwk is None:
                raise InvalidTokenError(
                    "the token's signing key is not published by the authority")
            metadata = yield from self.keys.metadata_flow()
            validated = self._check(token, algorithm, kid, jwk, metadata, now)
        check_permissions(validated, scopes, roles)
        return validated

    def _algorithm_and_kid(self, token: str) -> tuple[str, str]:
        if not isinstance(token, str) or not token:
            raise InvalidTokenError("empty bearer token")
        header = parse_header(token)
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self.algorithms:
            raise InvalidTokenError("the token's signing algorithm is not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidTokenError("the token's header names no signing key")
        return algorithm, kid

    def _validate_without_io(self, token: str, now: float) -> ValidatedToken | None:
        """The validated token when no key fetch is needed; None when one is.

        Raises:
            InvalidTokenError: The token is not acceptable.
        """
        if isinstance(token, str):
            hit = self.validated_cache.get(token, now, self.leeway, self.keys.current_key)
            if hit is not None:
                return hit
        algorithm, kid = self._algorithm_and_kid(token)
        jwk = self.keys.current_key(kid, now)
        metadata = self.keys.cached_metadata
        if jwk is None or metadata is None:
            return None
        return self._check(token, algorithm, kid, jwk, metadata, now)

    def _check(
        self, token: str, algorithm: str, kid: str, jwk: dict[str, Any],
        metadata: AuthorityMetadata, now: float,
    ) -> ValidatedToken:
        verifier, key = self._key_builder.key_for(kid, jwk, algorithm)
        claims = verify_compact(token, verifier, key)
        check_claims(
            claims, metadata=metadata, audiences=self.audiences, now=now, leeway=self.leeway,
            allowed_tenants=self.allowed_tenants, accepted_versions=self.accepted_versions,
            v1_issuer=self.v1_issuer,
        )
        validated = ValidatedToken(token, claims)
        self.validated_cache.put(validated, kid, jwk)
        return validated

    def validate(
        self,
        token: str,
        *,
        scopes: Iterable[str] | None = None,
        roles: Iterable[str] | None = None,
    ) -> ValidatedToken:
        """Validate ``token``, fetching keys with blocking I/O when needed.

        Args:
            token: The bearer token (without ``Bearer``).
            scopes: Accept tokens with any of these delegated scopes (``scp``).
            roles: Accept tokens with any of these app roles (``roles``).

        Returns:
            The validated token.

        Raises:
            InvalidTokenError: The token is not acceptable (answer 401).
            InsufficientScopeError: It lacks the required scopes/roles (answer 403).
            ProtocolError, TransportFailure: The signing keys could not be fetched.
        """
        now = self.clock()
        validated = self._validate_without_io(token, now)
        if validated is not None:
            check_permissions(validated, scopes, roles)
            return validated
        flow = self.validate_flow(token, now=now, scopes=scopes, roles=roles)
        return run_sync(flow, self._sync_transport())

    async def validate_async(
        self,
        token: str,
        *,
        scopes: Iterable[str] | None = None,
        roles: Iterable[str] | None = None,
    ) -> ValidatedToken:
        """:meth:`validate` for asyncio: key fetches go through ``httpx.AsyncClient``.

        With the keys in hand (every request but the first few) this runs no flow and opens
        no client: the checks are CPU work of a few microseconds to a few dozen.
        """
        now = self.clock()
        validated = self._validate_without_io(token, now)
        if validated is not None:
            check_permissions(validated, scopes, roles)
            return validated
        transport = _LazyAsyncTransport(self.verify)
        try:
            flow = self.validate_flow(token, now=now, scopes=scopes, roles=roles)
            return await run_async(flow, transport)
        finally:
            await transport.aclose()

    def _sync_transport(self) -> Any:
        if self._transport is None:
            from ..transport.requests_transport import RequestsTransport

            self._transport = RequestsTransport(self._http_client, verify=self.verify)
        return self._transport
