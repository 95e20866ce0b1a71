"""The defined outcome of every fault matrix cell (flow x fault), and its table for the docs.

docs/reliability.md carries :func:`markdown_table` verbatim; a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass

from .flows import FAULTS, FLOWS

# What the application returns for a failed token-endpoint step, by fault.
TOKEN_ERRORS = {
    "429 Retry-After": "temporarily_unavailable",  # the reply's own Entra error JSON
    "500": "server_error",
    "503 Retry-After": "temporarily_unavailable",
    "timeout": "transport_error",
    "connection reset": "transport_error",
    "malformed JSON": "invalid_response",
    "HTML page": "invalid_response",
    "empty body": "invalid_response",
    "truncated body": "transport_error",
}
DISCOVERY_ERRORS = {
    **TOKEN_ERRORS,
    "500": "invalid_discovery_response",
    "503 Retry-After": "invalid_discovery_response",
    "malformed JSON": "invalid_discovery_response",
    "HTML page": "invalid_discovery_response",
    "empty body": "invalid_discovery_response",
}
ADAPTER_EXCEPTIONS = {
    "transport_error": "TransportFailure",
    "invalid_response": "ProtocolError",
}
# A GET is retried once by the transport on a read error or a 429/503 with Retry-After.
GET_RETRIED = {"429 Retry-After", "503 Retry-After", "timeout", "connection reset"}


@dataclass(frozen=True)
class Outcome:
    """What a cell must produce.

    kind: ``error`` (an error dict with ``error``), ``raise`` (exception class name, with
    ``error`` its ``.error`` when it has one), ``cached`` (the still-valid cached token),
    ``token`` (a new token from the identity provider), ``flow`` (a device flow dict).
    requests: how many requests reach the faulted endpoint.
    """

    kind: str
    error: str | None = None
    exception: str | None = None
    requests: int = 1

    def describe(self) -> str:
        if self.kind == "error":
            return f"`{self.error}`"
        if self.kind == "raise":
            return f"raises `{self.exception}`" + (f" (`{self.error}`)" if self.error else "")
        return {"cached": "cached token", "token": "new token", "flow": "flow dict"}[self.kind]


def expected(flow: str, fault: str) -> Outcome:
    """The defined outcome of ``flow`` meeting ``fault`` (persistently)."""
    if fault == "wrong content type":  # JSON is read whatever its label (as msal)
        return Outcome("flow" if flow == "device code initiate" else "token")
    if flow == "discovery":
        retried = 2 if fault in GET_RETRIED else 1
        if fault == "429 Retry-After":  # a 4xx: MSAL's ValueError for a bad authority
            return Outcome("raise", exception="ValueError", requests=retried)
        return Outcome("error", DISCOVERY_ERRORS[fault], requests=retried)
    if "refresh_on passed" in flow:  # the adapter sends the cached token too
        return Outcome("cached")
    error = TOKEN_ERRORS[fault]
    if flow.startswith("adapter"):
        return Outcome("raise", error,
                       exception=ADAPTER_EXCEPTIONS.get(error, "TokenRequestError"))
    return Outcome("error", error)


def markdown_table() -> str:
    """The matrix as a Markdown table: a row per flow, a column per fault."""
    faults = list(FAULTS)
    lines = [
        "| flow (faulted endpoint) | " + " | ".join(faults) + " |",
        "|---|" + "---|" * len(faults),
    ]
    for spec in FLOWS:
        cells = []
        for fault in faults:
            outcome = expected(spec.name, fault)
            text = outcome.describe()
            if outcome.requests != 1:
                text += f" ({outcome.requests} GETs)"
            cells.append(text)
        lines.append(f"| {spec.name} (`{spec.endpoint}`) | " + " | ".join(cells) + " |")
    return "\n".join(lines)
