from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "workspaces"
    verbose_name = "Workspaces"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from allauth.account.signals import email_confirmed
        from django.conf import settings
        from django.db.models.signals import post_save

        from workspaces import registries, selectors, signals

        post_save.connect(signals.user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="workspaces_user_saved")
        email_confirmed.connect(signals.email_confirmed, dispatch_uid="workspaces_email_confirmed")
        registries.register_metric("members", selectors.members_count)
