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

from .entry_store import load_sections

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


# Encoded entries from an earlier dumps(): (section, key) -> (copy of the entry, its text).
Memo = dict[tuple[str, str], tuple[dict[str, Any], str]]


def _encode_section(
    entries: dict[str, Any], out: list[str], name: str = "",
    memo: Memo | None = None, new_memo: Memo | None = None,
) -> None:
    # Pieces go straight into one list joined once: at 10k users the text is ~30 MB, and
    # every intermediate join would copy all of it again.
    encode_flat = _encode_flat
    flat_types = _FLAT_TYPES
    separator = ""
    for key, entry in entries.items():
        if new_memo is not None and memo:
            known = memo.get((name, key))
            # A dict comparison is far cheaper than encoding; the memo keeps a copy, so an
            # entry changed in place is not mistaken for the one encoded.
            if known is not None and known[0] == entry:
                out.append(separator)
                out.append(known[1])
                new_memo[(name, key)] = known
                separator = ",\n"
                continue
        if type(entry) is dict and entry and flat_types.issuperset(map(type, entry.values())):
            # compact {"a": 1,\n<12>"b": 2} becomes {\n<12>"a": 1,\n<12>"b": 2\n<8>}
            chunk = (f"{_ENTRY_INDENT}{_encode_string(key)}: {{\n{_FIELD_INDENT}"
                     f"{encode_flat(entry)[1:-1]}{_ENTRY_CLOSE}")
            if new_memo is not None:
                new_memo[(name, key)] = (dict(entry), chunk)
            out.append(separator)
            out.append(chunk)
        else:
            out.append(f"{separator}{_ENTRY_INDENT}{_encode_string(key)}: ")
            out.append(_reindented(entry, _ENTRY_INDENT))
        separator = ",\n"


def dumps(sections: dict[str, Any], memo: Memo | None = None) -> str:
    """Encode the cache document exactly as ``json.dumps(sections, indent=4)`` would.

    With ``memo`` (a dict, empty at first), entries equal to ones encoded by the previous call
    reuse their text, and ``memo`` is replaced by this call's entries: a cache written again
    and again with few changes (FileTokenCache) encodes only what changed.
    """
    if not sections:
        return "{}"
    if not all(isinstance(name, str) for name in sections):
        return json.dumps(sections, indent=4)
    new_memo: Memo | None = {} if memo is not None else None
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
            _encode_section(entries, out, name, memo, new_memo)
            out.append("\n    }")
        separator = ",\n"
    out.append("\n}")
    if memo is not None and new_memo is not None:
        memo.clear()
        memo.update(new_memo)
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
