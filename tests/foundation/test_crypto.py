"""Encryption helper and encrypted field."""

import logging

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from athena_site import crypto


def test_encrypt_round_trip():
    ciphertext = crypto.encrypt_str("sk-live-123")

    assert ciphertext != "sk-live-123"
    assert "sk-live-123" not in ciphertext
    assert crypto.decrypt_str(ciphertext) == "sk-live-123"


def test_first_key_encrypts_all_keys_decrypt(settings):
    first, second = settings.ATHENA_ENCRYPTION_KEYS
    by_second_key = Fernet(second.encode()).encrypt(b"old value").decode()

    ciphertext = crypto.encrypt_str("new value")

    assert Fernet(first.encode()).decrypt(ciphertext.encode()) == b"new value"
    assert crypto.decrypt_str(by_second_key) == "old value"


def test_rotate_value_moves_to_first_key(settings):
    first, second = settings.ATHENA_ENCRYPTION_KEYS
    by_second_key = Fernet(second.encode()).encrypt(b"rotating").decode()

    rotated = crypto.rotate_value(by_second_key)

    assert Fernet(first.encode()).decrypt(rotated.encode()) == b"rotating"


def test_removed_key_cannot_decrypt(settings):
    old_key = Fernet.generate_key().decode()
    settings.ATHENA_ENCRYPTION_KEYS = [old_key]
    ciphertext = crypto.encrypt_str("value")

    settings.ATHENA_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(crypto.DecryptionError) as excinfo:
        crypto.decrypt_str(ciphertext)
    assert ciphertext not in str(excinfo.value)


def test_missing_keys_raise_improperly_configured(settings):
    settings.ATHENA_ENCRYPTION_KEYS = []

    with pytest.raises(ImproperlyConfigured, match="ATHENA_ENCRYPTION_KEYS"):
        crypto.encrypt_str("x")


def test_invalid_key_raises_improperly_configured(settings):
    settings.ATHENA_ENCRYPTION_KEYS = ["not-a-key"]

    with pytest.raises(ImproperlyConfigured, match="invalid key"):
        crypto.encrypt_str("x")


def test_secret_hidden_from_repr_and_logs(caplog):
    secret = crypto.Secret({"api_key": "sk-live-abc"})
    logger = logging.getLogger("tests.crypto")

    with caplog.at_level(logging.INFO):
        logger.info("credentials %s %r", secret, secret)

    assert "sk-live-abc" not in repr(secret)
    assert "sk-live-abc" not in str(secret)
    assert "sk-live-abc" not in caplog.text
    assert secret.reveal() == {"api_key": "sk-live-abc"}


def test_encrypted_field_stores_ciphertext():
    field = crypto.EncryptedJSONField()

    stored = field.get_prep_value({"token": "abc"})
    loaded = field.from_db_value(stored, None, None)

    assert "abc" not in stored
    assert isinstance(loaded, crypto.Secret)
    assert loaded.reveal() == {"token": "abc"}
    assert field.get_prep_value(None) is None
    assert field.from_db_value(None, None, None) is None


def test_encrypted_field_not_editable_in_forms():
    field = crypto.EncryptedJSONField()

    assert field.editable is False
    assert "editable" not in field.deconstruct()[3]
