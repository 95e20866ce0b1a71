"""Client authentication at the token endpoint: client_secret_post/basic and private_key_jwt.

Client assertions (RFC 7523 §2.2) are verified against the app's registered certificates by
``x5t`` (SHA-1) or ``x5t#S256``, or by an ``x5c`` chain (subject name/issuer authentication).
"""

from __future__ import annotations

import base64
import hmac
from typing import Any
from urllib.parse import unquote, urlsplit

from .aadsts import EntraError, missing_parameter
from .certs import certificate_der, thumbprints
from .core import Core, Request
from .federation import verify_federated_assertion
from .model import App
from .tokens import TokenInvalid, b64url_decode, check_lifetime, decode_unverified
from .tokens import verify_with_certificate as verify_signature

__all__ = ["authenticate_client", "basic_credentials"]

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLOCK_SKEW = 300  # Entra tolerates five minutes of skew on assertion times


def basic_credentials(req: Request) -> tuple[str, str] | None:
    """(client_id, secret) from an ``Authorization: Basic`` header, if well-formed."""
    header = req.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if sep else None


def authenticate_client(core: Core, req: Request, app: App, segment: str) -> str:
    """Authenticate the caller as ``app``.

    Returns:
        ``azpacr``: ``"0"`` public client, ``"1"`` secret, ``"2"`` certificate.

    Raises:
        EntraError: 700025, 7000218, 7000215, 700027, 700021, 700023, 700024, 5002738
            (invalid_client); 50027, 90014 (invalid_request).
    """
    secret = req.form.get("client_secret", "")
    basic = basic_credentials(req)
    if basic is not None and not secret:
        secret = basic[1]
    assertion = req.form.get("client_assertion", "")
    if app.public_client:
        if secret or assertion:
            raise EntraError(401, "invalid_client", 700025,
                             "Client is public so neither 'client_assertion' nor "
                             "'client_secret' should be presented.")
        return "0"
    if assertion:
        assertion_type = req.form.get("client_assertion_type", "")
        if not assertion_type:
            raise missing_parameter("client_assertion_type")
        if assertion_type != JWT_BEARER:
            raise EntraError(400, "invalid_request", 9002313,
                             "Invalid request. The 'client_assertion_type' value is not "
                             "supported.")
        _verify_assertion(core, req, app, assertion, segment)
        return "2"
    if secret:
        if not any(hmac.compare_digest(secret.encode(), s.encode()) for s in app.secrets):
            raise EntraError(
                401, "invalid_client", 7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is "
                "the client secret value, not the client secret ID, for a secret added to app "
                f"'{app.client_id}'.",
            )
        return "1"
    raise EntraError(401, "invalid_client", 7000218,
                     "The request body must contain the following parameter: "
                     "'client_assertion' or 'client_secret'.")


def _bad(code: int, message: str) -> EntraError:
    return EntraError(401, "invalid_client", code, message)


def _find_certificate(core: Core, app: App, header: dict[str, Any]) -> str:
    """The PEM certificate whose key should have signed the assertion."""
    registered = [(pem, *thumbprints(pem)) for pem in app.certificates]
    try:
        if isinstance(header.get("x5t#S256"), str):
            wanted = b64url_decode(header["x5t#S256"]).hex().upper()
            for pem, _, sha256 in registered:
                if sha256 == wanted:
                    return pem
        if isinstance(header.get("x5t"), str):
            wanted = b64url_decode(header["x5t"]).hex().upper()
            for pem, sha1, _ in registered:
                if sha1 == wanted:
                    return pem
    except ValueError:
        pass
    x5c = header.get("x5c")
    if isinstance(x5c, list) and x5c and isinstance(x5c[0], str):
        leaf = _x5c_leaf(x5c[0])
        if leaf is not None:
            leaf_der, leaf_pem, subject = leaf
            for pem, _, _ in registered:
                if certificate_der(pem) == leaf_der:
                    return pem
            trusted = {s.lower() for s in app.trusted_subjects}
            if subject.lower() in trusted and core.ca.issued(leaf_der):
                return leaf_pem
    raise _bad(700027, "Client assertion failed signature validation. "
                       "[Reason - The key was not found.]")


def _x5c_leaf(entry: str) -> tuple[bytes, str, str] | None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        # MSAL sends x5c entries with the PEM's line breaks in them; Entra accepts that.
        der = base64.b64decode("".join(entry.split()), validate=True)
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return der, pem, cert.subject.rfc4514_string()


def _audience_ok(core: Core, aud: Any, segment: str) -> bool:
    values = aud if isinstance(aud, list) else [aud]
    own_tenant, _ = core.directory.resolve_tenant(segment)
    for value in values:
        if not isinstance(value, str):
            continue
        parts = urlsplit(value)
        if parts.netloc.lower() not in core.hosts:
            continue
        path = parts.path.rstrip("/")
        if not path.endswith(("/oauth2/v2.0/token", "/oauth2/token", "/v2.0")):
            continue
        seg = path.strip("/").split("/")[0]
        try:
            tenant, canonical = core.directory.resolve_tenant(seg)
        except EntraError:
            continue
        if tenant == own_tenant and (tenant is not None or canonical == segment.lower()):
            return True
    return False


def _verify_assertion(core: Core, req: Request, app: App, assertion: str, segment: str) -> None:
    try:
        header, _ = decode_unverified(assertion)
    except TokenInvalid:
        raise EntraError(400, "invalid_request", 50027,
                         "JWT token is invalid or malformed.") from None
    alg = header.get("alg")
    if alg not in ("RS256", "PS256"):
        raise _bad(5002738, f"Invalid JWT token. '{str(alg)[:16]}' is not a supported "
                            "signature algorithm.")
    _, unverified = decode_unverified(assertion)
    issuer = unverified.get("iss")
    if isinstance(issuer, str) and issuer != app.client_id and "://" in issuer:
        # An external issuer's token: workload identity federation.
        verify_federated_assertion(core, app, assertion, unverified)
        return
    pem = _find_certificate(core, app, header)
    try:
        claims = verify_signature(assertion, pem, str(alg))
    except TokenInvalid:
        raise _bad(700027, "Client assertion contains an invalid signature.") from None
    for field in ("iss", "aud"):
        if not claims.get(field):
            raise EntraError(400, "invalid_request", 90014,
                             f"The required field '{field}' is missing from the credential.")
    if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
        raise _bad(700021, "Client assertion application identifier doesn't match "
                           "'client_id' parameter.")
    if not _audience_ok(core, claims.get("aud"), segment):
        raise _bad(700023, "Client assertion audience claim does not match Realm issuer. "
                           "The 'aud' must be this tenant's token endpoint.")
    try:
        check_lifetime(claims, now=core.now(), leeway=CLOCK_SKEW)
    except TokenInvalid:
        raise _bad(700024, "Client assertion is not within its valid time range.") from None
    if core.settings.refuse_assertion_replay:
        _refuse_replay(core, app, claims)


def _refuse_replay(core: Core, app: App, claims: dict[str, Any]) -> None:
    """``settings.refuse_assertion_replay``: each ``jti`` is accepted once until its ``exp``."""
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise _bad(50013, "Assertion is invalid: it has no 'jti' claim and assertion replay "
                          "is refused.")
    now = core.now()
    exp = claims.get("exp")
    with core.state.lock:
        seen = core.state.seen_assertions
        for key in [k for k, until in seen.items() if until < now]:
            del seen[key]
        if (app.client_id, jti) in seen:
            raise _bad(50013, "Assertion is invalid: its 'jti' was already used (the emulator "
                              "refuses replayed client assertions).")
        seen[(app.client_id, jti)] = int(exp) if isinstance(exp, (int, float)) else int(now) + 600
