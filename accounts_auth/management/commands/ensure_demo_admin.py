"""Create the demo administrator when the database has no superuser yet."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_EMAIL = "admin@example.com"


class Command(BaseCommand):
    help = "Create admin@example.com with a random password, printed once, if no superuser exists."

    def handle(self, *args: object, **options: object) -> None:
        user_model = get_user_model()
        if user_model.objects.filter(is_superuser=True).exists():
            self.stdout.write("A superuser already exists; no demo admin created.")
            return
        password = secrets.token_urlsafe(12)
        user_model.objects.create_superuser(email=DEMO_EMAIL, password=password, name="Demo Admin")
        self.stdout.write(self.style.SUCCESS(f"Demo admin created: {DEMO_EMAIL} / {password}"))
        self.stdout.write("Change this password after the first login.")
