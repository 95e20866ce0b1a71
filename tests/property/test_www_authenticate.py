"""WWW-Authenticate parsing: any text parses or raises MalformedChallengeError; rendered
challenges parse back to what was rendered; claims in any base64 spelling decode."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from entra_auth.protocol.www_authenticate import (
    Challenge,
    ClaimsChallenge,
    MalformedChallengeError,
    find_claims_challenge,
    parse_challenges,
)

from .budget import examples
from .strategies import base64_of, hostile_text, json_objects

TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+.^_`|~-"
tokens = st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=12)
quotable = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@examples
@given(hostile_text)
def test_any_text_parses_or_is_malformed(header: str) -> None:
    try:
        challenges = parse_challenges(header)
    except MalformedChallengeError:
        challenges = None
    if challenges is not None:
        assert all(isinstance(c, Challenge) and c.scheme == c.scheme.lower() for c in challenges)
    try:
        found = find_claims_challenge(header)
    except ValueError:  # a claims challenge whose claims can't be decoded
        return
    assert found is None or isinstance(found, ClaimsChallenge)


@st.composite
def rendered_challenges(draw: st.DrawFn) -> tuple[str, list[tuple[str, dict[str, str]]]]:
    parsed: list[tuple[str, dict[str, str]]] = []
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        scheme = draw(tokens)
        names = draw(st.lists(tokens.map(str.lower), min_size=1, max_size=4, unique=True))
        params: dict[str, str] = {}
        rendered = []
        for name in names:
            shown = draw(st.sampled_from([name, name.upper(), name.title()]))
            if draw(st.booleans()):
                value = draw(quotable)
                escaped = value.replace("\\", "\\\\").replace('"', '\\"')
                text = f'"{escaped}"'
            else:
                # A token, then possibly '=' padding, '/' and ':' (base64, URLs), as servers
                # send; a value can't start with '=' ("a==" is token68 padding).
                value = draw(tokens) + draw(st.text(alphabet=TOKEN_CHARS + "=/:", max_size=20))
                text = value
            params[name] = value
            eq = draw(st.sampled_from(["=", " = ", "= "]))
            rendered.append(f"{shown}{eq}{text}")
        sep = draw(st.sampled_from([",", ", ", " ,  ", ",\t"]))
        scheme_shown = draw(st.sampled_from([scheme, scheme.lower(), scheme.upper()]))
        parts.append(f"{scheme_shown} " + sep.join(rendered))
        parsed.append((scheme.lower(), params))
    return draw(st.sampled_from([", ", ",", " , "])).join(parts), parsed


@examples
@given(rendered_challenges())
def test_rendered_challenges_round_trip(case: tuple[str, list[tuple[str, dict[str, str]]]]
                                        ) -> None:
    header, expected = case
    challenges = parse_challenges(header)
    assert [(c.scheme, dict(c.params)) for c in challenges] == expected


@examples
@given(st.data(), json_objects, st.sampled_from(["insufficient_claims", "invalid_token"]),
       st.lists(st.sampled_from(['Basic realm="x"', 'PoP nonce="n"', "Negotiate abc="]),
                max_size=2))
def test_claims_in_any_base64_spelling_decode(data: st.DataObject, claims: dict[str, object],
                                              error: str, others: list[str]) -> None:
    encoded = data.draw(base64_of(json.dumps(claims).encode()))
    bearer = (f'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/'
              f'oauth2/authorize", error="{error}", claims="{encoded}"')
    header = ", ".join([*others, bearer])
    found = find_claims_challenge(header)
    assert found is not None and found.error == error
    assert json.loads(found.claims) == claims
