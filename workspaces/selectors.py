"""Reads and permission scoping of the workspaces app.

Selectors ending in `_for_user` raise NotFound for workspaces the user does not belong to, so
ids of other tenants do not leak. Workspaces whose deletion was requested are invisible.
"""

import uuid
from datetime import datetime
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from athena_site.api.errors import NotFound
from workspaces import registries
from workspaces.models import CommandRoomTask, Invitation, Membership, Role, Variable, Workspace

WORKSPACE_NOT_FOUND = "workspace_not_found"
_ROLE_HINTS_ATTRIBUTE = "_workspace_role_hints"
_ROLES_ATTRIBUTE = "_workspace_roles"


def parse_uuid(value: object) -> uuid.UUID | None:
    """Return `value` as a UUID, or None when it is not one."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def workspace_active_queryset() -> QuerySet[Workspace]:
    return Workspace.objects.filter(deleting_at__isnull=True)


def membership_roles_for_user(*, user: Any) -> dict[uuid.UUID, str]:
    """Map the id of each workspace the user belongs to onto the user's role there."""
    if not getattr(user, "is_authenticated", False):
        return {}
    rows = Membership.objects.filter(user=user, workspace__deleting_at__isnull=True).values_list("workspace_id", "role")
    return dict(rows)


def _roles_for_request(request: Any) -> dict[uuid.UUID, str]:
    # Cached on the request so that all checks of one request use the same memberships, while
    # a change made by another request applies from the caller's next request.
    roles = getattr(request, _ROLES_ATTRIBUTE, None)
    if roles is None:
        roles = membership_roles_for_user(user=request.user)
        setattr(request, _ROLES_ATTRIBUTE, roles)
    return roles


def membership_role_remember(*, request: Any, workspace: Workspace) -> None:
    """Keep the caller's role in `workspace`, read with its `role` annotation, for this request's checks.

    A list or create then checks the role without reading all of the caller's memberships.
    """
    role = getattr(workspace, "role", None)
    if role is not None and getattr(request, _ROLES_ATTRIBUTE, None) is None:
        hints = getattr(request, _ROLE_HINTS_ATTRIBUTE, None) or {}
        hints[workspace.pk] = role
        setattr(request, _ROLE_HINTS_ATTRIBUTE, hints)


def membership_role_for_request(*, request: Any, workspace_id: uuid.UUID) -> str | None:
    """Return the caller's role in a workspace, or None when the caller is not a member."""
    hints = getattr(request, _ROLE_HINTS_ATTRIBUTE, None)
    if hints and workspace_id in hints:
        return hints[workspace_id]
    return _roles_for_request(request).get(workspace_id)


def workspace_ids_for_request(*, request: Any) -> list[uuid.UUID]:
    """Return the ids of every workspace the caller belongs to."""
    return list(_roles_for_request(request))


def workspace_list_for_user(*, user: Any) -> QuerySet[Workspace]:
    """Return the user's workspaces, each annotated with the user's `role`."""
    role = Membership.objects.filter(workspace=OuterRef("pk"), user=user).values("role")[:1]
    return workspace_active_queryset().filter(memberships__user=user).annotate(role=Subquery(role)).order_by("name")


def workspace_get_for_user(*, workspace_id: object, user: Any) -> Workspace:
    """Return one of the user's workspaces, annotated with the user's `role`.

    Raises NotFound (`not_found`) when it does not exist or the user is not a member.
    """
    pk = parse_uuid(workspace_id)
    workspace = workspace_list_for_user(user=user).filter(pk=pk).first() if pk else None
    if workspace is None:
        raise NotFound()
    return workspace


def workspace_find_for_user(*, identifier: str, user: Any) -> Workspace | None:
    """Find one of the user's workspaces by id or slug, or return None."""
    pk = parse_uuid(identifier)
    lookup = Q(pk=pk) if pk else Q(slug=identifier.strip().lower())
    return workspace_list_for_user(user=user).filter(lookup).first()


def workspace_personal_for_user(*, user: Any) -> Workspace | None:
    return workspace_active_queryset().filter(owner=user, is_personal=True).first()


def membership_list(*, workspace: Workspace) -> QuerySet[Membership]:
    return Membership.objects.filter(workspace=workspace).select_related("user").order_by("created_at", "id")


def membership_get(*, workspace: Workspace, user_id: object) -> Membership:
    """Return the membership of `user_id` in the workspace; raises NotFound."""
    pk = parse_uuid(user_id)
    membership = membership_list(workspace=workspace).filter(user_id=pk).first() if pk else None
    if membership is None:
        raise NotFound()
    return membership


def membership_owner_count(*, workspace: Workspace) -> int:
    return Membership.objects.filter(workspace=workspace, role=Role.OWNER).count()


def invitation_pending_for_email(*, email: str) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        email__iexact=email, accepted_at__isnull=True, workspace__deleting_at__isnull=True
    ).select_related("workspace")


def variable_list(*, workspace: Workspace) -> QuerySet[Variable]:
    return Variable.objects.filter(workspace=workspace).order_by("key")


def variable_get(*, workspace: Workspace, key: str) -> Variable:
    """Return the workspace's variable named `key`; raises NotFound."""
    variable = variable_list(workspace=workspace).filter(key=key).first()
    if variable is None:
        raise NotFound()
    return variable


def workspace_variables_and_secrets(*, workspace: Workspace) -> tuple[dict[str, str], dict[str, str]]:
    """Return the workspace's variables and decrypted secrets, each as `{key: value}`, from one query.

    Workflows read them as `vars` and `secrets`. The secrets are plaintext: never log, store or
    return them.
    """
    variables: dict[str, str] = {}
    secrets: dict[str, str] = {}
    for variable in variable_list(workspace=workspace):
        if not variable.secret:
            variables[variable.key] = variable.value
        else:
            secrets[variable.key] = variable.secret_value.reveal() if variable.secret_value is not None else ""
    return variables, secrets


def command_room_task_list(*, workspace_ids: list[uuid.UUID]) -> QuerySet[CommandRoomTask]:
    return CommandRoomTask.objects.filter(workspace_id__in=workspace_ids, workspace__deleting_at__isnull=True)


def members_count(
    workspace_ids: list[uuid.UUID], date_from: datetime | None, date_to: datetime | None
) -> dict[uuid.UUID, int]:
    """Count the members of each workspace who joined within the range (all of them without one)."""
    memberships = Membership.objects.filter(workspace_id__in=workspace_ids)
    if date_from is not None:
        memberships = memberships.filter(created_at__gte=date_from)
    if date_to is not None:
        memberships = memberships.filter(created_at__lte=date_to)
    rows = memberships.values("workspace_id").annotate(total=Count("id")).values_list("workspace_id", "total")
    return dict(rows)


def workspace_metrics(
    *, workspace_ids: list[uuid.UUID], date_from: datetime | None = None, date_to: datetime | None = None
) -> dict[uuid.UUID, dict[str, Any]]:
    """Return `{workspace_id: {metric: value}}` for every registered metric.

    Each counter runs once for all the workspaces; a workspace a counter leaves out gets 0.
    """
    metrics: dict[uuid.UUID, dict[str, Any]] = {workspace_id: {} for workspace_id in workspace_ids}
    for name, counter in registries.metric_counters().items():
        counts = counter(list(workspace_ids), date_from, date_to)
        for workspace_id in workspace_ids:
            metrics[workspace_id][name] = counts.get(workspace_id, 0)
    return metrics
