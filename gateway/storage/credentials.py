"""API keys and passwords: how they are made, hashed and checked.

An API key is ``o2c_`` plus 32 random bytes (URL-safe base64); only its first
:data:`KEY_PREFIX_LENGTH` characters (to find the row) and its sha256 are stored.
Passwords are hashed with scrypt and a random salt, encoded with their parameters
(``scrypt$n$r$p$salt$hash``) so the cost can be raised later. Comparisons are
constant-time. These functions block (scrypt is slow on purpose): call them through
``asyncio.to_thread``.

Imports only the standard library.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

KEY_PREFIX = "o2c_"
KEY_PREFIX_LENGTH = 12
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_LEN = 2**14, 8, 1, 32
# A hash to check a password against when the user does not exist, so a missing user
# takes as long as a wrong password.
_DUMMY = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def new_api_key() -> tuple[str, str, str]:
    """A fresh key: ``(key, prefix, sha256 hex of the key)``."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return key, key[:KEY_PREFIX_LENGTH], key_hash(key)


def key_hash(key: str) -> str:
    """The stored hash of an API key."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_matches(key: str, stored_hash: str) -> bool:
    """Whether ``key`` hashes to ``stored_hash`` (constant-time)."""
    return hmac.compare_digest(key_hash(key), stored_hash)


def hash_password(password: str) -> str:
    """An encoded scrypt hash of ``password`` with a fresh salt."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_LEN)
    return "$".join(
        ["scrypt", str(_SCRYPT_N), str(_SCRYPT_R), str(_SCRYPT_P), _b64(salt), _b64(digest)]
    )


def check_password(password: str, encoded: str | None) -> bool:
    """Whether ``password`` matches ``encoded``; None (no such user) costs the same, False."""
    try:
        scheme, n, r, p, salt, digest = (encoded or _DUMMY).split("$")
        expected = _unb64(digest)
        actual = _scrypt(password, _unb64(salt), int(n), int(r), int(p), len(expected))
    except ValueError:
        return False
    return scheme == "scrypt" and hmac.compare_digest(actual, expected) and encoded is not None


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=64 * 1024 * 1024
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
