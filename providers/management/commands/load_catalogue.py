"""Load the built-in providers and the LLM catalogue; running it again updates them in place."""

from django.core.management.base import BaseCommand

from providers.catalogue import catalogue_load


class Command(BaseCommand):
    help = "Create or update the built-in providers and the catalogue of OpenAI and Anthropic models."

    def handle(self, *args, **options) -> None:
        written = catalogue_load()
        self.stdout.write(f"Loaded {written['providers']} providers and {written['models']} models.")
