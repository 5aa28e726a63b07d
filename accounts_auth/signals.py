"""Signal receivers of the accounts_auth app."""

from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver

from accounts_auth.models import ServiceAccount, User


@receiver(post_delete, sender=ServiceAccount, dispatch_uid="accounts_auth.service_account_user_delete")
def service_account_user_delete(sender: Any, instance: ServiceAccount, **kwargs: Any) -> None:
    # A service account's user exists only for it. When the account goes, including when its
    # workspace is deleted, the user and its tokens go too, so no orphaned token keeps working.
    User.objects.filter(pk=instance.user_id, is_service_account=True).delete()
