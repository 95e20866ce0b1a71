"""Encryption at rest for persistent token caches: AES-256-GCM (``cryptography``, imported lazily).

Blob layout: ``b"EACACHE"``, a version byte, a 4-byte key check, a 12-byte nonce, then the
AES-GCM ciphertext and tag. The header is authenticated data. The key check (the start of
SHA-256 of the key) lets a wrong key be told apart from a damaged file.
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
VERSION = 1
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


class CacheEncryption:
    """AES-GCM encryption of a cache's text, with the key from the caller, env, or OS keyring.

    Args:
        key: 16, 24 or 32 raw bytes (32 recommended; see :func:`generate_key`).

    Raises:
        ValueError: the key has the wrong length.
    """

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, (bytes, bytearray)) or len(key) not in (16, 24, 32):
            raise ValueError("an AES key must be 16, 24 or 32 bytes")
        self._key = bytes(key)
        self._check = hashlib.sha256(self._key).digest()[:4]
        self._aead: Any = None

    def __repr__(self) -> str:  # never show the key
        return f"CacheEncryption(key_check={self._check.hex()})"

    @classmethod
    def from_env(cls, variable: str = DEFAULT_KEY_ENV) -> CacheEncryption:
        """Use the base64url key in an environment variable.

        Raises:
            CacheError: the variable is unset or does not hold a valid key.
        """
        text = os.environ.get(variable)
        if not text:
            raise CacheError("cache_key_missing", f"the environment variable {variable} is not set")
        return cls(_decode_key(text, f"${variable}"))

    @classmethod
    def from_keyring(
        cls,
        service: str = _KEYRING_SERVICE,
        account: str = _KEYRING_ACCOUNT,
        *,
        create: bool = True,
    ) -> CacheEncryption:
        """Use a key kept in the OS keyring (the optional ``keyring`` package).

        Args:
            service: the keyring service name.
            account: the keyring user name the key is stored under.
            create: generate and store a key when there is none yet.

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
                return cls(key)
        except keyring_errors.KeyringError as exc:
            raise CacheError(
                "cache_keyring_unavailable", f"the OS keyring failed: {type(exc).__name__}"
            ) from None
        return cls(_decode_key(text, f"the OS keyring ({service}/{account})"))

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

    def encrypt(self, plaintext: bytes) -> bytes:
        """Return the encrypted blob of ``plaintext`` (a fresh random nonce each time)."""
        header = MAGIC + bytes([VERSION]) + self._check
        nonce = secrets.token_bytes(_NONCE)
        return header + nonce + bytes(self._cipher().encrypt(nonce, plaintext, header))

    def decrypt(self, blob: bytes, *, source: str = "the cache") -> bytes:
        """Return the plaintext of a blob :meth:`encrypt` made.

        Args:
            blob: the encrypted bytes.
            source: what to name in error messages (e.g. the file path).

        Raises:
            CacheError: the blob is not encrypted, was encrypted with another key, or was
                altered or truncated.
        """
        if not is_encrypted(blob):
            raise CacheError(
                "cache_not_encrypted",
                f"{source} is not encrypted, but this cache was configured with encryption",
            )
        if len(blob) < _HEADER + _NONCE + 16 or blob[len(MAGIC)] != VERSION:
            raise CacheError("cache_decryption_failed", f"{source} is truncated or unknown")
        header, nonce = blob[:_HEADER], blob[_HEADER:_HEADER + _NONCE]
        if header[len(MAGIC) + 1:] != self._check:
            raise CacheError(
                "cache_decryption_failed", f"{source} was encrypted with a different key"
            )
        from cryptography.exceptions import InvalidTag

        try:
            return bytes(self._cipher().decrypt(nonce, blob[_HEADER + _NONCE:], header))
        except InvalidTag:
            raise CacheError(
                "cache_decryption_failed", f"{source} was altered or damaged (integrity check)"
            ) from None
