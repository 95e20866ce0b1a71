"""Claims merging keeps the challenge and adds capabilities; id_token decoding and checks,
and token-response parsing, never raise anything but their documented errors."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from entra_auth.protocol.claims import merge_claims
from entra_auth.protocol.id_token import IdTokenError, check_id_token, decode_id_token_claims
from entra_auth.protocol.messages import HttpResponse
from entra_auth.protocol.pkce import nonce_hash
from entra_auth.protocol.token_request import parse_token_response

from .budget import examples
from .strategies import hostile_text, json_objects, json_values

capabilities = st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=3)


@examples
@given(json_objects, capabilities)
def test_merge_keeps_challenge_and_adds_capabilities(challenge: dict[str, Any],
                                                     caps: list[str]) -> None:
    merged = json.loads(merge_claims(json.dumps(challenge), caps) or "null")
    assert merged["access_token"]["xms_cc"] == {"values": caps}
    for key, value in challenge.items():
        if key != "access_token":
            assert merged[key] == value
    original = challenge.get("access_token")
    if isinstance(original, dict):
        for key, value in original.items():
            if key != "xms_cc":
                assert merged["access_token"][key] == value


@examples
@given(st.one_of(hostile_text, json_values.map(json.dumps)), st.one_of(st.none(), capabilities))
def test_merge_hostile_challenge_is_value_error_or_text(challenge: str,
                                                        caps: list[str] | None) -> None:
    try:
        merged = merge_claims(challenge, caps)
    except ValueError:
        assert caps  # only a merge parses the challenge
        return
    if not caps:
        assert merged == (challenge or None)  # sent verbatim, as msal
    else:
        assert isinstance(json.loads(merged or ""), dict)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


payloads = st.one_of(
    json_objects.map(lambda o: json.dumps(o).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
    hostile_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
)
id_tokens = st.one_of(
    hostile_text,
    st.tuples(st.text(max_size=20), payloads.map(_b64), st.text(max_size=20)).map(".".join),
    st.lists(st.text(max_size=10), max_size=6).map(".".join),
)


@examples
@given(id_tokens)
def test_id_token_decodes_to_a_dict_or_id_token_error(token: str) -> None:
    try:
        claims = decode_id_token_claims(token)
    except IdTokenError as exc:
        assert token not in str(exc) or len(token) < 8  # the message never quotes the token
        return
    assert isinstance(claims, dict)
    assert claims == json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==="))


@examples
@given(json_objects, json_values, json_values, st.one_of(st.none(), st.integers(0, 10**6)),
       st.sampled_from([None, "n0nce"]))
def test_check_id_token_accepts_only_fresh_matching_tokens(
        claims: dict[str, Any], auth_time: Any, nonce_claim: Any, max_age: int | None,
        nonce: str | None) -> None:
    now = 1_700_000_000.0
    claims = {**claims, "auth_time": auth_time,
              "nonce": nonce_hash(nonce) if nonce and nonce_claim is None else nonce_claim}
    try:
        check_id_token(claims, nonce=nonce, max_age=max_age, now=now)
    except IdTokenError:
        return
    if nonce is not None:
        assert claims["nonce"] == nonce_hash(nonce)
    if max_age is not None:
        assert isinstance(auth_time, (int, float)) and not isinstance(auth_time, bool)
        assert math.isfinite(auth_time) and now - 120 <= auth_time + max_age


token_bodies = st.one_of(
    hostile_text,
    json_values.map(json.dumps),
    st.fixed_dictionaries({}, optional={
        "access_token": st.one_of(st.text(max_size=10), json_values),
        "id_token": id_tokens,
        "expires_in": st.one_of(json_values, st.sampled_from(["NaN", "1e999", "3600"])),
        "refresh_token": json_values, "scope": json_values, "client_info": json_values,
        "error": st.one_of(st.text(max_size=10), json_values),
        "error_description": json_values,
    }).map(json.dumps),
)


@examples
@given(st.integers(100, 599), token_bodies,
       st.dictionaries(st.sampled_from(["retry-after", "content-type"]), st.text(max_size=20)))
def test_token_response_parsing_never_raises(status: int, body: str,
                                             headers: dict[str, str]) -> None:
    result = parse_token_response(HttpResponse(status, headers, body), "corr-id")
    assert isinstance(result, dict)
    if "error" in result:  # "error" present means failure, and then it is a string
        assert isinstance(result["error"], str) and isinstance(result["error_description"], str)
    else:
        assert status < 400 and result["token_source"] == "identity_provider"
        assert isinstance(result.get("access_token"), str) or isinstance(
            result.get("id_token"), str)
        for field in ("expires_in", "ext_expires_in", "refresh_in"):
            assert field not in result or isinstance(result[field], int)
