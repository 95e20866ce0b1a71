"""Text form of the MSAL unified token cache: byte-identical to msal's ``json.dumps(indent=4)``.

The standard library only uses its C encoder when ``indent`` is None, so MSAL's pretty printing
runs in pure Python. Here each flat entry is encoded by the C encoder with separators that
reproduce the indented layout; anything nested falls back to ``json.dumps(indent=4)``.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from typing import Any

from .store import load_sections

__all__ = ["dumps", "loads"]

_ENTRY_INDENT = " " * 8
_FIELD_INDENT = " " * 12
_ENTRY_CLOSE = "\n" + _ENTRY_INDENT + "}"
_FLAT_TYPES = frozenset({str, int, float, bool, type(None)})
_encode_string = json.encoder.encode_basestring_ascii


def _unserializable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _make_flat_encoder() -> Callable[[Any], str]:
    """Compact encoder whose item separator is a newline plus the field indentation."""
    separators = (",\n" + _FIELD_INDENT, ": ")
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return json.JSONEncoder(separators=separators).encode
    # JSONEncoder.encode() builds a new C encoder per call; at 10k users that setup costs more
    # than the encoding, so build it once, with the arguments encode() would pass.
    chunks_of = make(
        None, _unserializable, _encode_string, None, separators[1], separators[0],
        False, False, True,
    )
    return lambda entry: "".join(chunks_of(entry, 0))


_encode_flat = _make_flat_encoder()


def _reindented(value: Any, prefix: str) -> str:
    # json never emits a raw newline inside a string, so each "\n" is a layout break.
    return json.dumps(value, indent=4).replace("\n", "\n" + prefix)


def _encode_section(entries: dict[str, Any], out: list[str]) -> None:
    # Pieces go straight into one list joined once: at 10k users the text is ~30 MB, and
    # every intermediate join would copy all of it again.
    encode_flat = _encode_flat
    flat_types = _FLAT_TYPES
    separator = ""
    for key, entry in entries.items():
        if type(entry) is dict and entry and flat_types.issuperset(map(type, entry.values())):
            # compact {"a": 1,\n<12>"b": 2} becomes {\n<12>"a": 1,\n<12>"b": 2\n<8>}
            out.append(f"{separator}{_ENTRY_INDENT}{_encode_string(key)}: {{\n{_FIELD_INDENT}")
            out.append(encode_flat(entry)[1:-1])
            out.append(_ENTRY_CLOSE)
        else:
            out.append(f"{separator}{_ENTRY_INDENT}{_encode_string(key)}: ")
            out.append(_reindented(entry, _ENTRY_INDENT))
        separator = ",\n"


def dumps(sections: dict[str, Any]) -> str:
    """Encode the cache document exactly as ``json.dumps(sections, indent=4)`` would."""
    if not sections:
        return "{}"
    if not all(isinstance(name, str) for name in sections):
        return json.dumps(sections, indent=4)
    out = ["{\n"]
    separator = ""
    for name, entries in sections.items():
        out.append(f"{separator}    {_encode_string(name)}: ")
        if (
            not isinstance(entries, dict)
            or not entries
            or not all(isinstance(key, str) for key in entries)
        ):
            out.append(_reindented(entries, "    "))
        else:
            out.append("{\n")
            _encode_section(entries, out)
            out.append("\n    }")
        separator = ",\n"
    out.append("\n}")
    return "".join(out)


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
    except RecursionError:
        problem = "is nested too deeply to be a token cache"
    if problem is not None:
        raise ValueError(f"token cache state {problem}")
    return load_sections(document)
