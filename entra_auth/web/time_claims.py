"""The token validator's time claims: ``exp``, ``nbf`` and ``iat`` as RFC 7519 NumericDates.

A NumericDate is a JSON number of seconds since the epoch. Strings, booleans, NaN, infinities
and values past the year 9999 (which would overflow or never expire) are refused, each with an
:class:`InvalidTokenError` naming the claim. Pure: the caller passes ``now``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .errors import InvalidTokenError

__all__ = ["MAX_NUMERIC_DATE", "check_time_claims", "numeric_date"]

MAX_NUMERIC_DATE = 253402300799  # 9999-12-31T23:59:59Z


def numeric_date(claims: Mapping[str, Any], name: str) -> float | None:
    """The claim ``name`` as seconds since the epoch, or None when it is absent.

    Raises:
        InvalidTokenError: The claim is not a number (a string, a boolean, null...), is NaN
            or infinite, or lies outside 1970-9999.
    """
    if name not in claims:
        return None
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidTokenError(f"the token's {name} claim is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidTokenError(f"the token's {name} claim is not a finite number")
    if not 0 <= value <= MAX_NUMERIC_DATE:  # compares big ints exactly, no float overflow
        raise InvalidTokenError(f"the token's {name} claim is out of range")
    return float(value)


def check_time_claims(claims: Mapping[str, Any], *, now: float, leeway: float) -> None:
    """Check ``exp`` (required), ``nbf`` and ``iat`` against ``now`` with ``leeway`` seconds.

    Raises:
        InvalidTokenError: A claim is missing, malformed or out of range; the token has
            expired, is not valid yet, or was issued in the future.
    """
    exp = numeric_date(claims, "exp")
    if exp is None:
        raise InvalidTokenError("the token has no expiry (exp claim)")
    nbf = numeric_date(claims, "nbf")
    iat = numeric_date(claims, "iat")
    if now >= exp + leeway:
        raise InvalidTokenError("the token has expired")
    if nbf is not None and now + leeway < nbf:
        raise InvalidTokenError("the token is not valid yet")
    if iat is not None and now + leeway < iat:
        raise InvalidTokenError("the token was issued in the future (iat claim)")
