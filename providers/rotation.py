"""Re-encryption of EncryptedJSONField columns with the current key, found by model introspection."""

import logging
from collections.abc import Iterable, Iterator

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models, transaction
from django.db.models import TextField, Value
from django.db.models.functions import Cast

from athena_site.crypto import EncryptedJSONField, rotate_value

logger = logging.getLogger(__name__)


def encrypted_fields(
    model_classes: Iterable[type[models.Model]],
) -> Iterator[tuple[type[models.Model], EncryptedJSONField]]:
    """Yield (model, field) for every concrete EncryptedJSONField of the given models."""
    for model in model_classes:
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedJSONField):
                yield model, field


def _current_fernet() -> Fernet:
    key = settings.ATHENA_ENCRYPTION_KEYS[0]
    return Fernet(key.encode() if isinstance(key, str) else key)


def _is_current(ciphertext: str, fernet: Fernet) -> bool:
    try:
        fernet.decrypt(ciphertext.encode("ascii"))
    except (InvalidToken, ValueError):
        return False
    return True


def rotate_field(
    model: type[models.Model], field: EncryptedJSONField, *, batch_size: int, dry_run: bool = False
) -> dict:
    """Re-encrypt one column in primary-key order, one transaction per batch.

    The ciphertext is read and written as text, so values are never decrypted into Python
    objects. A row changed by someone else since it was read is left alone: its new value was
    written with the current key anyway. Raises DecryptionError for a value no key decrypts.
    """
    fernet = _current_fernet()
    counts = {"rotated": 0, "current": 0}
    raw = "_rotation_ciphertext"
    queryset = (
        model._default_manager.filter(**{f"{field.attname}__isnull": False})
        .annotate(**{raw: Cast(field.attname, TextField())})
        .order_by("pk")
    )
    last_pk = None
    while True:
        batch = queryset if last_pk is None else queryset.filter(pk__gt=last_pk)
        rows = list(batch.values_list("pk", raw)[:batch_size])
        if not rows:
            return counts
        with transaction.atomic():
            for pk, ciphertext in rows:
                if _is_current(ciphertext, fernet):
                    counts["current"] += 1
                    continue
                counts["rotated"] += 1
                if dry_run:
                    continue
                rotated = rotate_value(ciphertext)
                model._default_manager.filter(pk=pk).annotate(**{raw: Cast(field.attname, TextField())}).filter(
                    **{raw: ciphertext}
                ).update(**{field.attname: Value(rotated, output_field=TextField())})
        last_pk = rows[-1][0]
        logger.info(
            "Rotated a batch of encrypted values",
            extra={
                "model": model._meta.label,
                "field": field.name,
                "last_pk": str(last_pk),
                "rotated": counts["rotated"],
            },
        )
