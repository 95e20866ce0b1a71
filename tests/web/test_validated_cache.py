"""TokenValidator's cache of validated tokens, and the strict compact-JWS parsing under it."""

from __future__ import annotations

import asyncio
import json

import pytest

from entra_auth.testing import Emulator
from entra_auth.web import InsufficientScopeError, InvalidTokenError, TokenValidator

from .conftest import b64url, claims_of, emulator_signed, keys_fetches, user_token, validator


def rejected(check: TokenValidator, token: str) -> InvalidTokenError:
    with pytest.raises(InvalidTokenError) as caught:
        check.validate(token)
    assert token not in str(caught.value)
    return caught.value


def test_a_token_seen_again_is_answered_from_the_cache(emu: Emulator) -> None:
    check = validator(emu)
    token = user_token(emu)
    first = check.validate(token, scopes=["access_as_user"])
    assert len(check.validated_cache) == 1
    assert check.validate(token, scopes=["access_as_user"]) is first

    async def again() -> object:
        return await check.validate_async(token)

    assert asyncio.run(again()) is first
    assert keys_fetches(emu) == 1
    # Scopes and roles are checked on every call, hit or not.
    with pytest.raises(InsufficientScopeError):
        check.validate(token, scopes=["Data.Write"])


def test_a_cached_token_is_never_accepted_past_exp_or_before_nbf(emu: Emulator) -> None:
    token = user_token(emu)
    claims = claims_of(token)
    now = [float(claims["exp"]) - 10]
    check = validator(emu, clock=lambda: now[0], leeway=0)
    check.validate(token)
    now[0] = claims["exp"] - 0.5
    assert check.validate(token).claims["oid"] == claims["oid"]
    now[0] = claims["exp"]
    assert rejected(check, token).error_description == "the token has expired"
    assert len(check.validated_cache) == 0
    # nbf: a clock set back before the token's start no longer gets the cached answer.
    now[0] = claims["nbf"] + 1
    check.validate(token)
    now[0] = claims["nbf"] - 5
    assert rejected(check, token).error_description == "the token is not valid yet"


def test_a_cached_token_is_refused_once_its_key_leaves_the_key_set(emu: Emulator) -> None:
    now = [emu.now()]
    check = validator(emu, clock=lambda: now[0])
    old_token = user_token(emu)
    check.validate(old_token)
    old_kid = emu._core.signer.current_kid
    signer = emu._core.signer
    emu.rotate_signing_key()
    retired = [k for k in signer._keys if k.kid == old_kid]
    signer._keys[:] = [k for k in signer._keys if k.kid != old_kid]  # the authority drops it
    try:
        new_token = user_token(emu)
        check.validate(new_token)  # an unknown kid: the key set is refetched, old key gone
        assert old_kid not in check.keys.known_kids
        error = rejected(check, old_token)
        assert "signing key" in (error.error_description or "")
        # And when the key set grows stale (max_age) a cached token waits for a refetch.
        check.keys.max_age = 120
        now[0] += 121
        fetches = keys_fetches(emu)
        check.validate(new_token)
        assert keys_fetches(emu) == fetches + 1
    finally:
        signer._keys[:0] = retired


def test_the_cache_is_bounded_and_can_be_turned_off(emu: Emulator) -> None:
    check = validator(emu, validated_cache_size=3)
    tokens = [emulator_signed(emu, oid=f"00000000-0000-0000-0000-00000000000{i}")
              for i in range(5)]
    for token in tokens:
        check.validate(token)
    assert len(check.validated_cache) == 3
    assert check.validate(tokens[-1]).claims["oid"].endswith("4")
    off = validator(emu, validated_cache_size=0)
    first = off.validate(tokens[0])
    assert len(off.validated_cache) == 0 and off.validate(tokens[0]) is not first
    with pytest.raises(ValueError):
        validator(emu, validated_cache_size=-1)


def test_a_rejected_token_is_not_remembered(emu: Emulator) -> None:
    check = validator(emu)
    token = user_token(emu)
    header, payload, signature = token.split(".")
    tampered = ".".join([header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA"
                                                            else "BBBB")])
    for _ in range(2):
        assert rejected(check, tampered).error_description == "the token's signature is invalid"
    assert len(check.validated_cache) == 0


def test_only_strict_compact_jws_is_accepted(emu: Emulator) -> None:
    check = validator(emu)
    token = user_token(emu)
    check.validate(token)
    header, payload, signature = token.split(".")
    # Characters outside base64url are refused, not skipped by a lenient decoder.
    for variant in (f"{header}.{payload}.{signature}=", f"{header}.{payload}.{signature[:5]}+"
                    f"{signature[5:]}", f"{header}.{payload}. {signature}", f"{token}.x"):
        assert "not a signed JWT" in (rejected(check, variant).error_description or "")
    # A header asking for JWS extensions (crit, unencoded payload) is refused.
    for extra in ({"crit": ["exp"]}, {"b64": False}):
        fields = {**json.loads(__import__("base64").urlsafe_b64decode(header + "==")), **extra}
        forged = f"{b64url(json.dumps(fields).encode())}.{payload}.{signature}"
        assert "extensions" in (rejected(check, forged).error_description or "")
