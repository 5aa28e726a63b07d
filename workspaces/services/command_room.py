"""The command room: tasks pinned to a workspace's board, each a note or a reference to an object."""

import logging
import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from athena_site.api.errors import ValidationFailed
from workspaces import registries
from workspaces.models import CommandRoomTask, Workspace

logger = logging.getLogger(__name__)

UPDATABLE_FIELDS = ("title", "note", "position", "status")


def _check_reference(*, workspace: Workspace, kind: str, reference_id: uuid.UUID | None) -> None:
    if kind == CommandRoomTask.Kind.NOTE:
        if reference_id is not None:
            raise ValidationFailed(errors={"reference_id": ["A note references nothing; leave reference_id empty."]})
        return
    if kind not in registries.registered_reference_kinds():
        raise ValidationFailed(errors={"kind": [f"Tasks of kind '{kind}' are not available on this server."]})
    if reference_id is None:
        raise ValidationFailed(errors={"reference_id": [f"A task of kind '{kind}' needs the id of the {kind}."]})
    if not registries.reference_exists(kind=kind, workspace_id=workspace.pk, reference_id=reference_id):
        raise ValidationFailed(errors={"reference_id": [f"No {kind} with this id exists in the workspace."]})


def command_room_task_store(
    *, workspace: Workspace, user: Any, kind: str, reference_id: uuid.UUID | None, data: dict[str, Any]
) -> tuple[CommandRoomTask, bool]:
    """Pin an object (or a note) to the command room, or update the task already pinning it.

    `data` may hold `title`, `note`, `position` and `status`. A reference is unique per kind in
    a workspace, so storing it again updates the existing task; every note is a new task.
    Returns the task and whether it was created. Raises ValidationFailed naming `kind` or
    `reference_id` when the reference is not an object of that kind in this workspace.
    """
    _check_reference(workspace=workspace, kind=kind, reference_id=reference_id)
    fields = {name: data[name] for name in UPDATABLE_FIELDS if name in data}

    with transaction.atomic():
        existing = None
        if kind != CommandRoomTask.Kind.NOTE:
            existing = (
                CommandRoomTask.objects.select_for_update()
                .filter(workspace=workspace, kind=kind, reference_id=reference_id)
                .first()
            )
        if existing is not None:
            for name, value in fields.items():
                setattr(existing, name, value)
            existing.save()
            task, created = existing, False
        else:
            task, created = _create(workspace=workspace, user=user, kind=kind, reference_id=reference_id, fields=fields)

    logger.info(
        "Command room task stored",
        extra={"workspace_id": str(workspace.pk), "task_id": str(task.pk), "kind": kind, "task_created": created},
    )
    return task, created


def _create(
    *, workspace: Workspace, user: Any, kind: str, reference_id: uuid.UUID | None, fields: dict[str, Any]
) -> tuple[CommandRoomTask, bool]:
    if "position" not in fields:
        highest = CommandRoomTask.objects.filter(workspace=workspace).aggregate(highest=Max("position"))["highest"]
        fields["position"] = 0 if highest is None else highest + 1
    try:
        with transaction.atomic():
            task = CommandRoomTask.objects.create(
                workspace=workspace, created_by=user, kind=kind, reference_id=reference_id, **fields
            )
        return task, True
    except IntegrityError:
        # A concurrent store of the same reference won the insert; update that task instead.
        task = CommandRoomTask.objects.select_for_update().get(
            workspace=workspace, kind=kind, reference_id=reference_id
        )
        for name, value in fields.items():
            setattr(task, name, value)
        task.save()
        return task, False


def command_room_task_remove(*, task: CommandRoomTask) -> None:
    """Remove a task from the command room; the referenced object is untouched."""
    task_id = str(task.pk)
    task.delete()
    logger.info("Command room task removed", extra={"workspace_id": str(task.workspace_id), "task_id": task_id})
