"""Workspaces (tenants), memberships with roles, invitations, variables and the command room."""

import re
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from athena_site.crypto import EncryptedJSONField

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SLUG_MAX_LENGTH = 80
VARIABLE_KEY_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"


def validate_workspace_slug(value: str) -> None:
    """Reject slugs that are not lowercase words joined by hyphens, or that read as a UUID.

    `X-Workspace` takes an id or a slug, so a slug shaped like a UUID would be ambiguous.
    """
    if not re.fullmatch(SLUG_PATTERN, value or ""):
        raise ValidationError(
            "Use lowercase letters, digits and single hyphens, starting and ending with a letter or digit.",
            code="invalid_slug",
        )
    try:
        uuid.UUID(value)
    except ValueError:
        return
    raise ValidationError("A slug must not have the form of a UUID.", code="invalid_slug")


validate_variable_key = RegexValidator(
    VARIABLE_KEY_PATTERN,
    "Use 1 to 64 letters, digits or underscores, not starting with a digit.",
    code="invalid_key",
)


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


class Workspace(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True, validators=[validate_workspace_slug])
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_workspaces", null=True, blank=True
    )
    # Multiplai organization id for workspaces that mirror an organization.
    external_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # The workspace created for a user at sign-up; each user has at most one.
    is_personal = models.BooleanField(default=False)
    timezone = models.CharField(max_length=64, default="UTC")
    settings = models.JSONField(default=dict, blank=True)
    # Set when deletion is requested: the workspace leaves every list and context at once,
    # and a background task deletes its data.
    deleting_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner"], condition=Q(is_personal=True), name="workspaces_workspace_one_personal"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "workspace"], name="workspaces_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.workspace_id} as {self.role}"


class Invitation(models.Model):
    """An invitation of an email address without an account; it becomes a membership at sign-up."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # SHA-256 hex digest of the token sent by email; the token itself is never stored.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "email"],
                condition=Q(accepted_at__isnull=True),
                name="workspaces_invitation_one_pending",
            ),
        ]
        indexes = [models.Index(fields=["email"], name="workspaces_invitation_email")]

    def __str__(self) -> str:
        return f"{self.email} to {self.workspace_id} as {self.role}"


class Variable(models.Model):
    """A named value workflows read as `vars.<key>`, or as `secrets.<key>` when it is secret."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="variables")
    key = models.CharField(max_length=64, validators=[validate_variable_key])
    # Plain text for ordinary variables; empty for secrets, whose value lives in `secret_value`.
    value = models.TextField(blank=True)
    secret_value = EncryptedJSONField(null=True, blank=True)
    secret = models.BooleanField(default=False)
    description = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="workspaces_variable_unique_key")]

    def __str__(self) -> str:
        return self.key


class CommandRoomTask(models.Model):
    """An item pinned to a workspace's command room: a reference to an object, or a free note."""

    class Kind(models.TextChoices):
        AGENT = "agent", "Agent"
        WORKFLOW = "workflow", "Workflow"
        WORKFLOW_EXECUTION = "workflow_execution", "Workflow execution"
        THREAD = "thread", "Thread"
        NOTE = "note", "Note"

    class Status(models.TextChoices):
        TODO = "todo", "To do"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="command_room_tasks")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # The referenced object's id; null for notes, which reference nothing.
    reference_id = models.UUIDField(null=True, blank=True)
    title = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    position = models.IntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.TODO)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "kind", "reference_id"],
                condition=~Q(kind="note"),
                name="workspaces_command_room_task_unique_reference",
            ),
            models.CheckConstraint(
                condition=(Q(kind="note") & Q(reference_id__isnull=True))
                | (~Q(kind="note") & Q(reference_id__isnull=False)),
                name="workspaces_command_room_task_reference_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.kind} {self.reference_id or ''}".strip()
