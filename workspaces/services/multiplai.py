"""Mirroring a user's Multiplai organizations as workspaces and memberships."""

import logging
from typing import Any

from django.db import IntegrityError, transaction

from workspaces.models import Membership, Role, Workspace
from workspaces.services.workspaces import (
    workspace_create,
    workspace_fallback_current,
    workspace_owner_refresh,
    workspace_set_current,
    workspace_slug_generate,
)

logger = logging.getLogger(__name__)

# Multiplai organization role -> workspace role. Any other Multiplai role maps to viewer.
MULTIPLAI_ROLE_MAP: dict[str, str] = {
    "owner": Role.OWNER,
    "admin": Role.ADMIN,
    "member": Role.EDITOR,
    "editor": Role.EDITOR,
}
MAX_ORGANIZATIONS = 500


def multiplai_role_to_workspace_role(role: object) -> str:
    """Map a Multiplai organization role onto a workspace role (viewer when unknown)."""
    return MULTIPLAI_ROLE_MAP.get(str(role or "").strip().lower(), Role.VIEWER)


def _clean_organizations(organizations: Any) -> dict[str, dict[str, str]]:
    cleaned: dict[str, dict[str, str]] = {}
    for entry in list(organizations or [])[:MAX_ORGANIZATIONS]:
        if not isinstance(entry, dict):
            continue
        organization_id = str(entry.get("id") or "").strip()
        if not organization_id or len(organization_id) > 64:
            logger.warning("Skipped a Multiplai organization without a usable id")
            continue
        name = str(entry.get("name") or "").strip()[:120] or f"Organization {organization_id}"
        cleaned[organization_id] = {"name": name, "role": multiplai_role_to_workspace_role(entry.get("role"))}
    return cleaned


def _owner_count(workspace_id: Any) -> int:
    return Membership.objects.filter(workspace_id=workspace_id, role=Role.OWNER).count()


def _workspace_for_organization(*, organization_id: str, name: str, user: Any, role: str) -> Workspace:
    workspace = Workspace.objects.filter(external_id=organization_id).first()
    if workspace is None:
        try:
            with transaction.atomic():
                return _workspace_create_for_organization(
                    organization_id=organization_id, name=name, user=user, role=role
                )
        except IntegrityError:
            # Another member's sign-in created it at the same moment.
            workspace = Workspace.objects.get(external_id=organization_id)
    if workspace.name != name:
        workspace.name = name
        workspace.save(update_fields=["name", "updated_at"])
    return workspace


def _workspace_create_for_organization(*, organization_id: str, name: str, user: Any, role: str) -> Workspace:
    # The first member to sign in creates the workspace with their own role, not as owner, so
    # that a viewer of the organization never becomes the owner of its workspace. Until an
    # organization owner signs in, such a workspace has no owner.
    if role == Role.OWNER:
        return workspace_create(name=name, owner=user, external_id=organization_id)
    workspace = Workspace.objects.create(
        name=name, slug=workspace_slug_generate(name=name), external_id=organization_id
    )
    Membership.objects.create(user=user, workspace=workspace, role=role)
    logger.info("Workspace created", extra={"workspace_id": str(workspace.pk), "user_id": str(user.pk)})
    return workspace


def workspace_sync_multiplai_organizations(*, user: Any, organizations: list[dict]) -> list[Membership]:
    """Make the user's workspace memberships match their Multiplai organizations.

    `organizations` is `[{"id": str, "name": str, "role": str}]`. Creates a workspace for each
    unknown organization (matched by `external_id`) and renames known ones. Upserts the user's
    membership with the mapped role (MULTIPLAI_ROLE_MAP). Removes the user's memberships of
    organization workspaces no longer listed, but keeps the workspaces and their data. The
    last owner of a workspace is never demoted or removed. Returns the synced memberships.
    """
    wanted = _clean_organizations(organizations)
    synced: list[Membership] = []

    with transaction.atomic():
        for organization_id, organization in wanted.items():
            role = organization["role"]
            workspace = _workspace_for_organization(
                organization_id=organization_id, name=organization["name"], user=user, role=role
            )
            if workspace.deleting_at is not None:
                continue
            membership, created = Membership.objects.select_for_update().get_or_create(
                user=user, workspace=workspace, defaults={"role": role}
            )
            if not created and membership.role != role:
                keeps_last_owner = membership.role == Role.OWNER and _owner_count(workspace.pk) <= 1
                if keeps_last_owner:
                    logger.warning(
                        "Kept the last owner of a Multiplai workspace instead of demoting them",
                        extra={"workspace_id": str(workspace.pk), "user_id": str(user.pk)},
                    )
                else:
                    membership.role = role
                    membership.save(update_fields=["role", "updated_at"])
            workspace_owner_refresh(workspace=workspace)
            synced.append(membership)

        left = (
            Membership.objects.select_for_update(of=("self",))
            .filter(user=user, workspace__external_id__isnull=False)
            .exclude(workspace__external_id__in=list(wanted))
        )
        for membership in left.select_related("workspace"):
            if membership.role == Role.OWNER and _owner_count(membership.workspace_id) <= 1:
                logger.warning(
                    "Kept the last owner of a Multiplai workspace the user left",
                    extra={"workspace_id": str(membership.workspace_id), "user_id": str(user.pk)},
                )
                continue
            membership.delete()
            workspace_owner_refresh(workspace=membership.workspace)
            workspace_fallback_current(user_ids=[user.pk], leaving=membership.workspace)

    if user.current_workspace_id is None and synced:
        workspace_set_current(user=user, workspace=synced[0].workspace)
    logger.info(
        "Multiplai organizations synced",
        extra={"user_id": str(user.pk), "organizations": len(wanted), "memberships": len(synced)},
    )
    return synced
