"""The emulator's shared core: parsed requests, replies, and the object every endpoint uses.

``Core`` ties the model (:mod:`.model`), runtime state (:mod:`.state`), signing keys
(:mod:`.tokens`) and fault rules (:mod:`.faults`) to the URLs the server answers on.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

from .aadsts import EntraError, error_body, new_trace_id
from .certs import CertificateAuthority
from .directory import Directory
from .faults import Faults
from .model import EmulatorConfig, Settings
from .state import State
from .tokens import TokenSigner

__all__ = ["Core", "Reply", "Request", "RunningEmulator"]


@dataclass
class Request:
    """One parsed HTTP request."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    host: str = ""
    body: bytes = b""
    endpoint: str = ""

    def param(self, name: str) -> str:
        """A form field (POST) or query parameter (GET), stripped; empty when absent."""
        source = self.form if self.method == "POST" else self.query
        return source.get(name, "").strip()


@dataclass
class Reply:
    """One HTTP response to send. ``action`` is ``drop`` or ``truncate`` for injected faults."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    action: str | None = None

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        """A JSON reply, never cached (as Entra's)."""
        hdrs = [("Content-Type", "application/json; charset=utf-8"),
                ("Cache-Control", "no-store, no-cache"), ("Pragma", "no-cache")]
        hdrs += list((headers or {}).items())
        return cls(status, hdrs, json.dumps(data).encode("utf-8"))

    @classmethod
    def html(cls, text: str, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        """An HTML page."""
        hdrs = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store"),
                ("X-Frame-Options", "DENY")]
        hdrs += list((headers or {}).items())
        return cls(status, hdrs, text.encode("utf-8"))

    @classmethod
    def redirect(cls, location: str, headers: dict[str, str] | None = None) -> Reply:
        """A 302 redirect."""
        hdrs = [("Location", location), ("Cache-Control", "no-store")]
        hdrs += list((headers or {}).items())
        return cls(302, hdrs, b"")


def with_query(url: str, params: dict[str, str]) -> str:
    """Append query parameters to a URL that may already have some."""
    sep = "&" if "?" in url else "?"
    return url + sep + urlencode(params)


class Core:
    """State and helpers shared by every endpoint."""

    def __init__(self, config: EmulatorConfig, *, scheme: str = "https") -> None:
        self.initial = copy.deepcopy(config)
        self.config = copy.deepcopy(config)
        self.directory = Directory(self.config)
        self.state = State()
        self.faults = Faults()
        self.scheme = scheme
        self.port = 0
        self.ca = CertificateAuthority()
        self.signer = TokenSigner(self.ca)

    @property
    def settings(self) -> Settings:
        """The live behaviour settings."""
        return self.config.settings

    @property
    def canonical_host(self) -> str:
        """``127.0.0.1:PORT``: the host in issuers and the preferred alias."""
        return f"127.0.0.1:{self.port}"

    @property
    def hosts(self) -> list[str]:
        """The host aliases of the one environment this emulator is."""
        return [self.canonical_host, f"localhost:{self.port}"]

    def base_url(self, req: Request | None = None) -> str:
        """``scheme://host`` as the client addressed us (an alias), else the canonical host."""
        host = req.host.lower() if req is not None else ""
        if host not in self.hosts:
            host = self.canonical_host
        return f"{self.scheme}://{host}"

    def issuer(self, tenant_id: str) -> str:
        """The v2.0 issuer of tokens for a tenant."""
        return f"{self.scheme}://{self.canonical_host}/{tenant_id}/v2.0"

    def now(self) -> float:
        """The emulator clock."""
        return self.state.clock.now()

    def reset(self) -> None:
        """Back to the configuration the emulator started with; forget all runtime state."""
        with self.state.lock:
            self.config = copy.deepcopy(self.initial)
            self.directory = Directory(self.config)
            self.state.clear()
            self.faults.clear()

    def correlation_id(self, req: Request) -> str:
        """The caller's ``client-request-id`` if it is a GUID, else a new one."""
        given = req.headers.get("client-request-id", "")
        try:
            return str(uuid.UUID(given))
        except ValueError:
            return str(uuid.uuid4())

    def error_reply(self, req: Request, err: EntraError) -> Reply:
        """Render an :class:`EntraError` as Entra's JSON error response."""
        trace_id = new_trace_id()
        correlation_id = self.correlation_id(req)
        body = error_body(err, correlation_id=correlation_id, trace_id=trace_id,
                          now=self.now(), base_url=self.base_url(req))
        headers = {"x-ms-request-id": trace_id, "client-request-id": correlation_id}
        headers.update(err.headers)
        if err.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm=""'
        return Reply.json(body, err.status, headers)

    def json_reply(self, req: Request, data: Any) -> Reply:
        """A 200 JSON reply carrying Entra's request-id headers."""
        return Reply.json(data, 200, {"x-ms-request-id": new_trace_id(),
                                      "client-request-id": self.correlation_id(req)})


class RunningEmulator(Protocol):
    """What the emulator's test controls (:mod:`.imds`, :mod:`.mi_sources`, :mod:`.user_fic`)
    use of an :class:`~entra_auth.testing.Emulator`: typed so rather than by the class, as the
    emulator's server imports those modules."""

    @property
    def base_url(self) -> str: ...

    @property
    def _core(self) -> Core: ...
