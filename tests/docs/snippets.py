"""Find the Python snippets of README.md and docs/*.md, and make them runnable on the emulator.

A snippet is a fenced ```` ```python ```` block. An HTML comment on the line right above the
fence controls how it is tested (the comment is invisible when rendered, visible in the source):

* ``<!-- snippet: compile-only: REASON -->``: only compiled (syntax, top-level ``await``
  allowed), never run, e.g. it needs a real browser or Redis server. REASON is required.
* ``<!-- snippet: continues -->``: runs in the namespace the previous (run) snippet of the same
  file left behind (a fragment that goes on from it).

Every other snippet runs against the test's emulator after these documented substitutions
(:data:`SUBSTITUTIONS`, applied to the source text, in order):

1. ``https://login.microsoftonline.com/TENANT`` becomes the emulator's authority for the same
   alias (``common``, ``organizations``, ``consumers``) or, for any other tenant
   (``your-tenant``, ``contoso.com``, ``<tenant id>``...), the emulator's tenant.
2. A placeholder client id given to ``ConfidentialClientApplication`` (``"client-id"``,
   ``"client_id"``) becomes the emulator's web app and ``client_credential="secret"`` its
   secret; one given to ``PublicClientApplication`` (``"your-client-id"``, ``"client-id"``...)
   becomes its public client.

And the snippet's namespace starts with the names the docs use as placeholders
(:func:`namespace`): ``emu``, ``CLIENT_ID``, ``AUTHORITY``, ``SECRET``, ``ID``, ``TENANT``...

While a snippet runs, HTTP to ``https://graph.microsoft.com`` goes to the emulator's
Graph-shaped API (rerouted in requests' and httpx's transports, after authentication, so
``EntraAuth`` still sees Graph's host); any other non-loopback host raises, so a snippet
never reaches Microsoft. ``REQUESTS_CA_BUNDLE``/``SSL_CERT_FILE`` name the emulator's CA, the
emulator approves device codes at once (``settings.auto_approve``), ``AZURE_CLIENT_ID``,
``AZURE_TENANT_ID``, ``AZURE_CLIENT_SECRET`` and ``AZURE_AUTHORITY_HOST`` name its web app (for
``from_environment()``), ``AZURE_POD_IDENTITY_AUTHORITY_HOST`` its IMDS, and the working and home
directories are a temporary directory.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SUBSTITUTIONS", "Snippet", "find_snippets", "substitute"]

ROOT = Path(__file__).resolve().parents[2]
_MARKER = re.compile(r"^<!--\s*snippet:\s*(?P<kind>compile-only|continues)\s*(?::\s*"
                     r"(?P<reason>.*?))?\s*-->\s*$")


@dataclass
class Snippet:
    """One ```python block: where it is, its code, and its marker."""

    path: str  # relative to the repository root
    line: int  # the fence's line number
    code: str
    mode: str = "run"  # run | compile-only | continues
    reason: str = ""

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}"


def find_snippets(root: Path = ROOT) -> list[Snippet]:
    """Every ```python block of README.md and docs/*.md, in file order."""
    found = []
    for path in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        lines = path.read_text(encoding="utf-8").splitlines()
        i = 0
        while i < len(lines):
            if lines[i].strip() == "```python":
                end = i + 1
                while end < len(lines) and lines[end].strip() != "```":
                    end += 1
                snippet = Snippet(str(path.relative_to(root)), i + 1, "\n".join(lines[i + 1:end]))
                marker = _MARKER.match(lines[i - 1].strip()) if i else None
                if marker:
                    snippet.mode = marker.group("kind")
                    snippet.reason = (marker.group("reason") or "").strip()
                found.append(snippet)
                i = end
            i += 1
    return found


_ALIASES = ("common", "organizations", "consumers")

# (pattern, replacement-description) pairs, documented in the module docstring.
SUBSTITUTIONS = [
    (r'https://login\.microsoftonline\.com/(<[^>"]*>|[^"\s/]+)', "the emulator's authority"),
    (r'(ConfidentialClientApplication\(\s*)"(?:your[-_])?client[-_]id"', "WEB_APP_ID"),
    (r'client_credential="secret"', "WEB_APP_SECRET"),
    (r'(PublicClientApplication\(\s*)"(?:your[-_])?client[-_]id"', "PUBLIC_CLIENT_ID"),
]


def substitute(code: str, base_url: str, tenant_id: str) -> str:
    """Apply :data:`SUBSTITUTIONS` to a snippet's source."""

    def authority(match: re.Match[str]) -> str:
        tenant = match.group(1)
        return f"{base_url}/{tenant if tenant in _ALIASES else tenant_id}"

    code = re.sub(SUBSTITUTIONS[0][0], authority, code)
    code = re.sub(SUBSTITUTIONS[1][0], r"\1WEB_APP_ID", code)
    code = re.sub(SUBSTITUTIONS[2][0], "client_credential=WEB_APP_SECRET", code)
    return re.sub(SUBSTITUTIONS[3][0], r"\1PUBLIC_CLIENT_ID", code)


def compile_snippet(snippet: Snippet, code: str | None = None) -> object:
    """Compile a snippet (top-level ``await`` allowed)."""
    return compile(code if code is not None else snippet.code, snippet.id, "exec",
                   flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
