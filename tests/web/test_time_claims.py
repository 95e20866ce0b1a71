"""TokenValidator at the numeric edges of exp/nbf/iat, on tokens the trusted issuer signed:
every malformed or out-of-range time claim is a 401 naming the claim, never a 500."""

from __future__ import annotations

import math
from typing import Any

import pytest

from entra_auth.testing import Emulator
from entra_auth.web import InvalidTokenError, TokenValidator

from .conftest import claims_of, user_token, validator


def _signer(emu: Emulator) -> Any:
    base = claims_of(user_token(emu))

    def sign(**changes: Any) -> str:
        claims = dict(base)
        for name, value in changes.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return str(emu._core.signer.sign(claims))

    return sign


def _rejected(check: TokenValidator, token: str) -> str:
    with pytest.raises(InvalidTokenError) as caught:
        check.validate(token)
    assert caught.value.status_code == 401 and caught.value.error == "invalid_token"
    return str(caught.value.error_description)


CASES = [
    ("exp", 10**400, "exp claim is out of range"),  # was an uncaught OverflowError
    ("exp", math.nan, "exp claim is not a finite number"),  # was accepted: never expired
    ("exp", math.inf, "exp claim is not a finite number"),
    ("nbf", math.nan, "nbf claim is not a finite number"),
    ("nbf", -math.inf, "nbf claim is not a finite number"),
    ("nbf", 10**400, "nbf claim is out of range"),
    ("exp", "1900000000", "exp claim is not a number"),  # was "has no expiry"
    ("nbf", "0", "nbf claim is not a number"),  # was "not valid yet"
    ("exp", True, "exp claim is not a number"),
    ("exp", [1900000000], "exp claim is not a number"),
    ("exp", -1, "exp claim is out of range"),
    ("iat", "yesterday", "iat claim is not a number"),  # iat was never checked
    ("iat", math.nan, "iat claim is not a finite number"),
    ("iat", 10**30, "iat claim is out of range"),
]


@pytest.mark.parametrize(("claim", "value", "says"), CASES,
                         ids=[f"{c}={str(v)[:12]}" for c, v, _ in CASES])
def test_malformed_time_claims_are_401s_naming_the_claim(
        emu: Emulator, claim: str, value: object, says: str) -> None:
    token = _signer(emu)(**{claim: value})
    assert _rejected(validator(emu), token) == f"the token's {says}"


def test_iat_in_the_future_and_missing_exp(emu: Emulator) -> None:
    sign = _signer(emu)
    now = emu.now()
    check = validator(emu)
    assert _rejected(check, sign(iat=int(now) + 3600, nbf=None)) == (
        "the token was issued in the future (iat claim)")
    assert check.validate(sign(iat=int(now) + 30, nbf=None))  # within the 60 s leeway
    assert _rejected(check, sign(exp=None)) == "the token has no expiry (exp claim)"
    # fractional NumericDates are fine (RFC 7519 allows them)
    assert check.validate(sign(exp=now + 600.5, nbf=now - 0.25, iat=now - 0.25))
