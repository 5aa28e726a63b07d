"""Creating, updating, deleting workspaces, switching the current one and transferring ownership."""

import json
import logging
import uuid
import zoneinfo
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from athena_site.api.errors import Conflict, NotFound, ValidationFailed
from workspaces.models import SLUG_MAX_LENGTH, Membership, Role, Workspace, validate_workspace_slug
from workspaces.selectors import parse_uuid, workspace_active_queryset, workspace_personal_for_user

logger = logging.getLogger(__name__)

# Workspace settings are a small JSON object of preferences, not a data store.
MAX_SETTINGS_BYTES = 16 * 1024
# Attempts to find a free slug suffix before giving up on a readable one.
_SLUG_SUFFIX_ATTEMPTS = 50


def _slug_base(name: str) -> str:
    base = slugify(name)[: SLUG_MAX_LENGTH - 9].strip("-")
    try:
        validate_workspace_slug(base)
    except ValidationError:
        return "workspace"
    return base


def workspace_slug_generate(*, name: str, exclude_id: uuid.UUID | None = None) -> str:
    """Return a free slug derived from `name`, adding `-2`, `-3`, ... when it is taken."""
    base = _slug_base(name)
    taken = set(Workspace.objects.filter(slug__startswith=base).exclude(pk=exclude_id).values_list("slug", flat=True))
    if base not in taken:
        return base
    for number in range(2, _SLUG_SUFFIX_ATTEMPTS + 2):
        candidate = f"{base}-{number}"
        if candidate not in taken:
            return candidate
    return f"{base}-{uuid.uuid4().hex[:8]}"


def _check_slug(slug: str, *, exclude_id: uuid.UUID | None = None) -> str:
    slug = slug.strip().lower()
    try:
        validate_workspace_slug(slug)
    except ValidationError as exc:
        raise ValidationFailed(errors={"slug": list(exc.messages)}) from None
    if Workspace.objects.filter(slug=slug).exclude(pk=exclude_id).exists():
        raise ValidationFailed(errors={"slug": ["This slug is already taken by another workspace."]})
    return slug


def _check_timezone(name: str) -> str:
    if name not in zoneinfo.available_timezones():
        raise ValidationFailed(errors={"timezone": [f"'{name[:64]}' is not an IANA time zone such as Europe/Paris."]})
    return name


def _check_settings(value: Any) -> dict:
    if not isinstance(value, dict):
        raise ValidationFailed(errors={"settings": ["Settings must be a JSON object."]})
    if len(json.dumps(value).encode("utf-8")) > MAX_SETTINGS_BYTES:
        raise ValidationFailed(errors={"settings": [f"Settings must not exceed {MAX_SETTINGS_BYTES} bytes of JSON."]})
    return value


def workspace_create(
    *,
    name: str,
    owner: Any,
    slug: str | None = None,
    description: str = "",
    timezone_name: str = "UTC",
    settings: dict | None = None,
    external_id: str | None = None,
    is_personal: bool = False,
) -> Workspace:
    """Create a workspace with `owner` as its owner member.

    Makes it the owner's current workspace when the owner has none. Raises ValidationFailed for
    an invalid or taken slug, time zone or settings.
    """
    chosen_slug = _check_slug(slug) if slug else None
    _check_timezone(timezone_name)
    _check_settings(settings or {})

    # A concurrent create may take the generated slug between the check and the insert, so a
    # generated slug is retried. An explicit slug is reported as taken instead.
    for _attempt in range(3):
        try:
            with transaction.atomic():
                workspace = Workspace.objects.create(
                    name=name,
                    slug=chosen_slug or workspace_slug_generate(name=name),
                    description=description,
                    owner=owner,
                    timezone=timezone_name,
                    settings=settings or {},
                    external_id=external_id,
                    is_personal=is_personal,
                )
                Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
                break
        except IntegrityError:
            # Only a slug collision is worth a retry; a second personal workspace or a
            # duplicate external id is the caller's race to handle.
            if is_personal and Workspace.objects.filter(owner=owner, is_personal=True).exists():
                raise
            if external_id and Workspace.objects.filter(external_id=external_id).exists():
                raise
            if chosen_slug:
                raise ValidationFailed(errors={"slug": ["This slug is already taken by another workspace."]}) from None
    else:
        raise Conflict("Could not find a free slug for the workspace; pass one explicitly.", code="slug_conflict")

    if owner.current_workspace_id is None:
        workspace_set_current(user=owner, workspace=workspace)
    logger.info("Workspace created", extra={"workspace_id": str(workspace.pk), "user_id": str(owner.pk)})
    return workspace


def workspace_create_personal(*, user: Any) -> Workspace:
    """Return the user's personal workspace, creating it (owned by the user and made current) if missing.

    Safe to call more than once: a second call returns the existing workspace.
    """
    existing = workspace_personal_for_user(user=user)
    if existing is not None:
        return existing

    display_name = (user.name or user.email.split("@", 1)[0]).strip()[:100] or "Personal"
    try:
        with transaction.atomic():
            return workspace_create(name=f"{display_name}'s workspace", owner=user, is_personal=True)
    except IntegrityError:
        # Another request created it first; the unique constraint on personal workspaces held.
        return Workspace.objects.get(owner=user, is_personal=True)


def workspace_update(*, workspace: Workspace, data: dict[str, Any]) -> Workspace:
    """Update name, slug, description, time zone or settings; only the keys present change."""
    changes: dict[str, Any] = {}
    if "name" in data:
        changes["name"] = data["name"]
    if "slug" in data and data["slug"] != workspace.slug:
        changes["slug"] = _check_slug(data["slug"], exclude_id=workspace.pk)
    if "description" in data:
        changes["description"] = data["description"]
    if "timezone" in data:
        changes["timezone"] = _check_timezone(data["timezone"])
    if "settings" in data:
        changes["settings"] = _check_settings(data["settings"])

    for field, value in changes.items():
        setattr(workspace, field, value)
    if changes:
        try:
            with transaction.atomic():
                workspace.save(update_fields=[*changes, "updated_at"])
        except IntegrityError:
            raise ValidationFailed(errors={"slug": ["This slug is already taken by another workspace."]}) from None
        logger.info("Workspace updated", extra={"workspace_id": str(workspace.pk), "fields": sorted(changes)})
    return workspace


def workspace_set_current(*, user: Any, workspace: Workspace | None) -> None:
    """Make `workspace` the user's current workspace; raises NotFound unless the user is a member."""
    if workspace is not None:
        is_member = Membership.objects.filter(
            user=user, workspace=workspace, workspace__deleting_at__isnull=True
        ).exists()
        if not is_member:
            raise NotFound()
    user.current_workspace = workspace
    get_user_model().objects.filter(pk=user.pk).update(current_workspace=workspace)


def workspace_fallback_current(*, user_ids: list[Any], leaving: Workspace) -> None:
    """Move users whose current workspace is `leaving` to their personal workspace, or to none."""
    user_model = get_user_model()
    for user in user_model.objects.filter(pk__in=user_ids, current_workspace=leaving):
        replacement = workspace_personal_for_user(user=user)
        if replacement is not None and replacement.pk == leaving.pk:
            replacement = None
        user_model.objects.filter(pk=user.pk).update(current_workspace=replacement)


def workspace_owner_refresh(*, workspace: Workspace) -> None:
    """Point `Workspace.owner` at an owner member when it no longer names one."""
    owner_ids = list(
        Membership.objects.filter(workspace=workspace, role=Role.OWNER)
        .order_by("created_at")
        .values_list("user_id", flat=True)
    )
    if owner_ids and workspace.owner_id not in owner_ids:
        Workspace.objects.filter(pk=workspace.pk).update(owner_id=owner_ids[0])
        workspace.owner_id = owner_ids[0]


def workspace_request_deletion(*, workspace: Workspace, user: Any, confirm: str | None) -> None:
    """Hide the workspace at once and queue `workspaces.delete_workspace` to delete its data.

    `confirm` must equal the workspace's slug. The task is sent when the transaction commits.
    Raises ValidationFailed naming `confirm` otherwise.
    """
    from workspaces.tasks import delete_workspace

    if not confirm or confirm != workspace.slug:
        raise ValidationFailed(
            errors={"confirm": [f"Pass ?confirm={workspace.slug} (the workspace's slug) to delete it."]}
        )

    with transaction.atomic():
        # A deleted personal workspace stops counting as personal, so that the user can get a
        # new one while the old one's data is still being deleted.
        updated = (
            workspace_active_queryset().filter(pk=workspace.pk).update(deleting_at=timezone.now(), is_personal=False)
        )
        if not updated:
            raise NotFound()
        member_ids = list(Membership.objects.filter(workspace=workspace).values_list("user_id", flat=True))
        workspace_fallback_current(user_ids=member_ids, leaving=workspace)
        workspace_id = str(workspace.pk)
        transaction.on_commit(lambda: delete_workspace.delay(workspace_id))

    logger.info("Workspace deletion requested", extra={"workspace_id": workspace_id, "user_id": str(user.pk)})


def workspace_delete_data(*, workspace_id: str) -> bool:
    """Delete a workspace whose deletion was requested, with everything that cascades from it.

    Returns False when the row is already gone or its deletion was never requested, so running
    the task twice, or for a live workspace, deletes nothing.
    """
    with transaction.atomic():
        workspace = Workspace.objects.select_for_update().filter(pk=workspace_id, deleting_at__isnull=False).first()
        if workspace is None:
            return False
        # Users' `current_workspace` is SET_NULL; the owner foreign key points from the workspace.
        workspace.delete()
    return True


def workspace_transfer_ownership(*, workspace: Workspace, from_user: Any, to_user_id: Any) -> Membership:
    """Make another member the owner; the previous owner stays a member as admin.

    Raises NotFound when `to_user_id` is not a member and ValidationFailed when it is the caller.
    """
    with transaction.atomic():
        memberships = {
            membership.user_id: membership
            for membership in Membership.objects.select_for_update().filter(workspace=workspace)
        }
        target = memberships.get(parse_uuid(to_user_id))
        if target is None:
            raise NotFound("That user is not a member of this workspace.")
        if target.user_id == from_user.pk:
            raise ValidationFailed(errors={"user_id": ["You already own this workspace."]})

        target.role = Role.OWNER
        target.save(update_fields=["role", "updated_at"])
        current = memberships.get(from_user.pk)
        if current is not None and current.role == Role.OWNER:
            current.role = Role.ADMIN
            current.save(update_fields=["role", "updated_at"])
        Workspace.objects.filter(pk=workspace.pk).update(owner_id=target.user_id, updated_at=timezone.now())

    logger.info(
        "Workspace ownership transferred",
        extra={"workspace_id": str(workspace.pk), "user_id": str(from_user.pk), "new_owner_id": str(target.user_id)},
    )
    return target
