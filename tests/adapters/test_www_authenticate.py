"""WWW-Authenticate parsing and claims-challenge decoding (protocol/www_authenticate.py)."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from property.budget import examples

from entra_auth.protocol.www_authenticate import (
    Challenge,
    MalformedChallengeError,
    decode_claims,
    find_claims_challenge,
    parse_challenges,
)

CLAIMS_JSON = '{"access_token":{"nbf":{"essential":true, "value":"1604106651"}}}'
CLAIMS_B64 = (
    "eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwgInZhbHVlIjoiMTYwNDEwNjY1MSJ9fX0="
)

# Microsoft Graph's CAE challenge, as recorded in entra-wire-facts.md.
GRAPH_CAE = (
    'Bearer realm="", '
    'authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
    'client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", '
    'claims="eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwgInZhbHVlIjoiMTYwNDEwNjY1MSJ9fX0="'
)
# Graph's plain 401 without a token (no claims): not a claims challenge.
GRAPH_UNAUTHENTICATED = (
    'Bearer realm="", '
    'authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
    'client_id="00000003-0000-0000-c000-000000000000"'
)
# Azure Resource Manager's session-revocation challenge uses error="invalid_token".
ARM_CAE = (
    'Bearer authorization_uri="https://login.windows.net/", error="invalid_token", '
    'error_description="User session has been revoked", '
    'claims="eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwgInZhbHVlIjoiMTYwMzc0MjgwMCJ9fX0="'
)
# Key Vault's discovery challenge.
KEY_VAULT = 'Bearer authorization="https://login.windows.net/72f988bf", resource="https://vault.azure.net"'


def test_graph_cae_sample() -> None:
    (challenge,) = parse_challenges(GRAPH_CAE)
    assert challenge.scheme == "bearer"
    assert challenge.params["realm"] == ""
    assert challenge.params["client_id"] == "00000003-0000-0000-c000-000000000000"
    found = find_claims_challenge(GRAPH_CAE)
    assert found is not None
    assert found.error == "insufficient_claims"
    assert json.loads(found.claims) == json.loads(CLAIMS_JSON)


def test_arm_cae_sample() -> None:
    found = find_claims_challenge(ARM_CAE)
    assert found is not None
    assert found.error == "invalid_token"
    assert found.error_description == "User session has been revoked"
    assert json.loads(found.claims)["access_token"]["nbf"]["value"] == "1603742800"


def test_non_claims_bearer_samples_are_not_challenges() -> None:
    assert find_claims_challenge(GRAPH_UNAUTHENTICATED) is None
    assert find_claims_challenge(KEY_VAULT) is None
    assert parse_challenges(KEY_VAULT)[0].params["resource"] == "https://vault.azure.net"


def test_multiple_challenges_in_one_header() -> None:
    header = f'Basic realm="x, y", PoP nonce="abc=", {GRAPH_CAE}'
    challenges = parse_challenges(header)
    assert [c.scheme for c in challenges] == ["basic", "pop", "bearer"]
    assert challenges[0].params == {"realm": "x, y"}
    assert challenges[1].params == {"nonce": "abc="}
    assert find_claims_challenge(header) is not None


def test_repeated_header_lines() -> None:
    found = find_claims_challenge(['Basic realm="api"', GRAPH_CAE])
    assert found is not None and found.error == "insufficient_claims"


def test_unquoted_values() -> None:
    header = (
        "Bearer authorization_uri=https://login.microsoftonline.com/common/oauth2/authorize, "
        f"error=insufficient_claims, claims={CLAIMS_B64}"
    )
    (challenge,) = parse_challenges(header)
    assert challenge.params["authorization_uri"].startswith("https://login.microsoftonline.com/")
    assert challenge.params["claims"] == CLAIMS_B64
    found = find_claims_challenge(header)
    assert found is not None and json.loads(found.claims) == json.loads(CLAIMS_JSON)


def test_lowercase_scheme_and_param_names() -> None:
    header = f'bearer ERROR="insufficient_claims", Claims="{CLAIMS_B64}"'
    found = find_claims_challenge(header)
    assert found is not None
    assert found.params["error"] == "insufficient_claims"


def test_separators_and_escaped_quotes_inside_quoted_values() -> None:
    header = r'Bearer realm="a=b, c", error_description="say \"hi\", then = go", error="x"'
    (challenge,) = parse_challenges(header)
    assert challenge.params == {
        "realm": "a=b, c",
        "error_description": 'say "hi", then = go',
        "error": "x",
    }


def test_missing_spaces_after_commas() -> None:
    header = f'Basic realm="r",Bearer realm="",error="insufficient_claims",claims="{CLAIMS_B64}"'
    challenges = parse_challenges(header)
    assert [c.scheme for c in challenges] == ["basic", "bearer"]
    assert find_claims_challenge(header) is not None


def test_spaces_around_equals() -> None:
    (challenge,) = parse_challenges('Bearer error = "insufficient_claims" , realm= ""')
    assert challenge.params == {"error": "insufficient_claims", "realm": ""}


def test_token68_forms() -> None:
    assert parse_challenges("Negotiate YIIBhgYGKwYBBQUCoIIBejCC==") == [
        Challenge("negotiate", {}, "YIIBhgYGKwYBBQUCoIIBejCC==")
    ]
    assert parse_challenges("Negotiate abc=, Bearer") == [
        Challenge("negotiate", {}, "abc="),
        Challenge("bearer", {}, None),
    ]
    assert parse_challenges("Negotiate, NTLM") == [Challenge("negotiate"), Challenge("ntlm")]


@pytest.mark.parametrize(
    "header",
    [
        'Bearer error="insufficient_claims, claims=abc',  # unterminated quote
        'error="x"',  # parameter before any scheme
        '="x"',
        'Bearer realm=abc"def"',
    ],
)
def test_malformed_headers_raise_and_are_not_challenges(header: str) -> None:
    with pytest.raises(MalformedChallengeError):
        parse_challenges(header)
    assert find_claims_challenge(header) is None


@pytest.mark.parametrize(
    "header",
    [
        "",
        'Basic realm="insufficient_claims"',
        f'PoP error="insufficient_claims", claims="{CLAIMS_B64}"',
        f'Bearer error="invalid_request", claims="{CLAIMS_B64}"',
        'Bearer error="insufficient_claims"',
    ],
)
def test_not_a_claims_challenge(header: str) -> None:
    assert find_claims_challenge(header) is None
    assert find_claims_challenge(None) is None


def test_undecodable_claims_raise_value_error() -> None:
    with pytest.raises(ValueError):
        find_claims_challenge('Bearer error="insufficient_claims", claims="!!!not base64!!!"')
    with pytest.raises(ValueError):
        decode_claims(base64.b64encode(b"[1, 2]").decode())  # JSON, but not an object
    with pytest.raises(ValueError):
        decode_claims(base64.b64encode(b"not json").decode())
    with pytest.raises(ValueError):
        decode_claims(base64.b64encode(b"\xff\xfe{}").decode())


@examples
@given(st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4))
def test_decode_claims_accepts_every_base64_alphabet_and_padding(payload: dict[str, str]) -> None:
    text = json.dumps({"access_token": payload, "pad": "?>~"})
    raw = text.encode()
    for encoded in (
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    ):
        assert decode_claims(encoded) == text


def test_decode_claims_passes_raw_json_through() -> None:
    assert decode_claims(' {"a": 1}') == '{"a": 1}'


@examples
@given(st.text(alphabet=st.sampled_from(list('Bearer ,="\\abc=-_')), max_size=40))
def test_parser_never_raises_anything_but_malformed(header: str) -> None:
    try:
        challenges = parse_challenges(header)
    except MalformedChallengeError:
        challenges = []
    for challenge in challenges:
        assert challenge.scheme == challenge.scheme.lower() and challenge.scheme
        assert all(name == name.lower() and name for name in challenge.params)
    try:
        found = find_claims_challenge(header)
    except ValueError:
        found = None
    assert found is None or found.params.get("error") in {"insufficient_claims", "invalid_token"}
