"""One request through the adapter, as an I/O-free decision flow (RFC 6750 + Entra CAE).

The flow yields ``NeedToken`` and ``SendWithToken`` (:mod:`entra_auth.protocol.messages`);
the requests hook and both httpx ``auth_flow`` paths step it with the driver module's
``start``/``resume``, so the challenge logic exists once. A claims challenge is answered by
re-acquiring with ``claims_challenge`` and re-sending once; a plain 401 that rejects the token
(``invalid_token``, no claims) by re-acquiring past the cached access token and re-sending
once. A second 401 goes to the caller.
The adapters do the first steps inline (destination check, token, send: the hot path) and
build :func:`challenge_flow` only when :func:`may_be_challenge` says a response needs it.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Union

from ..protocol.messages import NeedToken, ResponseInfo, SendWithToken
from ..protocol.www_authenticate import find_claims_challenge, rejects_token
from .policy import same_origin

__all__ = ["FIRST_TOKEN", "ChallengeFlow", "challenge_flow", "may_be_challenge"]

logger = logging.getLogger("entra_auth.adapters")


FIRST_TOKEN = NeedToken()
ChallengeFlow = Generator[Union[NeedToken, SendWithToken], Union[str, ResponseInfo], None]


def may_be_challenge(status_code: int) -> bool:
    """Whether a response with this status needs :func:`challenge_flow` at all."""
    return status_code == 401


def challenge_flow(
    url: str, token: str, response: ResponseInfo, replayable: bool
) -> ChallengeFlow:
    """After ``response`` to a request to ``url`` sent with ``token``: answer a claims
    challenge or a rejected token (yield NeedToken, then SendWithToken once), or end."""
    if not may_be_challenge(response.status_code):
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
        if rejects_token(response.www_authenticate):
            yield from _answer_rejection(token, replayable)
        return
    logger.info("answering a claims challenge (error=%s)", challenge.error)
    new_token = yield NeedToken(challenge.claims, token)
    assert isinstance(new_token, str)
    if not replayable:
        # The body was a one-shot stream, already consumed: re-sending would send it empty.
        # The new token is cached, so the caller's own retry succeeds.
        logger.warning(
            "not re-sending a challenged request whose body is a stream; "
            "the 401 is returned and a fresh token is ready for a retry"
        )
        return
    yield SendWithToken(new_token)


def _answer_rejection(token: str, replayable: bool) -> ChallengeFlow:
    # The cache deemed the token valid (a clock ahead, a revocation without CAE...): ask
    # for another one once, past the application's cached access token.
    logger.info("the resource rejected the access token; acquiring a new one")
    new_token = yield NeedToken(None, token, force=True)
    assert isinstance(new_token, str)
    if new_token == token:
        # This token has had its one forced refresh, or the application can't bypass its
        # cache: re-sending would only be refused again.
        logger.info("no other token to offer; the 401 goes back to the caller")
        return
    if not replayable:
        logger.warning(
            "not re-sending a rejected request whose body is a stream; "
            "the 401 is returned and a fresh token is ready for a retry"
        )
        return
    yield SendWithToken(new_token)
