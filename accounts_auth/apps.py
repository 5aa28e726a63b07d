from django.apps import AppConfig


class AccountsAuthConfig(AppConfig):
    name = "accounts_auth"
    verbose_name = "Accounts and authentication"
    default_auto_field = "django.db.models.BigAutoField"
