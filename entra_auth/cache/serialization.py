"""Text form of the MSAL unified token cache: byte-identical to msal's ``json.dumps(indent=4)``.

The standard library only uses its C encoder when ``indent`` is None, so MSAL's pretty printing
runs in pure Python. Here each flat entry is encoded by the C encoder with separators that
reproduce the indented layout; anything nested falls back to ``json.dumps(indent=4)``.
"""

from __future__ import annotations

import json
from typing import Any

from .store import load_sections

__all__ = ["dumps", "loads"]

_FLAT_TYPES = (str, int, float, bool, type(None))
_ENTRY_INDENT = " " * 8
_FIELD_INDENT = " " * 12
# Item separator of a flat entry at depth 3: a newline plus that depth's indentation.
_entry_encoder = json.JSONEncoder(separators=(",\n" + _FIELD_INDENT, ": "))
_encode_string = json.JSONEncoder().encode


def _reindented(value: Any, prefix: str) -> str:
    # json never emits a raw newline inside a string, so each "\n" is a layout break.
    return json.dumps(value, indent=4).replace("\n", "\n" + prefix)


def _encode_entry(entry: Any) -> str:
    if not isinstance(entry, dict) or not entry:
        return _reindented(entry, _ENTRY_INDENT)
    for value in entry.values():
        if not isinstance(value, _FLAT_TYPES):
            return _reindented(entry, _ENTRY_INDENT)
    # {"a": 1,\n<indent>"b": 2} -> {\n<indent>"a": 1,\n<indent>"b": 2\n<outer>}
    compact = _entry_encoder.encode(entry)
    return "{\n" + _FIELD_INDENT + compact[1:-1] + "\n" + _ENTRY_INDENT + "}"


def dumps(sections: dict[str, Any]) -> str:
    """Encode the cache document exactly as ``json.dumps(sections, indent=4)`` would."""
    if not sections:
        return "{}"
    if not all(isinstance(name, str) for name in sections):
        return json.dumps(sections, indent=4)
    parts: list[str] = []
    for name, entries in sections.items():
        if (
            not isinstance(entries, dict)
            or not entries
            or not all(isinstance(key, str) for key in entries)
        ):
            parts.append("    " + _encode_string(name) + ": " + _reindented(entries, "    "))
            continue
        body = ",\n".join(
            _ENTRY_INDENT + _encode_string(key) + ": " + _encode_entry(entry)
            for key, entry in entries.items()
        )
        parts.append("    " + _encode_string(name) + ": {\n" + body + "\n    }")
    return "{\n" + ",\n".join(parts) + "\n}"


def loads(state: str | bytes | bytearray | None) -> dict[str, Any]:
    """Decode and check a serialized cache; an empty or None state is an empty cache.

    Raises:
        ValueError: not JSON, or not shaped like the unified schema. The message says where,
            never what the text contained.
        TypeError: ``state`` is not text.
    """
    if not state:
        return {}
    if not isinstance(state, (str, bytes, bytearray)):
        raise TypeError(f"token cache state must be str or bytes, not {type(state).__name__}")
    # Errors are raised outside the except blocks: the decoder's exception holds the whole
    # text (tokens included), and it must not ride along as __context__ into logs.
    problem = None
    try:
        document = json.loads(state)
    except json.JSONDecodeError as exc:
        problem = f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    except UnicodeDecodeError:
        problem = "is not valid UTF-8 text"
    if problem is not None:
        raise ValueError(f"token cache state {problem}")
    return load_sections(document)
