"""Encryption at rest for persistent token caches: AES-256-GCM (``cryptography``, imported lazily).

Blob layout: ``b"EACACHE"``, a version byte, a 4-byte key check, a 12-byte nonce, then the
AES-GCM ciphertext and tag. The key check (the start of SHA-256 of the key) lets a wrong key be
told apart from a damaged file. Version 2 authenticates the header *and* a context (the cache
file's path, a Redis entry's key, or a caller-given purpose), so a blob copied to another file
or purpose does not decrypt; version 1 (header only) is read only with ``accept_unbound=True``.
Restoring an older blob to the same place (rollback) is not detected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib
import os
import secrets
from typing import Any

from ..errors import CacheError

__all__ = ["DEFAULT_KEY_ENV", "CacheEncryption", "encode_key", "generate_key", "is_encrypted"]

MAGIC = b"EACACHE"
VERSION = 2
UNBOUND_VERSION = 1  # before contexts: only the header was authenticated
_HEADER = len(MAGIC) + 1 + 4
_NONCE = 12
DEFAULT_KEY_ENV = "ENTRA_AUTH_CACHE_KEY"
_KEYRING_SERVICE = "entra_auth"
_KEYRING_ACCOUNT = "token-cache-key"


def generate_key() -> bytes:
    """Return a new random 32-byte AES-256 key."""
    return secrets.token_bytes(32)


def is_encrypted(blob: bytes) -> bool:
    """Whether ``blob`` starts like a blob :class:`CacheEncryption` wrote."""
    return blob.startswith(MAGIC)


def _decode_key(text: str, source: str) -> bytes:
    text = text.strip()
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise CacheError("cache_key_invalid", f"the key in {source} is not base64") from None
    if len(key) not in (16, 24, 32):
        raise CacheError(
            "cache_key_invalid",
            f"the key in {source} decodes to {len(key)} bytes; AES needs 16, 24 or 32",
        )
    return key


def encode_key(key: bytes) -> str:
    """Return ``key`` as the base64url text the environment variable and keyring hold."""
    return base64.urlsafe_b64encode(key).decode("ascii").rstrip("=")


def _context_bytes(context: str | bytes | None) -> bytes:
    if context is None:
        return b""
    return context.encode("utf-8") if isinstance(context, str) else bytes(context)


class CacheEncryption:
    """AES-GCM encryption of a cache's text, with the key from the caller, env, or OS keyring.

    Each blob is bound to a context as associated data: by default the one the cache passes
    (a :class:`~entra_auth.FileTokenCache`'s resolved path, a Redis entry's field), so a blob
    copied from another file, user or application sharing the key does not decrypt.

    Args:
        key: 16, 24 or 32 raw bytes (32 recommended; see :func:`generate_key`).
        context: A fixed purpose to bind blobs to instead of the cache's own (e.g.
            ``"my-app/token-cache"``), for a file that must stay readable after a move.
        accept_unbound: Also decrypt version-1 blobs (written before blobs were bound to a
            context), to migrate a cache: the next write binds it. Off by default, as such a
            blob can be swapped in from anywhere.

    Raises:
        ValueError: the key has the wrong length.
    """

    def __init__(self, key: bytes, *, context: str | bytes | None = None,
                 accept_unbound: bool = False) -> None:
        if not isinstance(key, (bytes, bytearray)) or len(key) not in (16, 24, 32):
            raise ValueError("an AES key must be 16, 24 or 32 bytes")
        self._key = bytes(key)
        self._check = hashlib.sha256(self._key).digest()[:4]
        self._aead: Any = None
        self.context = None if context is None else _context_bytes(context)
        self.accept_unbound = accept_unbound

    def _associated(self, header: bytes, context: str | bytes | None) -> bytes:
        bound = self.context if self.context is not None else _context_bytes(context)
        return header + len(bound).to_bytes(4, "big") + bound

    def __repr__(self) -> str:  # never show the key
        return f"CacheEncryption(key_check={self._check.hex()})"

    @classmethod
    def from_env(cls, variable: str = DEFAULT_KEY_ENV, *,
                 context: str | bytes | None = None) -> CacheEncryption:
        """Use the base64url key in an environment variable (``context`` as for the class).

        Raises:
            CacheError: the variable is unset or does not hold a valid key.
        """
        text = os.environ.get(variable)
        if not text:
            raise CacheError("cache_key_missing", f"the environment variable {variable} is not set")
        return cls(_decode_key(text, f"${variable}"), context=context)

    @classmethod
    def from_keyring(
        cls,
        service: str = _KEYRING_SERVICE,
        account: str = _KEYRING_ACCOUNT,
        *,
        create: bool = True,
        context: str | bytes | None = None,
    ) -> CacheEncryption:
        """Use a key kept in the OS keyring (the optional ``keyring`` package).

        Args:
            service: the keyring service name.
            account: the keyring user name the key is stored under.
            create: generate and store a key when there is none yet.
            context: as for the class.

        Raises:
            CacheError: ``keyring`` is not installed, no keyring backend works, or there is
                no key and ``create`` is False.
        """
        try:  # optional, and untyped: imported by name so it stays out of mypy's way
            keyring: Any = importlib.import_module("keyring")
            keyring_errors: Any = importlib.import_module("keyring.errors")
        except ImportError:
            raise CacheError(
                "cache_keyring_unavailable",
                "the keyring package is not installed; pass a key or use from_env()",
            ) from None
        try:
            text = keyring.get_password(service, account)
            if text is None:
                if not create:
                    raise CacheError(
                        "cache_key_missing", f"no key in the OS keyring for {service}/{account}"
                    )
                key = generate_key()
                keyring.set_password(service, account, encode_key(key))
                return cls(key, context=context)
        except keyring_errors.KeyringError as exc:
            raise CacheError(
                "cache_keyring_unavailable", f"the OS keyring failed: {type(exc).__name__}"
            ) from None
        return cls(_decode_key(text, f"the OS keyring ({service}/{account})"), context=context)

    def _cipher(self) -> Any:
        if self._aead is None:
            try:
                from cryptography.hazmat.primitives.ciphers.aead import AESGCM
            except ImportError:  # pragma: no cover - cryptography is a core dependency
                raise CacheError(
                    "cache_encryption_unavailable", "encryption needs the cryptography package"
                ) from None
            self._aead = AESGCM(self._key)
        return self._aead

    def encrypt(self, plaintext: bytes, *, context: str | bytes | None = None) -> bytes:
        """Return the encrypted blob of ``plaintext`` (a fresh random nonce each time).

        Args:
            plaintext: what to encrypt.
            context: what the blob is for (the cache passes its path or entry key); ignored
                when the object has its own ``context``.
        """
        header = MAGIC + bytes([VERSION]) + self._check
        nonce = secrets.token_bytes(_NONCE)
        associated = self._associated(header, context)
        return header + nonce + bytes(self._cipher().encrypt(nonce, plaintext, associated))

    def decrypt(self, blob: bytes, *, source: str = "the cache",
                context: str | bytes | None = None) -> bytes:
        """Return the plaintext of a blob :meth:`encrypt` made for the same context.

        Args:
            blob: the encrypted bytes.
            source: what to name in error messages (e.g. the file path).
            context: the context it was encrypted for (see :meth:`encrypt`).

        Raises:
            CacheError: the blob is not encrypted, was encrypted with another key or for
                another context, is unbound (version 1) without ``accept_unbound``, or was
                altered or truncated.
        """
        if not is_encrypted(blob):
            raise CacheError(
                "cache_not_encrypted",
                f"{source} is not encrypted, but this cache was configured with encryption",
            )
        version = blob[len(MAGIC)] if len(blob) > len(MAGIC) else -1
        if len(blob) < _HEADER + _NONCE + 16 or version not in (VERSION, UNBOUND_VERSION):
            raise CacheError("cache_decryption_failed", f"{source} is truncated or unknown")
        header, nonce = blob[:_HEADER], blob[_HEADER:_HEADER + _NONCE]
        if header[len(MAGIC) + 1:] != self._check:
            raise CacheError(
                "cache_decryption_failed", f"{source} was encrypted with a different key"
            )
        if version == UNBOUND_VERSION:
            if not self.accept_unbound:
                raise CacheError(
                    "cache_decryption_failed",
                    f"{source} was encrypted by an older version without binding it to its "
                    "file; delete it, or read it once with CacheEncryption(..., "
                    "accept_unbound=True) to migrate it")
            associated = header
        else:
            associated = self._associated(header, context)
        from cryptography.exceptions import InvalidTag

        try:
            return bytes(self._cipher().decrypt(nonce, blob[_HEADER + _NONCE:], associated))
        except InvalidTag:
            raise CacheError(
                "cache_decryption_failed",
                f"{source} was altered or damaged, or encrypted for another file or context "
                "(integrity check)",
            ) from None
