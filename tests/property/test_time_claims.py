"""The validator's time-claim check on any JSON value: it accepts only finite NumericDates in
range that make the token current, and refuses everything else with InvalidTokenError naming
the claim (never OverflowError, TypeError or ValueError)."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from entra_auth.web import InvalidTokenError
from entra_auth.web.time_claims import MAX_NUMERIC_DATE, check_time_claims

from .budget import examples
from .strategies import json_values

NOW = 1_800_000_000.0
MISSING = object()

edges = st.sampled_from([
    0, -1, 1, MAX_NUMERIC_DATE, MAX_NUMERIC_DATE + 1, 10**400, -(10**400), 2**63, 2**1024,
    math.nan, math.inf, -math.inf, 1e308, -0.0, 5e-324, NOW, NOW - 60, NOW + 60, NOW + 61,
    "1900000000", "0", "NaN", True, False, None, [], {}, NOW + 0.5,
])
numbers = st.one_of(st.integers(min_value=-(10**450), max_value=10**450),
                    st.floats(allow_nan=True, allow_infinity=True),
                    st.floats(min_value=NOW - 10**6, max_value=NOW + 10**6))
values = st.one_of(st.just(MISSING), edges, numbers, json_values)


def _valid(value: object) -> bool:
    return (not isinstance(value, bool) and isinstance(value, (int, float))
            and not (isinstance(value, float) and not math.isfinite(value))
            and 0 <= value <= MAX_NUMERIC_DATE)


@examples
@given(values, values, values, st.sampled_from([0.0, 60.0, 300.0]))
def test_time_claims_accept_only_current_numeric_dates(
        exp: Any, nbf: Any, iat: Any, leeway: float) -> None:
    claims = {k: v for k, v in (("exp", exp), ("nbf", nbf), ("iat", iat)) if v is not MISSING}
    try:
        check_time_claims(claims, now=NOW, leeway=leeway)
    except InvalidTokenError as exc:
        message = str(exc.error_description)
        malformed = [k for k, v in claims.items() if not _valid(v)]
        if "exp" not in claims:
            assert message == "the token has no expiry (exp claim)"
        elif malformed:
            assert any(f"{k} claim" in message for k in malformed), (claims, message)
        else:
            assert (claims["exp"] + leeway <= NOW
                    or NOW + leeway < claims.get("nbf", -math.inf)
                    or NOW + leeway < claims.get("iat", -math.inf)), (claims, message)
        return
    assert "exp" in claims and _valid(claims["exp"]) and claims["exp"] + leeway > NOW
    for name in ("nbf", "iat"):
        if name in claims:
            assert _valid(claims[name]) and claims[name] <= NOW + leeway
