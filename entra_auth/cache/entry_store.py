"""In-memory store for the MSAL unified cache: the serialized sections plus secondary indexes.

The sections dict is exactly what ``serialize()`` writes (MSAL unified schema); the indexes map
normalized field values (lowercased) to entry keys so lookups by account, client or on-behalf-of
assertion hash cost O(1) in the number of cached users. Not thread-safe: the cache locks around it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from sys import intern
from typing import Any

from .schema import CredentialType, Entry, scope_set

__all__ = ["EntryStore", "load_sections"]

_UNHASHABLE = object()  # bucket for list/dict field values; the exact filter sorts them out

# Indexed fields per section, most selective first. search() uses the first index whose fields
# its query names; an entry lacking one of an index's fields is not in that index (such an entry
# can never equal a query that names the field, so the index stays exact).
INDEX_FIELDS: dict[str, tuple[tuple[str, ...], ...]] = {
    CredentialType.ACCESS_TOKEN: (
        ("home_account_id", "client_id", "realm"),
        ("user_assertion_hash",),
        ("home_account_id",),
    ),
    CredentialType.REFRESH_TOKEN: (("user_assertion_hash",), ("home_account_id",)),
    CredentialType.ID_TOKEN: (("home_account_id",),),
    CredentialType.ACCOUNT: (("home_account_id",), ("username",)),
    CredentialType.APP_METADATA: (("client_id",),),
}
KNOWN_SECTIONS = tuple(INDEX_FIELDS)

# A bucket holds one key as a bare string (the common case: one entry per user) or several in
# an insertion-ordered dict; this keeps the indexes small at 100k users.
Bucket = str | dict[str, None]


def _folded(value: str) -> str:
    # Reuse the entry's own string when it is lowercase already (ids and hosts usually are):
    # a fresh copy per index would cost ~1 KB per cached user.
    low = value.lower()
    return value if low == value else low


def norm(value: Any) -> Any:
    """Index form of a field value: case-folded strings; None and "" share a bucket."""
    if isinstance(value, str):
        return _folded(value)
    if value is None:
        return ""
    try:
        hash(value)
    except TypeError:
        return _UNHASHABLE
    return value


_ABSENT = object()
_MAX_SHARED_SCOPE_SETS = 4096
# Fields with few distinct values across entries (hosts, clients, tenants, types, scopes):
# entries share one string object per value. Saves memory, and a silent hit at 100k users reads
# these fields from warm memory instead of one cold object per entry.
_SHARED_FIELDS = (
    "environment", "client_id", "realm", "credential_type", "token_type", "target",
    "authority_type",
)


class _Index:
    __slots__ = ("buckets", "field", "fields")

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.fields = fields
        self.field = fields[0] if len(fields) == 1 else None
        self.buckets: dict[Any, Bucket] = {}

    def index_key(self, entry: Mapping[str, Any]) -> Any:
        """The bucket key of an entry, or None when the entry lacks an indexed field."""
        # Runs for every entry on deserialize, hence the inlined str fast path of norm().
        if self.field is not None:
            value = entry.get(self.field, _ABSENT)
            if value is _ABSENT:
                return None
            return _folded(value) if type(value) is str else norm(value)
        values = []
        for field in self.fields:
            value = entry.get(field, _ABSENT)
            if value is _ABSENT:
                return None
            values.append(_folded(value) if type(value) is str else norm(value))
        return tuple(values)

    def add(self, index_key: Any, key: str) -> None:
        bucket = self.buckets.get(index_key)
        if bucket is None:
            self.buckets[index_key] = key
        elif isinstance(bucket, str):
            if bucket != key:
                self.buckets[index_key] = {bucket: None, key: None}
        else:
            bucket[key] = None

    def discard(self, index_key: Any, key: str) -> None:
        bucket = self.buckets.get(index_key)
        if bucket is None:
            return
        if isinstance(bucket, str):
            if bucket == key:
                del self.buckets[index_key]
            return
        bucket.pop(key, None)
        if len(bucket) == 1:
            self.buckets[index_key] = next(iter(bucket))
        elif not bucket:
            del self.buckets[index_key]

    def keys(self, index_key: Any) -> tuple[str, ...]:
        bucket = self.buckets.get(index_key)
        if bucket is None:
            return ()
        if isinstance(bucket, str):
            return (bucket,)
        return tuple(bucket)


def load_sections(state: Any) -> dict[str, Any]:
    """Check a decoded cache document and return it; raise ValueError naming what is wrong.

    Known sections must be objects of objects. Unknown top-level keys are kept as they are.
    Messages name the section and never include entry contents.
    """
    if not isinstance(state, dict):
        raise ValueError(
            f"token cache state must be a JSON object, not {_json_type(state)}"
        )
    for section in KNOWN_SECTIONS:
        if section not in state:
            continue
        entries = state[section]
        if not isinstance(entries, dict):
            raise ValueError(
                f"token cache section {section!r} must be a JSON object, "
                f"not {_json_type(entries)}"
            )
        for position, entry in enumerate(entries.values()):
            if not isinstance(entry, dict):
                raise ValueError(
                    f"token cache section {section!r}: entry #{position + 1} must be a "
                    f"JSON object, not {_json_type(entry)}"
                )
    return state


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


class EntryStore:
    """The cache's sections (MSAL's serialized shape) and their indexes.

    ``sections`` is the document ``serialize()`` writes: entries keep their insertion order and
    fields, unknown sections and fields are carried as they are.
    """

    def __init__(self, sections: dict[str, Any] | None = None) -> None:
        self.sections: dict[str, Any] = {} if sections is None else sections
        self._indexes: dict[str, tuple[_Index, ...]] = {
            section: tuple(_Index(fields) for fields in specs)
            for section, specs in INDEX_FIELDS.items()
        }
        # find_access_token's index: (home_account_id, client_id, realm) -> keys.
        self._at_by_account = self._indexes[CredentialType.ACCESS_TOKEN][0]
        # Lowercased scope sets by target string (see scopes_of).
        self._scope_sets: dict[str, frozenset[str]] = {}
        # Indexes are built on first use, not on load: a cache loaded to be changed and
        # written back (a FileTokenCache write) never pays for them, and deserialize() costs
        # little more than json.loads. Until then put/pop leave the indexes alone.
        self._pending = any(self.sections.get(section) for section in KNOWN_SECTIONS)

    def _build_indexes(self) -> None:
        self._pending = False
        for section in KNOWN_SECTIONS:
            entries = self.sections.get(section)
            if entries:
                indexes = self._indexes[section]
                for key, entry in entries.items():
                    self._index(section, indexes, key, entry)

    @property
    def at_by_account(self) -> _Index:
        """The AccessToken index on (home_account_id, client_id, realm)."""
        if self._pending:
            self._build_indexes()
        return self._at_by_account

    def _index(
        self, section: str, indexes: tuple[_Index, ...], key: str, entry: Entry
    ) -> None:
        self._share_values(entry)
        for index in indexes:
            index_key = index.index_key(entry)
            if index_key is not None:
                index.add(index_key, key)
        if section == CredentialType.ACCESS_TOKEN:
            self.scopes_of(entry.get("target"))  # parse it now, not on the first lookup

    @staticmethod
    def _share_values(entry: Entry) -> None:
        # Replaces a value by an equal str: the entry's content (and serialize()) is unchanged.
        # Interned strings are freed with their last user, so odd values cost nothing lasting.
        for field in _SHARED_FIELDS:
            value = entry.get(field)
            if type(value) is str:
                entry[field] = intern(value)

    def scopes_of(self, target: Any) -> frozenset[str]:
        """The lowercased scopes of an entry's ``target``, so a superset test needs no string
        work: tokens share a handful of targets, and their parsed sets are kept by target."""
        if not isinstance(target, str):
            return frozenset()
        found = self._scope_sets.get(target)
        if found is None:
            found = scope_set(target)
            if len(self._scope_sets) < _MAX_SHARED_SCOPE_SETS:
                self._scope_sets[target] = found
        return found

    def section(self, section: str) -> dict[str, Entry]:
        """The entries of a known section (empty when absent)."""
        entries = self.sections.get(section)
        return entries if isinstance(entries, dict) else {}

    def ensure_section(self, section: str) -> dict[str, Entry]:
        """The entries of a section, creating it (at the end of the document) when absent."""
        entries = self.sections.get(section)
        if not isinstance(entries, dict):
            entries = self.sections[section] = {}
        return entries

    def get(self, section: str, key: str) -> Entry | None:
        return self.section(section).get(key)

    def put(self, section: str, key: str, entry: Entry) -> None:
        """Store ``entry`` under ``key``, replacing (in place, same position) any previous one."""
        entries = self.ensure_section(section)
        old = entries.get(key)
        entries[key] = entry
        indexes = self._indexes.get(section)
        if indexes is None or self._pending:
            return
        if old is None:
            self._index(section, indexes, key, entry)
            return
        self._share_values(entry)
        for index in indexes:
            old_key = index.index_key(old)
            new_key = index.index_key(entry)
            if old_key != new_key:  # unchanged buckets keep their order
                if old_key is not None:
                    index.discard(old_key, key)
                if new_key is not None:
                    index.add(new_key, key)
        if section == CredentialType.ACCESS_TOKEN:
            self.scopes_of(entry.get("target"))

    def pop(self, section: str, key: str) -> Entry | None:
        """Remove and return the entry under ``key`` (None when absent)."""
        entries = self.sections.get(section)
        if not isinstance(entries, dict):
            return None
        old: Entry | None = entries.pop(key, None)
        if old is None or self._pending:
            return old
        for index in self._indexes.get(section, ()):
            index_key = index.index_key(old)
            if index_key is not None:
                index.discard(index_key, key)
        return old

    def lookup(self, section: str, fields: tuple[str, ...], values: tuple[Any, ...]) -> Iterator[
        tuple[str, Entry]
    ]:
        """Entries whose indexed ``fields`` equal ``values`` case-insensitively (a superset of
        exact matches; callers filter). ``fields`` must be one of the section's indexes."""
        if self._pending:
            self._build_indexes()
        index = self._index_for(section, fields)
        index_key = norm(values[0]) if len(fields) == 1 else tuple(norm(v) for v in values)
        entries = self.section(section)
        for key in index.keys(index_key):
            entry = entries.get(key)
            if entry is not None:
                yield key, entry

    def candidates(self, section: str, query: Mapping[str, Any]) -> list[str] | None:
        """Keys that may match ``query`` via the best fitting index; None when none fits."""
        if self._pending:
            self._build_indexes()
        for index in self._indexes.get(section, ()):
            if all(field in query for field in index.fields):
                values = tuple(query[field] for field in index.fields)
                index_key = (
                    norm(values[0]) if len(values) == 1 else tuple(norm(v) for v in values)
                )
                return list(index.keys(index_key))
        return None

    def _index_for(self, section: str, fields: tuple[str, ...]) -> _Index:
        for index in self._indexes[section]:
            if index.fields == fields:
                return index
        raise LookupError(f"no index on {fields} in section {section}")
