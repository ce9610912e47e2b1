"""Encryption at rest and blind indexes for personal identifiers.

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from the
`cryptography` package) under a MultiFernet built from FIELD_ENCRYPTION_KEYS,
so the first key encrypts and every key still decrypts: a key can be rotated
without downtime. Lookups never touch plaintext: each identifier also carries a
keyed HMAC-SHA256 "blind index" of its normalised form.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    """A stored value cannot be decrypted with any configured key."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError(
            "value cannot be decrypted with the configured keys"
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt a token under the newest key (MultiFernet.rotate)."""
    return _current().rotate(token.encode()).decode()


def normalise_identifier(kind: str, value: str) -> str:
    """The canonical form that two spellings of one identifier share."""
    value = value.strip()
    if kind == "email":
        return value.lower()
    if kind == "phone":
        digits = re.sub(r"[^\d+]", "", value)
        return "+" + digits.lstrip("+") if digits.startswith("+") else digits
    return value


def blind_index(kind: str, value: str, *, namespace: str = "") -> str:
    """Keyed HMAC of the normalised identifier: equal inputs, equal index."""
    message = f"{kind}|{namespace}|{normalise_identifier(kind, value)}".encode()
    key = settings.BLIND_INDEX_KEY.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def keyed_hash(value: str, *, purpose: str) -> str:
    """A keyed, non-reversible digest for values kept only for matching (IPs)."""
    key = settings.BLIND_INDEX_KEY.encode()
    return hmac.new(key, f"{purpose}|{value}".encode(), hashlib.sha256).hexdigest()
