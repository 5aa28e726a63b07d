"""Encryption at rest: MultiFernet over ATHENA_ENCRYPTION_KEYS and an encrypted JSON model field.

The first key encrypts; every key decrypts, so keys rotate by putting a new key first and
re-saving rows (`rotate_value`) before the old key is removed.
"""

import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class DecryptionError(Exception):
    """Stored ciphertext could not be decrypted with any configured key."""


@lru_cache(maxsize=8)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("ATHENA_ENCRYPTION_KEYS is empty: set one or more comma-separated Fernet keys.")
    try:
        return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            "ATHENA_ENCRYPTION_KEYS contains an invalid key: each must be 32 url-safe base64-encoded bytes."
        ) from None


def get_fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.ATHENA_ENCRYPTION_KEYS))


def encrypt_str(plaintext: str) -> str:
    return get_fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt_str(ciphertext: str) -> str:
    try:
        return get_fernet().decrypt(ciphertext.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise DecryptionError("Stored value could not be decrypted with any key in ATHENA_ENCRYPTION_KEYS.") from None


def rotate_value(ciphertext: str) -> str:
    """Re-encrypt a stored value with the first (current) key."""
    try:
        return get_fernet().rotate(ciphertext.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise DecryptionError("Stored value could not be decrypted with any key in ATHENA_ENCRYPTION_KEYS.") from None


class Secret:
    """A decrypted value that hides itself from `repr`, `str` and logs; read it with `.reveal()`."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def reveal(self) -> Any:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return self._value == other._value
        return NotImplemented

    def __bool__(self) -> bool:
        return bool(self._value)


class EncryptedJSONField(models.TextField):
    """Store any JSON value encrypted; reading the attribute gives a `Secret`, or None.

    Assign plain values or a `Secret`. The admin and model forms never show the value.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Secret | None:
        if value is None:
            return None
        return Secret(json.loads(decrypt_str(value)))

    def to_python(self, value: Any) -> Secret | None:
        if value is None or isinstance(value, Secret):
            return value
        return Secret(value)

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, Secret):
            value = value.reveal()
        return encrypt_str(json.dumps(value))

    def value_to_string(self, obj: models.Model) -> str:
        # Serialization (dumpdata, exports) gets the ciphertext, never the plaintext.
        return self.get_prep_value(self.value_from_object(obj)) or ""
