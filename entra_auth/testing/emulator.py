"""The public face of the emulator: :class:`Emulator`, a context manager with test controls.

Serves Entra's v2.0 protocol over HTTPS (or HTTP) on 127.0.0.1; see docs/emulator.md.
"""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
from dataclasses import asdict
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from .config import default_config
from .core import Core
from .faults import Fault, FaultKind
from .model import App, EmulatorConfig, FederatedCredential, Settings, User
from .server import EmulatorServer
from .state import LoggedRequest

if TYPE_CHECKING:
    import requests

    from .certs import ClientCertificate
    from .federation import TokenIssuer

__all__ = ["Emulator"]


class Emulator:
    """A local Microsoft Entra ID.

    Example::

        with Emulator() as emu:
            app = msal.ConfidentialClientApplication(
                WEB_APP_ID, WEB_APP_SECRET, authority=emu.authority(),
                verify=emu.ca_bundle, instance_discovery=False)

    Args:
        config: The directory (tenants, users, apps, resources, settings); defaults to
            :func:`~entra_auth.testing.config.default_config`.
        port: TCP port on 127.0.0.1; 0 picks a free one.
        https: Serve HTTPS with a generated CA (default); False serves plain HTTP.
    """

    def __init__(
        self, config: EmulatorConfig | None = None, *, port: int = 0, https: bool = True
    ) -> None:
        self._core = Core(config if config is not None else default_config(),
                          scheme="https" if https else "http")
        self._port_wanted = port
        self._server: EmulatorServer | None = None
        self._dir: str | None = None
        self.ca_bundle: str | None = None
        """Path of the PEM CA bundle clients must trust (None for plain HTTP)."""

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> Emulator:
        """Bind and start serving in a background thread. Returns self."""
        if self._server is not None:
            return self
        tls = None
        if self._core.scheme == "https":
            self._dir = tempfile.mkdtemp(prefix="entra-emulator-")
            cert_pem, key_pem = self._core.ca.issue_server_certificate(["127.0.0.1", "localhost"])
            cert_path = os.path.join(self._dir, "server.pem")
            key_path = os.path.join(self._dir, "server-key.pem")
            self.ca_bundle = os.path.join(self._dir, "ca.pem")
            for path, text in ((cert_path, cert_pem), (key_path, key_pem),
                               (self.ca_bundle, self._core.ca.certificate_pem)):
                with open(path, "w", encoding="ascii") as fh:
                    fh.write(text)
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.minimum_version = ssl.TLSVersion.TLSv1_2
            tls.load_cert_chain(cert_path, key_path)
        self._server = EmulatorServer(self._core, port=self._port_wanted, tls=tls)
        self._core.port = self._server.port
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving and delete the generated certificate files."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget runtime state (codes, tokens, sessions, consents, faults, log, clock) and
        return the directory and settings to the configuration given at construction."""
        self._core.reset()

    # addresses -------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The port served on (0 before :meth:`start`)."""
        return self._core.port

    @property
    def base_url(self) -> str:
        """``https://127.0.0.1:PORT``."""
        return self._core.base_url()

    @property
    def localhost_url(self) -> str:
        """``https://localhost:PORT``: the same environment under its alias host."""
        return f"{self._core.scheme}://localhost:{self.port}"

    def authority(self, tenant: str | None = None, *, host: str | None = None) -> str:
        """An authority URL, e.g. ``https://127.0.0.1:PORT/<tenant-id>``.

        Args:
            tenant: Tenant id, domain, or ``common``/``organizations``/``consumers``;
                defaults to the first tenant's id.
            host: ``localhost`` to use the alias host.
        """
        base = self.localhost_url if host == "localhost" else self.base_url
        return f"{base}/{tenant or self.tenant_id}"

    @property
    def tenant_id(self) -> str:
        """The first tenant's id."""
        return self._core.config.tenants[0].tenant_id

    def token_endpoint(self, tenant: str | None = None) -> str:
        """The v2.0 token endpoint of a tenant."""
        return f"{self.authority(tenant)}/oauth2/v2.0/token"

    @property
    def instance_discovery_url(self) -> str:
        """The instance-discovery endpoint (pass as msal's ``instance_discovery=``)."""
        return f"{self.base_url}/common/discovery/instance"

    @property
    def graph_url(self) -> str:
        """The Graph-shaped ``/v1.0/me`` URL."""
        return f"{self.base_url}/v1.0/me"

    @property
    def echo_url(self) -> str:
        """The bearer-checked echo endpoint."""
        return f"{self.base_url}/echo"

    @property
    def device_login_url(self) -> str:
        """Where a user enters a device code."""
        return f"{self.base_url}/devicelogin"

    def requests_session(self) -> requests.Session:
        """A ``requests.Session`` for talking to the emulator (e.g. msal's ``http_client=``).

        It trusts the emulator's CA whatever ``REQUESTS_CA_BUNDLE`` says (``trust_env`` off),
        and sends port-less ``https://127.0.0.1/...`` / ``localhost`` URLs to the emulator's
        port: MSAL builds its user-realm and instance-discovery URLs from the authority's host
        name alone, dropping the port.
        """
        import requests

        port, scheme, ca = self.port, self._core.scheme, self.ca_bundle

        class _EmulatorSession(requests.Session):
            def request(self, method: str | bytes, url: str | bytes,
                        *args: Any, **kwargs: Any) -> requests.Response:
                text = url.decode() if isinstance(url, bytes) else url
                parts = urlsplit(text)
                if parts.netloc in ("127.0.0.1", "localhost"):
                    text = urlunsplit(parts._replace(scheme=scheme,
                                                     netloc=f"{parts.netloc}:{port}"))
                return super().request(method, text, *args, **kwargs)

        session = _EmulatorSession()
        session.trust_env = False
        session.verify = ca if ca is not None else True
        return session

    def api_session(self, auth: Any = None) -> requests.Session:
        """A ``requests.Session`` for calling APIs as if the emulator were Microsoft Graph.

        It trusts the emulator's CA (whatever ``REQUESTS_CA_BUNDLE`` says) and sends
        ``https://graph.microsoft.com/...`` to the emulator after ``auth`` has run, so an
        ``EntraAuth(app, ["User.Read"])`` needs no ``allowed_hosts``. See docs/emulator.md.
        """
        from .clients import requests_api_session

        return requests_api_session(self.requests_session(), f"127.0.0.1:{self.port}", auth)  # type: ignore[no-any-return]

    def httpx_client(self, auth: Any = None, *, asynchronous: bool = False,
                     **kwargs: Any) -> Any:
        """An ``httpx.Client`` (``AsyncClient`` with ``asynchronous=True``) like
        :meth:`api_session`: trusts the CA and sends Graph's URLs to the emulator."""
        from .clients import httpx_client

        return httpx_client(self.ca_bundle, "127.0.0.1", self.port, auth,
                            asynchronous=asynchronous, **kwargs)

    @property
    def users_url(self) -> str:
        """The Graph-shaped ``/v1.0/users`` URL (paged with ``@odata.nextLink``)."""
        return f"{self.base_url}/v1.0/users"

    @property
    def throttled_url(self) -> str:
        """``/v1.0/throttled``: 429 with ``Retry-After`` to the first ``fail`` calls per ``key``."""
        return f"{self.base_url}/v1.0/throttled"

    def client_env(self) -> dict[str, str]:
        """Environment variables pointing TLS clients at the CA bundle."""
        if self.ca_bundle is None:
            return {}
        return {"REQUESTS_CA_BUNDLE": self.ca_bundle, "SSL_CERT_FILE": self.ca_bundle,
                "CURL_CA_BUNDLE": self.ca_bundle}

    # the directory ---------------------------------------------------------------------------
    @property
    def config(self) -> EmulatorConfig:
        """The live directory; edit it to change behaviour (``reset()`` restores it)."""
        return self._core.config

    @property
    def settings(self) -> Settings:
        """The live settings (lifetimes, polling interval, auto-approve, ...)."""
        return self._core.config.settings

    def user(self, username: str) -> User:
        """A user by sign-in name.

        Raises:
            LookupError: No such user.
        """
        found = self._core.directory.user(username)
        if found is None:
            raise LookupError(f"no user {username!r} in the emulator's directory")
        return found

    def app(self, client_id: str) -> App:
        """An app registration by client id.

        Raises:
            LookupError: No such app.
        """
        found = self._core.directory.app(client_id)
        if found is None:
            raise LookupError(f"no app {client_id!r} in the emulator's directory")
        return found

    def add_user(self, user: User) -> User:
        """Add a user (until ``reset()``)."""
        with self._core.state.lock:
            self._core.config.users.append(user)
        return user

    def add_app(self, app: App) -> App:
        """Add an app registration (until ``reset()``)."""
        with self._core.state.lock:
            self._core.config.apps.append(app)
        return app

    def add_client_certificate(self, client_id: str) -> ClientCertificate:
        """Generate a self-signed certificate, register it on an app, and return it with its key."""
        from .certs import generate_client_certificate

        cert = generate_client_certificate(f"{client_id} test certificate")
        with self._core.state.lock:
            self.app(client_id).certificates.append(cert.certificate_pem)
        return cert

    def issue_client_certificate(self, client_id: str, common_name: str) -> ClientCertificate:
        """Issue a certificate from the emulator's CA and trust its subject on an app
        (subject name/issuer authentication: send it with ``x5c``)."""
        cert = self._core.ca.issue_client_certificate(common_name)
        with self._core.state.lock:
            subjects = self.app(client_id).trusted_subjects
            if cert.subject not in subjects:
                subjects.append(cert.subject)
        return cert

    # test controls ---------------------------------------------------------------------------
    def add_token_issuer(self, issuer: str) -> TokenIssuer:
        """Play an external OIDC issuer (Kubernetes, GitHub Actions...): the returned
        :class:`~entra_auth.testing.federation.TokenIssuer` mints tokens the emulator can
        verify (until :meth:`reset`). Pair it with :meth:`add_federated_credential`."""
        from .federation import TokenIssuer

        with self._core.state.lock:
            found = self._core.state.token_issuers.get(issuer)
            if found is None:
                found = TokenIssuer(issuer, self.now)
                self._core.state.token_issuers[issuer] = found
        return found

    def add_federated_credential(self, client_id: str, issuer: str, subject: str,
                                 audiences: list[str] | None = None,
                                 name: str = "") -> FederatedCredential:
        """Trust ``issuer``'s tokens for ``subject`` as client assertions of ``client_id``."""
        credential = FederatedCredential(issuer, subject, name=name)
        if audiences is not None:
            credential.audiences = list(audiences)
        with self._core.state.lock:
            self.app(client_id).federated_credentials.append(credential)
        return credential

    def revoke_sessions(self, username: str) -> None:
        """Revoke a user's sessions and refresh tokens; their access tokens draw CAE challenges."""
        self._core.state.revoke_user(self.user(username).object_id)

    def revoke_access_tokens(self, username: str) -> None:
        """Reject a user's access tokens issued so far with a CAE claims challenge, keeping
        their sessions and refresh tokens valid (a critical event such as a network
        location change): a silent refresh with the challenge's claims gets a new token."""
        self._core.state.revoke_access_tokens(self.user(username).object_id)

    def require_mfa(self, username: str, required: bool = True) -> None:
        """Require (or stop requiring) MFA for a user from now on."""
        with self._core.state.lock:
            self.user(username).mfa_required = required

    def require_auth_context(self, acrs: str | None) -> None:
        """Make the Graph-shaped resource demand an authentication context (``acrs``) claim in
        delegated tokens, answering a step-up claims challenge; None stops it."""
        with self._core.state.lock:
            self._core.state.required_acrs = acrs

    def now(self) -> float:
        """The emulator's clock (epoch seconds)."""
        return self._core.now()

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator's clock; tokens, codes and device codes expire by it."""
        self._core.state.clock.advance(seconds)

    def rotate_signing_key(self) -> str:
        """Sign new tokens with a new key (old keys stay published). Returns the new kid."""
        return self._core.signer.rotate()

    def inject_fault(
        self,
        endpoint: str,
        kind: FaultKind,
        *,
        times: int | None = 1,
        status: int = 503,
        retry_after: int | None = None,
        seconds: float = 0.0,
    ) -> Fault:
        """Make an endpoint misbehave.

        Args:
            endpoint: ``token``, ``authorize``, ``devicecode``, ``openid_configuration``,
                ``instance_discovery``, ``keys``, ``userrealm``, ``devicelogin``, ``graph``,
                ``echo``, or ``*``.
            kind: ``delay`` (then answer normally), ``status`` (Entra-shaped error with
                ``status`` and optional ``Retry-After``), ``malformed_json``, ``html``,
                ``empty``, ``truncated`` (body cut short), ``drop`` (close without answering),
                ``reset`` (a TCP RST instead of an answer), ``wrong_content_type`` (the
                normal answer labelled ``text/plain``).
            times: How many requests to affect; None for every one.
            status: HTTP status for ``status``.
            retry_after: ``Retry-After`` seconds for ``status``.
            seconds: Delay for ``delay``.

        Returns:
            The rule; its ``fired`` attribute counts affected requests.

        Raises:
            ValueError: Unknown endpoint or kind, or bad numbers.
        """
        return self._core.faults.add(Fault(endpoint, kind, times=times, status=status,
                                           retry_after=retry_after, seconds=seconds))

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._core.faults.clear()

    @property
    def requests(self) -> list[LoggedRequest]:
        """Every request received since start/``reset()``/``clear_log()``, secrets redacted."""
        with self._core.state.lock:
            return list(self._core.state.log)

    def requests_to(self, endpoint: str) -> list[LoggedRequest]:
        """The logged requests to one endpoint (e.g. ``token``)."""
        return [r for r in self.requests if r.endpoint == endpoint]

    def clear_log(self) -> None:
        """Empty the request log."""
        with self._core.state.lock:
            self._core.state.log.clear()

    @property
    def internal_errors(self) -> list[str]:
        """Tracebacks of emulator bugs hit while serving (should stay empty)."""
        with self._core.state.lock:
            return list(self._core.state.internal_errors)

    @property
    def tokens_issued(self) -> int:
        """How many token responses the emulator has minted."""
        return self._core.state.tokens_issued

    def describe(self) -> dict[str, Any]:
        """What clients need to know: URLs, CA bundle, tenants, apps, users (JSON-able)."""
        cfg = self._core.config
        return {
            "base_url": self.base_url,
            "authorities": [self.authority(t.tenant_id) for t in cfg.tenants],
            "aliases": self._core.hosts,
            "ca_bundle": self.ca_bundle,
            "instance_discovery": self.instance_discovery_url,
            "graph": self.graph_url,
            "device_login": self.device_login_url,
            "tenants": [asdict(t) for t in cfg.tenants],
            "apps": [{"client_id": a.client_id, "display_name": a.display_name,
                      "public_client": a.public_client, "family_id": a.family_id,
                      "redirect_uris": a.redirect_uris, "secrets": a.secrets}
                     for a in cfg.apps],
            "users": [{"username": u.username, "password": u.password,
                       "display_name": u.display_name, "object_id": u.object_id,
                       "mfa_required": u.mfa_required} for u in cfg.users],
        }
