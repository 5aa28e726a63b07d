"""Signal receivers: a personal workspace at sign-up and pending invitations once the email is verified."""

import logging
from typing import Any

from workspaces.services import invitation_accept_pending, workspace_create_personal

logger = logging.getLogger(__name__)

# Saves that may newly verify or change the user's email; other partial saves (such as
# `last_login` at each sign-in) skip the invitation lookup.
_EMAIL_FIELDS = {"email", "email_verified_at"}


def user_saved(sender: Any, instance: Any, created: bool, raw: bool = False, update_fields: Any = None, **kwargs: Any):
    """Give a new user a personal workspace and accept invitations waiting for their email."""
    if raw or getattr(instance, "is_service_account", False):
        return
    if created:
        workspace_create_personal(user=instance)
    if created or update_fields is None or _EMAIL_FIELDS & set(update_fields):
        invitation_accept_pending(user=instance)


def email_confirmed(sender: Any, request: Any = None, email_address: Any = None, **kwargs: Any) -> None:
    """Accept pending invitations when allauth confirms a user's email address."""
    user = getattr(email_address, "user", None)
    if user is not None and not getattr(user, "is_service_account", False):
        invitation_accept_pending(user=user)
