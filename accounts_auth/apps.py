from django.apps import AppConfig


class AccountsAuthConfig(AppConfig):
    name = "accounts_auth"
    verbose_name = "Accounts and authentication"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Importing these modules connects their signal receivers (audit trail, service account
        # cleanup) and registers the OpenAPI security schemes of the authentication classes.
        from accounts_auth import browser, schema, signals  # noqa: F401
