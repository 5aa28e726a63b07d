"""Re-encrypt every encrypted field of every model with the first key of ATHENA_ENCRYPTION_KEYS."""

import logging
import time
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from athena_site.crypto import DecryptionError
from providers.rotation import encrypted_fields, rotate_field

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Re-encrypt every EncryptedJSONField value of every model with the first key of ATHENA_ENCRYPTION_KEYS. "
        "Values already encrypted with it are skipped, so an interrupted run resumes where it stopped. "
        "Afterwards the old keys can be removed."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="Rows read and updated per batch.")
        parser.add_argument("--dry-run", action="store_true", help="Count the values to rotate without writing.")

    def handle(self, *args: Any, batch_size: int, dry_run: bool, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        started = time.monotonic()
        total = 0
        for model, field in encrypted_fields(apps.get_models()):
            label = f"{model._meta.label}.{field.name}"
            try:
                counts = rotate_field(model, field, batch_size=batch_size, dry_run=dry_run)
            except DecryptionError:
                raise CommandError(
                    f"A value of {label} cannot be decrypted with any key of ATHENA_ENCRYPTION_KEYS; "
                    "add the key it was encrypted with and run again."
                ) from None
            total += counts["rotated"]
            self.stdout.write(f"{label}: {counts['rotated']} rotated, {counts['current']} already current.")
        verb = "would be rotated" if dry_run else "rotated"
        self.stdout.write(f"{total} values {verb} in {time.monotonic() - started:.1f}s.")
