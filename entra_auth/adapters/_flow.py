"""One request through the adapter, as an I/O-free decision flow (RFC 6750 + Entra CAE).

The flow yields :class:`NeedToken` and :class:`SendWithToken`; the requests adapter and both
httpx paths drive it, so the challenge logic exists once. A claims challenge is answered by
re-acquiring with ``claims_challenge`` and re-sending once; a second 401 goes to the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from typing import Union

from ..protocol.www_authenticate import find_claims_challenge
from .policy import DestinationPolicy, same_origin

__all__ = ["NeedToken", "ResponseInfo", "SendWithToken", "request_flow"]

logger = logging.getLogger("entra_auth.adapters")


@dataclass(frozen=True, slots=True)
class NeedToken:
    """Get an access token; ``claims``/``rejected`` are set when answering a challenge."""

    claims: str | None = None
    rejected: str | None = None


@dataclass(frozen=True, slots=True)
class SendWithToken:
    """Send the request with ``Authorization: Bearer <token>`` and report the response."""

    token: str

    def __repr__(self) -> str:
        return "SendWithToken(...)"


@dataclass(frozen=True, slots=True)
class ResponseInfo:
    """What the flow needs to know about a response."""

    status_code: int
    www_authenticate: str | Iterable[str] | None
    url: str


Effect = Union[NeedToken, SendWithToken]
RequestFlow = Generator[Effect, Union[str, ResponseInfo], None]


def request_flow(policy: DestinationPolicy, url: str, replayable: bool) -> RequestFlow:
    """Decide, step by step, what to do for one request to ``url``.

    ``replayable`` says whether the request body can be sent a second time.

    Raises:
        UnsafeDestinationError: ``url`` may not receive a token (before anything is sent).
    """
    policy.check(url)
    token = yield NeedToken()
    assert isinstance(token, str)
    response = yield SendWithToken(token)
    assert isinstance(response, ResponseInfo)
    if response.status_code != 401:
        return
    if not same_origin(response.url, url):
        # The 401 came from where a redirect led, which never saw our token.
        return
    try:
        challenge = find_claims_challenge(response.www_authenticate)
    except ValueError as exc:
        logger.warning("ignoring a claims challenge whose claims can't be decoded: %s", exc)
        return
    if challenge is None:
        return
    logger.info("answering a claims challenge (error=%s)", challenge.error)
    token = yield NeedToken(challenge.claims, token)
    assert isinstance(token, str)
    if not replayable:
        # The body was a one-shot stream, already consumed: re-sending would send it empty.
        # The new token is cached, so the caller's own retry succeeds.
        logger.warning(
            "not re-sending a challenged request whose body is a stream; "
            "the 401 is returned and a fresh token is ready for a retry"
        )
        return
    yield SendWithToken(token)
