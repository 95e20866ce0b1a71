"""Read azure-identity's environment variables into a client credential (``read_environment``).

EnvironmentCredential's precedence (client secret, then certificate) followed by
WorkloadIdentityCredential's federated token file, re-read when Kubernetes rotates it.
:func:`confidential_application` builds an application from the result; the public entry
point, :func:`entra_auth.environment.from_environment`, picks the sync or async class.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from ..errors import EntraAuthError
from ..protocol.authority import check_tenant_id

__all__ = [
    "EnvironmentConfigError",
    "EnvironmentSettings",
    "FederatedTokenFile",
    "confidential_application",
    "read_environment",
]

AppT = TypeVar("AppT")

CLIENT_ID = "AZURE_CLIENT_ID"
TENANT_ID = "AZURE_TENANT_ID"
SECRET = "AZURE_CLIENT_SECRET"
CERT_PATH = "AZURE_CLIENT_CERTIFICATE_PATH"
CERT_PASSWORD = "AZURE_CLIENT_CERTIFICATE_PASSWORD"
SEND_CHAIN = "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN"
TOKEN_FILE = "AZURE_FEDERATED_TOKEN_FILE"
AUTHORITY_HOST = "AZURE_AUTHORITY_HOST"
USERNAME = "AZURE_USERNAME"
PASSWORD = "AZURE_PASSWORD"
DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"

Kind = Literal["client_secret", "client_certificate", "workload_identity"]
# azure-identity's order: EnvironmentCredential (secret, certificate), then workload identity
_PRECEDENCE: tuple[tuple[Kind, str], ...] = (
    ("client_secret", SECRET), ("client_certificate", CERT_PATH),
    ("workload_identity", TOKEN_FILE),
)


class EnvironmentConfigError(EntraAuthError, ValueError):
    """The environment does not describe one usable credential.

    Attributes:
        missing: Variables that must be set and are not.
        conflicting: Variables that configure more than one credential, or that make no sense
            with the chosen one.
    """

    def __init__(self, description: str, *, missing: list[str] | None = None,
                 conflicting: list[str] | None = None) -> None:
        super().__init__("environment_configuration", description)
        self.missing = list(missing or [])
        self.conflicting = list(conflicting or [])

    def __str__(self) -> str:
        return self.error_description or self.error


@dataclass(frozen=True)
class EnvironmentSettings:
    """What the environment configures (the credential itself is never shown in repr).

    Attributes:
        kind: ``client_secret``, ``client_certificate`` or ``workload_identity``.
        client_id: ``AZURE_CLIENT_ID``.
        tenant_id: ``AZURE_TENANT_ID``.
        authority: ``{AZURE_AUTHORITY_HOST}/{tenant_id}``.
        client_credential: The MSAL ``client_credential`` to build the app with.
        variables: The variables this configuration was read from.
    """

    kind: Kind
    client_id: str
    tenant_id: str
    authority: str
    client_credential: Any = field(repr=False)
    variables: tuple[str, ...] = ()


class FederatedTokenFile:
    """A ``client_assertion`` callable reading a federated token (e.g. a Kubernetes service
    account token) from a file, and reading it again whenever the file changes.

    Args:
        path: The token file (``AZURE_FEDERATED_TOKEN_FILE``).
        max_age: Re-read at least this often (seconds), even if the file looks unchanged.
        clock: Monotonic seconds, for ``max_age``.
    """

    def __init__(self, path: str, *, max_age: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._read_at = 0.0
        self._value = ""

    def __call__(self) -> str:
        """The current token.

        Raises:
            ValueError: the file can't be read or is empty.
        """
        with self._lock:
            try:
                st = os.stat(self.path)
                stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
                stale = self._clock() - self._read_at >= self._max_age
                if stamp != self._stamp or stale or not self._value:
                    with open(self.path, encoding="utf-8") as fh:
                        value = fh.read().strip()
                    self._stamp, self._read_at, self._value = stamp, self._clock(), value
            except OSError as exc:
                raise ValueError(f"cannot read the federated token file {self.path}: "
                                 f"{exc.strerror}") from None
            if not self._value:
                raise ValueError(f"the federated token file {self.path} is empty")
            return self._value

    def __repr__(self) -> str:
        return f"FederatedTokenFile({self.path!r})"


def _authority_host(value: str | None) -> str:
    host = (value or DEFAULT_AUTHORITY_HOST).strip().rstrip("/")
    if "://" not in host:
        host = "https://" + host
    parts = urlsplit(host)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.path not in ("",):
        raise EnvironmentConfigError(
            f"{AUTHORITY_HOST} must be a host or an https://host[:port] URL without a path",
            conflicting=[AUTHORITY_HOST])
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise EnvironmentConfigError(
            f"{AUTHORITY_HOST} must use https (plain http is only allowed on loopback)",
            conflicting=[AUTHORITY_HOST])
    return host


def _loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def _certificate_credential(path: str, password: str | None, send_chain: bool) -> Any:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise EnvironmentConfigError(
            f"{CERT_PATH} names a file that cannot be read: {exc.strerror}",
            conflicting=[CERT_PATH]) from None
    if b"-----BEGIN" not in data:  # PKCS#12 (.pfx/.p12)
        return {"private_key_pfx_path": path, "passphrase": password,
                "public_certificate": True if send_chain else None}
    text = data.decode("utf-8", "replace")
    certs = re.findall(r"-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----", text)
    if "PRIVATE KEY-----" not in text or not certs:
        raise EnvironmentConfigError(
            f"{CERT_PATH} must be a PEM file holding the private key and its certificate "
            "(or a PKCS#12 file)", conflicting=[CERT_PATH])
    credential: dict[str, Any] = {"private_key": text, "passphrase": password}
    if send_chain:  # subject name/issuer authentication: x5c with the chain
        credential["public_certificate"] = "\n".join(certs)
    else:
        body = certs[0].split("-----")[2]
        der = base64.b64decode("".join(body.split()))
        credential["thumbprint"] = hashlib.sha1(der).hexdigest()  # noqa: S324 - x5t is SHA-1
    return credential


def read_environment(
    environ: Mapping[str, str] | None = None, *, strict: bool = True
) -> EnvironmentSettings:
    """Read azure-identity's variables and decide which credential they configure.

    Args:
        environ: Variables to read (default ``os.environ``); empty values count as unset.
        strict: When True (default), more than one configured credential, or a
            certificate option without ``AZURE_CLIENT_CERTIFICATE_PATH``, is an error; when
            False, azure-identity's precedence silently applies (secret, certificate,
            federated token file).

    Returns:
        The settings; nothing is sent anywhere.

    Raises:
        EnvironmentConfigError: variables missing or conflicting (see its attributes).
    """
    source = os.environ if environ is None else environ
    env = {k: v for k, v in source.items() if k.startswith("AZURE_") and v.strip()}
    configured = [(kind, var) for kind, var in _PRECEDENCE if var in env]
    if not configured:
        if USERNAME in env or PASSWORD in env:
            raise EnvironmentConfigError(
                f"{USERNAME}/{PASSWORD} (username/password sign-in) is not supported by "
                f"from_environment(); set {SECRET}, {CERT_PATH} or {TOKEN_FILE}",
                conflicting=[v for v in (USERNAME, PASSWORD) if v in env])
        raise EnvironmentConfigError(
            f"no credential in the environment: set {CLIENT_ID} and {TENANT_ID} with one of "
            f"{SECRET}, {CERT_PATH} or {TOKEN_FILE}",
            missing=[v for v in (CLIENT_ID, TENANT_ID) if v not in env] + [SECRET])
    kind, var = configured[0]
    if strict:
        conflicting = [v for _, v in configured]
        conflicting += [v for v in (USERNAME, PASSWORD) if v in env]
        if kind != "client_certificate":
            conflicting += [v for v in (CERT_PASSWORD, SEND_CHAIN) if v in env]
        if len(conflicting) > 1:
            raise EnvironmentConfigError(
                "conflicting credentials in the environment: " + ", ".join(conflicting)
                + " are all set; keep one (or pass strict=False for azure-identity's "
                "precedence: secret, then certificate, then federated token file)",
                conflicting=conflicting)
    missing = [v for v in (CLIENT_ID, TENANT_ID) if v not in env]
    if missing:
        raise EnvironmentConfigError(
            " and ".join(missing) + (" is" if len(missing) == 1 else " are")
            + f" not set (needed with {var})", missing=missing)
    tenant_id = env[TENANT_ID].strip()
    try:
        check_tenant_id(tenant_id)
    except ValueError:
        raise EnvironmentConfigError(
            f"{TENANT_ID} must be a tenant id or domain (letters, digits, '.', '-')",
            conflicting=[TENANT_ID]) from None
    authority = f"{_authority_host(env.get(AUTHORITY_HOST))}/{tenant_id}"
    used = [CLIENT_ID, TENANT_ID, var] + [v for v in (AUTHORITY_HOST,) if v in env]
    credential: Any
    if kind == "client_secret":
        credential = env[SECRET]
    elif kind == "client_certificate":
        credential = _certificate_credential(env[CERT_PATH], env.get(CERT_PASSWORD),
                                             _truthy(env.get(SEND_CHAIN)))
        used += [v for v in (CERT_PASSWORD, SEND_CHAIN) if v in env]
    else:
        path = env[TOKEN_FILE]
        if not os.access(path, os.R_OK):
            raise EnvironmentConfigError(f"{TOKEN_FILE} names a file that cannot be read",
                                         conflicting=[TOKEN_FILE])
        credential = {"client_assertion": FederatedTokenFile(path)}
    return EnvironmentSettings(kind, env[CLIENT_ID].strip(), tenant_id, authority, credential,
                               tuple(used))


def confidential_application(
    app_class: Callable[..., AppT],
    settings: EnvironmentSettings,
    environ: Mapping[str, str] | None,
    *,
    verify: Any = None,
    **app_kwargs: Any,
) -> AppT:
    """``app_class`` (a confidential client application class) configured by ``settings``.

    ``verify`` defaults to ``REQUESTS_CA_BUNDLE`` when set (in ``environ``, else
    ``os.environ``), else True (the system's CAs).
    """
    if verify is None:
        env = os.environ if environ is None else environ
        verify = env.get("REQUESTS_CA_BUNDLE") or True
    return app_class(settings.client_id, settings.client_credential,
                     authority=settings.authority, verify=verify, **app_kwargs)
