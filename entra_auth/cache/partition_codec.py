"""Partitioning of MSAL cache entries for distributed caches (Redis): keys, fields, TTLs, scripts.

A partition is one Redis hash: per user (``home_account_id``), per app and tenant (app-only
access tokens), per on-behalf-of assertion hash, or per client (AppMetadata). Each hash field is
one MSAL entry; the ``__v`` field is a random version, changed by every write. Every key carries
a Redis Cluster hash tag; user and app partitions share theirs with an index set, kept by the
same atomic write, so listing them needs no SCAN.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from typing import Any

from .encryption import CacheEncryption
from .entry_store import EntryStore
from .schema import CredentialType, Entry
from .token_cache import TokenCache

__all__ = [
    "LIST_SCRIPT",
    "READ_SCRIPT",
    "USER_SHARDS",
    "VERSION_FIELD",
    "WRITE_SCRIPT",
    "PartitionCodec",
    "expired_fields",
]

VERSION_FIELD = "__v"

# Returns {} (no such key), {version} (unchanged since the caller's version) or
# {version, flat HGETALL}: one round trip, and no payload when nothing changed.
READ_SCRIPT = """
local v = redis.call('HGET', KEYS[1], '__v')
if not v then return {} end
if v == ARGV[1] then return {v} end
return {v, redis.call('HGETALL', KEYS[1])}
"""

# KEYS: the partition, then (user and app partitions) the index set sharing its hash tag.
# ARGV: new version, ttl in ms (0: keep), number of fields to set, field/value pairs, then
# fields to delete. Atomic, so concurrent writers to one partition never drop each other's
# entries, and the index lists exactly the partitions that exist (but for expired ones, which
# LIST_SCRIPT drops). The TTL only grows: a short-lived access token never cuts a refresh
# token's life. Returns the version the partition had before (false when it did not exist).
WRITE_SCRIPT = """
local key = KEYS[1]
local old = redis.call('HGET', key, '__v')
local nset = tonumber(ARGV[3])
local i = 4
for n = 1, nset do
  redis.call('HSET', key, ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i <= #ARGV do
  redis.call('HDEL', key, ARGV[i])
  i = i + 1
end
local left = redis.call('HLEN', key)
if left == 0 or (left == 1 and old) then
  redis.call('DEL', key)
  if KEYS[2] then redis.call('SREM', KEYS[2], key) end
  return old
end
redis.call('HSET', key, '__v', ARGV[1])
if KEYS[2] then redis.call('SADD', KEYS[2], key) end
local ttl = tonumber(ARGV[2])
local current = redis.call('PTTL', key)
if ttl > 0 and (current < 0 or current < ttl) then
  redis.call('PEXPIRE', key, ttl)
end
return old
"""

# KEYS: an index set. Returns the partitions it lists that still exist, and forgets the
# others (expired by TTL). They share the index's hash tag, so this stays in one slot.
LIST_SCRIPT = """
local live = {}
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', key) == 1 then
    live[#live + 1] = key
  else
    redis.call('SREM', KEYS[1], key)
  end
end
return live
"""

# User partitions are spread over this many hash tags (slots), each with its index set.
USER_SHARDS = 256
_KINDS = ("user", "app", "obo", "meta")


def _context(field: str) -> str:
    return "entra_auth.redis:" + field


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, (bytes, bytearray)) else str(value)


def _shard(home_account_id: str) -> int:
    digest = hashlib.sha256(home_account_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:2], "big") % USER_SHARDS


def _tag(value: str, lower: bool = True) -> str:
    # A brace inside would end the hash tag early; client ids and hashes never hold one.
    text = value.lower() if lower else value
    return text.replace("{", "(").replace("}", ")")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class PartitionCodec:
    """Maps entries and queries to partition keys and hash fields; encodes and decodes them.

    Args:
        prefix: the Redis key prefix.
        refresh_token_ttl: seconds a partition holding refresh tokens, ID tokens, accounts or
            app metadata lives after its last write.
        encryption: encrypts each entry's value (AES-GCM) when given.
    """

    def __init__(
        self,
        prefix: str,
        refresh_token_ttl: int,
        encryption: CacheEncryption | None = None,
    ) -> None:
        if "{" in prefix or "}" in prefix:
            # A brace would make the prefix the Redis Cluster hash tag of every key.
            raise ValueError("the Redis key prefix must not contain '{' or '}'")
        self.prefix = prefix.rstrip(":")
        self.refresh_token_ttl = refresh_token_ttl
        self.encryption = encryption
        self.key_makers = TokenCache().key_makers
        # decoded entries by raw value: a re-read partition parses only what changed
        self._decoded: dict[tuple[str, bytes | str], Entry] = {}

    # -- partition keys ---------------------------------------------------------------------
    # Each key has a hash tag ({...}): Redis Cluster keeps the keys of one tag in one slot, so
    # a partition and its index set are written by one script.

    def user_key(self, home_account_id: str) -> str:
        """The partition of an account's tokens, ID tokens and Account entries."""
        home = home_account_id.lower()
        return f"{self.prefix}:user:{{u{_shard(home):02x}}}:{home}"

    def user_indexes(self) -> list[str]:
        """The index sets listing the user partitions (one per shard)."""
        return [f"{self.prefix}:users:{{u{shard:02x}}}" for shard in range(USER_SHARDS)]

    def app_key(self, client_id: str, realm: str) -> str:
        """The partition of a client's app-only access tokens in one tenant."""
        return f"{self.prefix}:app:{{a:{_tag(client_id)}}}:{realm.lower()}"

    def app_index(self, client_id: str) -> str:
        """The index set listing a client's app partitions (one per tenant)."""
        return f"{self.prefix}:apps:{{a:{_tag(client_id)}}}"

    def obo_key(self, user_assertion_hash: str) -> str:
        """The partition of the tokens obtained on behalf of one incoming assertion."""
        return f"{self.prefix}:obo:{{{_tag(user_assertion_hash, lower=False)}}}"

    def metadata_key(self, client_id: str) -> str:
        """The partition of a client's AppMetadata entries (FOCI membership)."""
        return f"{self.prefix}:meta:{{m:{_tag(client_id)}}}"

    def index_of(self, key: str) -> str | None:
        """The index set a partition is listed in (user and app partitions), else None."""
        kind, _, rest = key[len(self.prefix) + 1:].partition(":")
        tag = rest[:rest.find("}") + 1]
        if kind == "user":
            return f"{self.prefix}:users:{tag}"
        if kind == "app":
            return f"{self.prefix}:apps:{tag}"
        return None

    def write_keys(self, key: str) -> list[str]:
        """KEYS for :data:`WRITE_SCRIPT`: the partition, and its index set if it has one."""
        index = self.index_of(key)
        return [key] if index is None else [key, index]

    def is_partition(self, key: str) -> bool:
        """Whether a key under the prefix is a partition (not an index set)."""
        kind = key[len(self.prefix) + 1:].partition(":")[0]
        return key.startswith(self.prefix + ":") and kind in _KINDS

    def pattern(self, kind: str) -> str:
        """A SCAN pattern for every partition of a kind (``user``, ``app``, ``obo``, ``meta``,
        or ``*``); only for queries no index answers."""
        return f"{self.prefix}:{kind}:*"

    def key_of_entry(self, section: str, entry: Mapping[str, Any]) -> str:
        """The partition an entry belongs to."""
        assertion = entry.get("user_assertion_hash")
        if assertion:
            return self.obo_key(str(assertion))
        if section == CredentialType.APP_METADATA:
            return self.metadata_key(str(entry.get("client_id") or ""))
        home = entry.get("home_account_id")
        if home:
            return self.user_key(str(home))
        return self.app_key(str(entry.get("client_id") or ""), str(entry.get("realm") or ""))

    def key_of_query(self, section: str, query: Mapping[str, Any]) -> str | None:
        """The one partition an MSAL ``search`` query can match, or None (scan them all)."""
        if query.get("user_assertion_hash"):
            return self.obo_key(str(query["user_assertion_hash"]))
        if section == CredentialType.APP_METADATA:
            client = query.get("client_id")
            return self.metadata_key(str(client)) if client else None
        if "home_account_id" not in query:
            return None
        home = query["home_account_id"]
        if isinstance(home, str) and home:
            return self.user_key(home)
        if section == CredentialType.ACCESS_TOKEN and not home:
            client, realm = query.get("client_id"), query.get("realm")
            if client and realm:
                return self.app_key(str(client), str(realm))
        return None

    # -- fields -----------------------------------------------------------------------------

    def field(self, section: str, entry: Mapping[str, Any]) -> str:
        """The hash field of an entry: its section and its MSAL cache key."""
        maker = self.key_makers.get(section)
        if maker is None:
            raise ValueError(f"unknown credential type {section!r}")
        return f"{section}:{maker(**entry)}"

    def encode(self, entry: Mapping[str, Any], field: str = "") -> bytes | str:
        """The stored value of an entry (compact JSON, encrypted when configured, bound to
        its hash ``field`` so that it can't be moved to another one)."""
        text = json.dumps(entry, separators=(",", ":"))
        if self.encryption is None:
            return text
        return self.encryption.encrypt(text.encode("utf-8"), context=_context(field))

    def decode(self, raw: bytes | str, source: str, field: str = "") -> Entry:
        """The entry of a stored value (parsed once per distinct field and value)."""
        memo = (field, raw)
        found = self._decoded.get(memo)
        if found is not None:
            return found
        data = raw
        if self.encryption is not None:
            if not isinstance(raw, bytes):
                raise ValueError("encrypted entries need decode_responses=False")
            data = self.encryption.decrypt(raw, source=source, context=_context(field))
        entry = json.loads(data)
        if not isinstance(entry, dict):
            raise ValueError("an entry is not a JSON object")
        if len(self._decoded) > 65536:
            self._decoded.clear()
        self._decoded[memo] = entry
        return entry

    def build_view(self, flat: list[Any], source: str) -> TokenCache:
        """An in-memory TokenCache of a partition's fields (a flat HGETALL reply)."""
        sections: dict[str, Any] = {}
        for i in range(0, len(flat) - 1, 2):
            name = _text(flat[i])
            if name == VERSION_FIELD:
                continue
            section, sep, key = name.partition(":")
            if not sep:
                continue
            entry = dict(self.decode(flat[i + 1], source, name))
            sections.setdefault(section, {})[key] = entry
        view = TokenCache()
        view._store = EntryStore(sections)
        return view

    @staticmethod
    def new_version() -> str:
        """A fresh random partition version."""
        return secrets.token_hex(8)

    def ttl_ms(self, section: str, entry: Mapping[str, Any], now: int) -> int:
        """How long (ms) an entry needs its partition to live: token expiry, or the RT TTL."""
        if section == CredentialType.ACCESS_TOKEN:
            ends = [
                v for v in (_int(entry.get("expires_on")), _int(entry.get("extended_expires_on")))
                if v is not None
            ]
            if ends:
                return max(1, max(ends) - now) * 1000
        return self.refresh_token_ttl * 1000

    def write_args(
        self, version: str, ttl_ms: int, sets: Mapping[str, bytes | str], deletes: list[str]
    ) -> list[Any]:
        """ARGV for :data:`WRITE_SCRIPT`."""
        args: list[Any] = [version, ttl_ms, len(sets)]
        for name, value in sets.items():
            args += [name, value]
        return args + deletes


def expired_fields(view: TokenCache, now: int) -> list[str]:
    """Hash fields of access tokens in ``view`` that expired at ``now``."""
    section = view._store.section(CredentialType.ACCESS_TOKEN)
    found = []
    for key, entry in section.items():
        ends = _int(entry.get("expires_on"))
        if ends is not None and ends < now:
            found.append(f"{CredentialType.ACCESS_TOKEN}:{key}")
    return found
