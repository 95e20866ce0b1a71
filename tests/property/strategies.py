"""Shared hypothesis strategies: JSON values, hostile text, base64 variants."""

from __future__ import annotations

import base64
import json

from hypothesis import strategies as st

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=12), json_values, max_size=5)

# Text likely to trip a hand-written parser: separators, quotes, escapes, padding, unicode.
hostile_text = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=st.sampled_from(list(' \t,="\\=aBbeErR0/+-_;:\x00\u00e9\u202e{}[]')),
            max_size=80),
    st.integers(min_value=1, max_value=50_000).map(lambda n: "[" * n),  # deep nesting
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "9" * 5000, "{}", "[]", "null",
                     '{"a":', "\ufeff{}", "\ud800"]),
)


@st.composite
def base64_of(draw: st.DrawFn, data: bytes) -> str:
    """``data`` in standard or url-safe base64, padded or not."""
    urlsafe = draw(st.booleans())
    text = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(data).decode()
    return text if draw(st.booleans()) else text.rstrip("=")


def dumps(value: object) -> str:
    return json.dumps(value)
