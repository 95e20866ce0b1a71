"""Cross-origin token requests, as Entra answers single-page applications (SPA redirect URIs).

A browser app redeems its code with ``fetch`` from its own origin: the token endpoint answers
the CORS preflight and labels every reply ``Access-Control-Allow-Origin``.
"""

from __future__ import annotations

from .core import Reply, Request

__all__ = ["preflight", "with_cors"]

_ALLOWED_HEADERS = ("content-type, accept, x-requested-with, client-request-id, "
                    "return-client-request-id, x-client-sku, x-client-ver, x-client-os")


def preflight(req: Request) -> Reply:
    """The answer to an ``OPTIONS`` preflight of the token endpoint."""
    headers = [
        ("Access-Control-Allow-Origin", req.headers.get("origin") or "*"),
        ("Access-Control-Allow-Methods", "POST, OPTIONS"),
        ("Access-Control-Allow-Headers",
         req.headers.get("access-control-request-headers") or _ALLOWED_HEADERS),
        ("Access-Control-Max-Age", "86400"),
        ("Vary", "Origin"),
    ]
    return Reply(204, headers, b"")


def with_cors(req: Request, reply: Reply) -> Reply:
    """``reply``, readable by the requesting origin when the request was cross-origin."""
    origin = req.headers.get("origin")
    if not origin:
        return reply
    headers = [*reply.headers, ("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
    return Reply(reply.status, headers, reply.body, reply.action)
