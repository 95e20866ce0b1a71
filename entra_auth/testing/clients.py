"""HTTP clients that send Microsoft Graph's URLs to the emulator: one way to point code at it.

``emu.api_session(auth)`` (requests) and ``emu.httpx_client(auth)`` / ``emu.httpx_client(auth,
asynchronous=True)`` (httpx) trust the emulator's CA whatever ``REQUESTS_CA_BUNDLE`` says, and
route ``https://graph.microsoft.com/...`` to the emulator's Graph-shaped API at the transport,
*after* authentication: an ``EntraAuth`` for Graph scopes sees Graph's host, so it needs no
``allowed_hosts``, and code written for Graph runs unchanged. URLs of the emulator itself
(``emu.base_url``) work too.
"""

from __future__ import annotations

import ssl
from typing import Any

__all__ = ["GRAPH_ORIGIN", "httpx_client", "requests_api_session"]

GRAPH_ORIGIN = "https://graph.microsoft.com"


def requests_api_session(base_session: Any, emulator_netloc: str, auth: Any = None) -> Any:
    """Mount a Graph-rerouting adapter on a session that trusts the emulator."""
    import requests.adapters

    class _ToEmulator(requests.adapters.HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            if request.url.lower().startswith(GRAPH_ORIGIN + "/") or request.url.lower() == (
                    GRAPH_ORIGIN):
                request.url = f"https://{emulator_netloc}{request.url[len(GRAPH_ORIGIN):]}"
            return super().send(request, *args, **kwargs)

    base_session.mount(GRAPH_ORIGIN, _ToEmulator())
    if auth is not None:
        base_session.auth = auth
    return base_session


def httpx_client(ca_bundle: str | None, emulator_host: str, port: int, auth: Any = None, *,
                 asynchronous: bool = False, **kwargs: Any) -> Any:
    """An ``httpx.Client`` (or ``AsyncClient``) that trusts the CA and reroutes Graph."""
    import httpx

    verify: Any = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True

    def _reroute(request: httpx.Request) -> None:
        if request.url.host == "graph.microsoft.com":
            request.url = request.url.copy_with(host=emulator_host, port=port)
            request.headers["Host"] = f"{emulator_host}:{port}"

    class _Sync(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            _reroute(request)
            return super().handle_request(request)

    class _Async(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            _reroute(request)
            return await super().handle_async_request(request)

    if asynchronous:
        return httpx.AsyncClient(auth=auth, verify=verify, trust_env=False,
                                 mounts={GRAPH_ORIGIN: _Async(verify=verify)}, **kwargs)
    return httpx.Client(auth=auth, verify=verify, trust_env=False,
                        mounts={GRAPH_ORIGIN: _Sync(verify=verify)}, **kwargs)
