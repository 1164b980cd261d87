"""Encryption at rest and keyed hashing of personal identity numbers.

The number is stored encrypted (Fernet: AES-128-CBC with HMAC-SHA256) under the newest key
of ``PERSONNUMMER_KEYS``; older keys still decrypt, so keys can be rotated without downtime
(``manage.py rotate_personnummer_keys`` re-encrypts every row under the newest key). Beside
it an HMAC-SHA256 under ``PERSONNUMMER_HASH_KEY`` allows exact lookup without decrypting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _fernet_key(raw: str) -> bytes:
    """Accept a real Fernet key, or derive one from a passphrase (development keys)."""
    try:
        if len(base64.urlsafe_b64decode(raw.encode())) == 32:
            return raw.encode()
    except ValueError:
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(raw.encode()).digest())


@lru_cache(maxsize=4)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("PERSONNUMMER_KEYS is empty")
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


def cipher() -> MultiFernet:
    return _cipher(tuple(settings.PERSONNUMMER_KEYS))


def encrypt(value: str) -> str:
    return cipher().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A personnummer could not be decrypted with any key in PERSONNUMMER_KEYS"
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt under the newest key (a no-op in meaning, a new ciphertext)."""
    return cipher().rotate(token.encode()).decode()


def lookup_hash(normalised: str) -> str:
    key = settings.PERSONNUMMER_HASH_KEY.encode()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()
