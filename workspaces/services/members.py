"""Members of a workspace: adding, inviting, changing roles, removing, and accepting invitations."""

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from athena_site.api.errors import Conflict, Forbidden, NotFound
from workspaces.models import Invitation, Membership, Role, Workspace
from workspaces.selectors import invitation_pending_for_email
from workspaces.services.workspaces import workspace_fallback_current, workspace_owner_refresh, workspace_set_current

logger = logging.getLogger(__name__)

INVITATION_LIFETIME = timedelta(days=7)


def invitation_token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def user_email_verified(user: Any) -> bool:
    """Tell whether the user proved they own their email address (Athena or allauth)."""
    if getattr(user, "email_verified_at", None) is not None:
        return True
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


def _check_can_assign(*, actor_role: str, role: str, current_role: str | None = None) -> None:
    # Admins manage members, but only an owner may create another owner or change an owner,
    # so that an admin can never take a workspace over.
    if Role.OWNER in (role, current_role) and actor_role != Role.OWNER:
        raise Forbidden("Only an owner can grant the owner role or change an owner's membership.", code="forbidden")


def _lock_owners(workspace: Workspace) -> list[Membership]:
    # Locking every owner row serialises concurrent demotions and removals of owners, so two
    # owners cannot each remove the other and leave the workspace without one.
    return list(Membership.objects.select_for_update().filter(workspace=workspace, role=Role.OWNER).order_by("id"))


def _refresh_or_not_found(membership: Membership) -> None:
    # A concurrent request may have removed the member since it was looked up.
    try:
        membership.refresh_from_db(fields=["role"])
    except Membership.DoesNotExist:
        raise NotFound() from None


def member_add(
    *, workspace: Workspace, email: str, role: str, invited_by: Any, actor_role: str
) -> tuple[Membership | None, Invitation | None]:
    """Add the user with `email` to the workspace, or invite the address when it has no account.

    Returns `(membership, None)` for an existing user and `(None, invitation)` otherwise.
    Raises Conflict (`already_member`) when the user is already a member.
    """
    _check_can_assign(actor_role=actor_role, role=role)
    email = email.strip().lower()

    user = get_user_model().objects.filter(email__iexact=email).first()
    if user is None:
        invitation, _raw = invitation_create(workspace=workspace, email=email, role=role, invited_by=invited_by)
        return None, invitation

    try:
        with transaction.atomic():
            membership = Membership.objects.create(user=user, workspace=workspace, role=role, invited_by=invited_by)
    except IntegrityError:
        raise Conflict("This user is already a member of the workspace.", code="already_member") from None
    if user.current_workspace_id is None:
        workspace_set_current(user=user, workspace=workspace)
    logger.info(
        "Member added",
        extra={"workspace_id": str(workspace.pk), "user_id": str(user.pk), "role": role},
    )
    return membership, None


def invitation_create(*, workspace: Workspace, email: str, role: str, invited_by: Any) -> tuple[Invitation, str]:
    """Invite an email address, replacing a pending invitation to the same address.

    Returns the invitation and its token, which is sent by email when the transaction commits
    and never stored.
    """
    raw = secrets.token_urlsafe(32)
    values = {
        "role": role,
        "invited_by": invited_by,
        "token_hash": invitation_token_hash(raw),
        "expires_at": timezone.now() + INVITATION_LIFETIME,
    }
    with transaction.atomic():
        invitation, _created = Invitation.objects.update_or_create(
            workspace=workspace, email=email, accepted_at__isnull=True, defaults=values
        )
        transaction.on_commit(lambda: _send_invitation_email(invitation=invitation, raw=raw))

    logger.info("Invitation created", extra={"workspace_id": str(workspace.pk), "invitation_id": str(invitation.pk)})
    return invitation, raw


def _send_invitation_email(*, invitation: Invitation, raw: str) -> None:
    public_url = settings.ATHENA_PUBLIC_URL
    inviter = invitation.invited_by.get_full_name() if invitation.invited_by else "A workspace admin"
    body = (
        f'{inviter} invited you to the workspace "{invitation.workspace.name}" on Athena as {invitation.role}.\n\n'
        f"Sign up with this email address at {public_url}/accounts/signup/ and you will join the "
        f"workspace once your address is verified.\n\n"
        f"If you already have an account with this address, accept with:\n"
        f"POST {public_url}/api/v1/workspaces/invitations/{raw}/accept\n\n"
        f"The invitation expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC."
    )
    send_mail(
        subject=f"Join {invitation.workspace.name} on Athena",
        message=body,
        from_email=None,
        recipient_list=[invitation.email],
    )


def _accept(invitation: Invitation, user: Any) -> Membership:
    membership, created = Membership.objects.get_or_create(
        user=user,
        workspace=invitation.workspace,
        defaults={"role": invitation.role, "invited_by": invitation.invited_by},
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    logger.info(
        "Invitation accepted",
        extra={
            "workspace_id": str(invitation.workspace_id),
            "user_id": str(user.pk),
            "invitation_id": str(invitation.pk),
            "already_member": not created,
        },
    )
    return membership


def invitation_accept(*, token: str, user: Any) -> Membership:
    """Accept the invitation identified by `token` for `user`, whose email must be the invited one.

    Raises NotFound for an unknown, used or foreign token (all alike, so a token addressed to
    someone else reveals nothing) and Conflict (`invitation_expired`) for an expired one.
    """
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("workspace", "invited_by")
            .filter(
                token_hash=invitation_token_hash(token),
                accepted_at__isnull=True,
                workspace__deleting_at__isnull=True,
            )
            .first()
        )
        if invitation is None or invitation.email.lower() != (user.email or "").lower():
            raise NotFound("Invitation not found, already used, or addressed to another email address.")
        if invitation.expires_at <= timezone.now():
            raise Conflict("This invitation has expired; ask for a new one.", code="invitation_expired")
        membership = _accept(invitation, user)

    if user.current_workspace_id is None:
        workspace_set_current(user=user, workspace=membership.workspace)
    return membership


def invitation_accept_pending(*, user: Any) -> list[Membership]:
    """Turn the pending, unexpired invitations for the user's email into memberships.

    Does nothing until the user's email is verified, because anyone can sign up with any
    address. Returns the memberships that now exist for the accepted invitations.
    """
    if not user.email or getattr(user, "is_service_account", False) or not user_email_verified(user):
        return []

    memberships = []
    with transaction.atomic():
        pending = invitation_pending_for_email(email=user.email).filter(expires_at__gt=timezone.now())
        for invitation in pending.select_for_update(of=("self",)).order_by("created_at"):
            memberships.append(_accept(invitation, user))

    if memberships and user.current_workspace_id is None:
        workspace_set_current(user=user, workspace=memberships[0].workspace)
    return memberships


def membership_set_role(*, membership: Membership, role: str, actor_role: str) -> Membership:
    """Change a member's role.

    Raises Forbidden when a non-owner grants or changes the owner role, and Conflict
    (`last_owner`) when the change would leave the workspace without an owner.
    """
    _check_can_assign(actor_role=actor_role, role=role, current_role=membership.role)

    with transaction.atomic():
        owners = _lock_owners(membership.workspace)
        _refresh_or_not_found(membership)
        if membership.role == Role.OWNER and role != Role.OWNER and len(owners) <= 1:
            raise Conflict("The last owner cannot be demoted; transfer ownership first.", code="last_owner")
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
        workspace_owner_refresh(workspace=membership.workspace)

    logger.info(
        "Member role changed",
        extra={"workspace_id": str(membership.workspace_id), "user_id": str(membership.user_id), "role": role},
    )
    return membership


def membership_remove(*, membership: Membership, actor: Any, actor_role: str | None) -> None:
    """Remove a member, or let a member leave when `actor` is the member.

    Raises Forbidden when a non-owner removes an owner and Conflict (`last_owner`) for the
    last owner. Moves the user's current workspace elsewhere when it was this one.
    """
    if membership.user_id != actor.pk:
        _check_can_assign(actor_role=actor_role or "", role=membership.role, current_role=membership.role)

    with transaction.atomic():
        owners = _lock_owners(membership.workspace)
        _refresh_or_not_found(membership)
        if membership.role == Role.OWNER and len(owners) <= 1:
            raise Conflict(
                "The last owner cannot leave the workspace; transfer ownership or delete the workspace.",
                code="last_owner",
            )
        membership.delete()
        workspace_owner_refresh(workspace=membership.workspace)
        workspace_fallback_current(user_ids=[membership.user_id], leaving=membership.workspace)

    logger.info(
        "Member removed",
        extra={
            "workspace_id": str(membership.workspace_id),
            "user_id": str(membership.user_id),
            "actor_id": str(actor.pk),
        },
    )
