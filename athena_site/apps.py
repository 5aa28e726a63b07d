from django.apps import AppConfig


class AthenaSiteConfig(AppConfig):
    name = "athena_site"
    verbose_name = "Athena"
