"""Parse ``WWW-Authenticate`` challenges (RFC 9110 section 11.6.1) and Entra claims challenges.

Tolerant of what real servers send: several challenges in one header, lowercase schemes,
unquoted values, ``=``/``,``/escaped quotes inside quoted strings, missing spaces. The claims
challenge (Continuous Access Evaluation) is a Bearer challenge carrying base64 JSON ``claims``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "Challenge",
    "ClaimsChallenge",
    "MalformedChallengeError",
    "decode_claims",
    "find_claims_challenge",
    "parse_challenges",
    "rejects_token",
]

_WHITESPACE = " \t"
# A token ends at any of these; '=' ends it too, so token68 padding is handled separately.
_TOKEN_END = frozenset(' \t,="')
# Error codes with which resources send a claims challenge: Graph and most Microsoft 365 APIs
# use insufficient_claims; Azure Resource Manager revokes sessions with invalid_token.
CLAIMS_CHALLENGE_ERRORS = frozenset({"insufficient_claims", "invalid_token"})


class MalformedChallengeError(ValueError):
    """A ``WWW-Authenticate`` value could not be parsed (e.g. an unterminated quoted string)."""


@dataclass(frozen=True)
class Challenge:
    """One authentication challenge.

    Attributes:
        scheme: The auth scheme, lowercased (``"bearer"``, ``"basic"``, ``"pop"``).
        params: Auth parameters by lowercased name; quoted values are unescaped.
        token68: The token68 form of the challenge, if the scheme used it instead of params.
    """

    scheme: str
    params: Mapping[str, str] = field(default_factory=dict)
    token68: str | None = None


@dataclass(frozen=True)
class ClaimsChallenge:
    """A Bearer claims challenge from a resource.

    Attributes:
        claims: The decoded claims request: a JSON object as text, ready to pass as
            ``claims_challenge``.
        error: The challenge's ``error`` parameter (``insufficient_claims`` or ``invalid_token``).
        error_description: The challenge's ``error_description``, if any.
        params: All parameters of the Bearer challenge.
    """

    claims: str
    error: str
    error_description: str | None
    params: Mapping[str, str]


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_whitespace(self) -> None:
        while self.peek() and self.peek() in _WHITESPACE:
            self.pos += 1

    def skip_separators(self) -> None:
        while self.peek() and (self.peek() in _WHITESPACE or self.peek() == ","):
            self.pos += 1

    def token(self) -> str:
        start = self.pos
        while self.peek() and self.peek() not in _TOKEN_END:
            self.pos += 1
        return self.text[start : self.pos]

    def equals_run(self) -> int:
        start = self.pos
        while self.peek() == "=":
            self.pos += 1
        return self.pos - start

    def quoted_string(self) -> str:
        # Caller saw the opening quote.
        self.pos += 1
        out: list[str] = []
        while True:
            char = self.peek()
            if not char:
                raise MalformedChallengeError("unterminated quoted string in WWW-Authenticate")
            self.pos += 1
            if char == '"':
                return "".join(out)
            if char == "\\":
                escaped = self.peek()
                if not escaped:
                    raise MalformedChallengeError("dangling escape in WWW-Authenticate")
                self.pos += 1
                out.append(escaped)
            else:
                out.append(char)

    def bare_value(self) -> str:
        # Unquoted values run to the next comma or whitespace; '=' is allowed inside them
        # because real servers send unquoted base64 and URLs.
        start = self.pos
        while self.peek() and self.peek() not in " \t,":
            if self.peek() == '"':
                raise MalformedChallengeError("stray quote in an unquoted WWW-Authenticate value")
            self.pos += 1
        return self.text[start : self.pos]


def parse_challenges(header: str | Iterable[str]) -> list[Challenge]:
    """Parse one ``WWW-Authenticate`` value (or several header lines) into challenges.

    Args:
        header: The header value, or an iterable of values when the header was repeated.

    Returns:
        The challenges in order. Scheme and parameter names are lowercased.

    Raises:
        MalformedChallengeError: The value is not a list of challenges (unterminated quote,
            a parameter before any scheme, an empty parameter name, ...).
    """
    if not isinstance(header, str):
        return [c for line in header for c in parse_challenges(line)]
    scanner = _Scanner(header)
    challenges: list[Challenge] = []
    scheme: str | None = None
    params: dict[str, str] = {}
    token68: str | None = None

    def flush() -> None:
        if scheme is not None:
            challenges.append(Challenge(scheme.lower(), dict(params), token68))

    while True:
        scanner.skip_separators()
        if scanner.at_end():
            break
        if scanner.peek() in '="':
            raise MalformedChallengeError("expected an auth scheme or parameter name")
        name = scanner.token()
        scanner.skip_whitespace()
        if scanner.peek() == "=":
            mark = scanner.pos
            padding = scanner.equals_run()
            scanner.skip_whitespace()
            ends_item = scanner.at_end() or scanner.peek() == ","
            if padding > 1 or ends_item:
                # "name=" / "name==" at the end of an item is token68 padding, not a param.
                if scheme is None or params or token68 is not None:
                    raise MalformedChallengeError("token68 outside a challenge")
                token68 = name + "=" * padding
                continue
            scanner.pos = mark + 1
            scanner.skip_whitespace()
            if scheme is None:
                raise MalformedChallengeError("auth parameter before any auth scheme")
            value = scanner.quoted_string() if scanner.peek() == '"' else scanner.bare_value()
            params.setdefault(name.lower(), value)
            continue
        # A bare token: either a new scheme, or the token68 of the current one.
        first_item = scheme is not None and not params and token68 is None
        if first_item and _follows_scheme(header, scanner):
            token68 = name
            continue
        flush()
        scheme, params, token68 = name, {}, None
    flush()
    return challenges


def _follows_scheme(header: str, scanner: _Scanner) -> bool:
    # A token directly after "Scheme " (no comma between) is that scheme's token68,
    # as in "Negotiate abc123"; after a comma it starts a new challenge.
    back = scanner.pos - 1
    while back >= 0 and header[back] not in _WHITESPACE + ",":
        back -= 1
    while back >= 0 and header[back] in _WHITESPACE:
        back -= 1
    return back >= 0 and header[back] != ","


def decode_claims(value: str) -> str:
    """Decode a challenge's ``claims`` parameter to its JSON text.

    Accepts standard or url-safe base64 with or without padding; a value that is already a
    JSON object is returned as is.

    Raises:
        ValueError: The value is not base64 of a UTF-8 JSON object.
    """
    text = value.strip()
    if text.startswith("{"):
        decoded = text
    else:
        normalized = text.rstrip("=").replace("-", "+").replace("_", "/")
        normalized += "=" * (-len(normalized) % 4)
        try:
            decoded = base64.b64decode(normalized, validate=True).decode("utf-8")
        except (binascii.Error, ValueError) as exc:
            raise ValueError("claims is not valid base64 of UTF-8 text") from exc
    try:
        parsed = json.loads(decoded)
    except (ValueError, RecursionError) as exc:
        raise ValueError("claims does not decode to JSON") from exc
    if not isinstance(parsed, dict):
        raise ValueError("claims does not decode to a JSON object")
    return decoded


def find_claims_challenge(header: str | Iterable[str] | None) -> ClaimsChallenge | None:
    """Return the Bearer claims challenge in a ``WWW-Authenticate`` value, if there is one.

    Returns None for a missing, malformed or non-Bearer header, or a Bearer challenge without
    ``claims`` or with an error that is not a claims challenge.

    Raises:
        ValueError: A claims challenge is present but its ``claims`` cannot be decoded.
    """
    if header is None:
        return None
    try:
        challenges = parse_challenges(header)
    except MalformedChallengeError:
        return None
    for challenge in challenges:
        if challenge.scheme != "bearer":
            continue
        error = challenge.params.get("error", "")
        raw = challenge.params.get("claims")
        if raw is None or error not in CLAIMS_CHALLENGE_ERRORS:
            continue
        return ClaimsChallenge(
            claims=decode_claims(raw),
            error=error,
            error_description=challenge.params.get("error_description"),
            params=challenge.params,
        )
    return None


def rejects_token(header: str | Iterable[str] | None) -> bool:
    """Whether a 401's ``WWW-Authenticate`` says the bearer token itself was refused.

    True for a Bearer challenge without ``claims`` whose ``error`` is ``invalid_token`` or
    absent (Graph answers an expired or unknown token with no error code): a fresh token may
    be accepted. False for a missing or malformed header, other schemes, other errors
    (``insufficient_scope``...) and claims challenges (see :func:`find_claims_challenge`).
    """
    if header is None:
        return False
    try:
        challenges = parse_challenges(header)
    except MalformedChallengeError:
        return False
    return any(
        c.scheme == "bearer" and "claims" not in c.params
        and c.params.get("error", "invalid_token") == "invalid_token"
        for c in challenges
    )
