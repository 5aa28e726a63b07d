from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "providers"
    verbose_name = "Providers and accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from providers.logging import install_query_string_redaction

        install_query_string_redaction()
