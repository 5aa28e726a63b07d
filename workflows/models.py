"""Workflows (graphs of nodes and edges), their versions, executions and one row per node run."""

import secrets
import uuid

from django.conf import settings as django_settings
from django.db import models
from django.db.models import Q

from athena_site.crypto import EncryptedJSONField

WEBHOOK_TOKEN_BYTES = 24


def new_webhook_token() -> str:
    """Return a random URL-safe token for the public webhook URL."""
    return secrets.token_urlsafe(WEBHOOK_TOKEN_BYTES)


TRIGGER_TYPES = ("trigger.manual", "trigger.webhook", "trigger.schedule")


def trigger_types_of(nodes: list[dict]) -> str:
    """Return the value of `Workflow.trigger_types` for a graph's nodes, disabled ones included."""
    present = [kind for kind in TRIGGER_TYPES if any(node.get("type") == kind for node in nodes)]
    return f",{','.join(present)}," if present else ""


def default_workflow_settings() -> dict:
    return {"timeout_seconds": None, "max_concurrency": 0, "save_execution_data": "all", "error_workflow": None}


class Workflow(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="workflows")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    nodes = models.JSONField(default=list, blank=True)
    edges = models.JSONField(default=list, blank=True)
    # Default values of `vars`; workspace variables with the same key are overridden by these.
    variables = models.JSONField(default=dict, blank=True)
    settings = models.JSONField(default=default_workflow_settings, blank=True)
    active = models.BooleanField(default=True)
    webhook_token = models.CharField(max_length=64, unique=True, default=new_webhook_token, editable=False)
    # Shared secret of the optional webhook signature; null means unsigned requests are accepted.
    webhook_secret = EncryptedJSONField(null=True, blank=True)
    # Public webhook requests allowed per minute; 0 means no limit.
    webhook_rate_limit = models.PositiveIntegerField(default=60)
    # The trigger node types of the graph between commas (",trigger.manual,trigger.webhook,"), so
    # that the list filter by trigger type is one LIKE in the database on every backend.
    trigger_types = models.CharField(max_length=200, blank=True, default="", editable=False)
    schedule_cron = models.CharField(max_length=120, blank=True)
    schedule_timezone = models.CharField(max_length=64, default="UTC")
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "-created_at"], name="workflows_wf_ws_created")]

    def __str__(self) -> str:
        return self.name


class WorkflowVersion(models.Model):
    """The graph as it was after one change; executions point at the version they ran."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    nodes = models.JSONField(default=list)
    edges = models.JSONField(default=list)
    variables = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["workflow", "number"], name="workflows_version_unique_number")]

    def __str__(self) -> str:
        return f"{self.workflow_id} v{self.number}"


class ExecutionStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    WAITING = "waiting", "Waiting"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


FINISHED_STATUSES = (ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.CANCELED)


class ExecutionMode(models.TextChoices):
    MANUAL = "manual", "Manual"
    API = "api", "API"
    WEBHOOK = "webhook", "Webhook"
    SCHEDULE = "schedule", "Schedule"
    AGENT = "agent", "Agent"
    RETRY = "retry", "Retry"
    SUB_WORKFLOW = "sub_workflow", "Sub-workflow"
    ERROR = "error", "Error"
    TEST = "test", "Test"


class WorkflowExecution(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="workflow_executions")
    # Empty for test runs of unsaved graphs; kept when the workflow is deleted.
    workflow = models.ForeignKey(Workflow, on_delete=models.SET_NULL, null=True, blank=True, related_name="executions")
    version = models.ForeignKey(
        WorkflowVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="executions"
    )
    status = models.CharField(max_length=16, choices=ExecutionStatus.choices, default=ExecutionStatus.QUEUED)
    mode = models.CharField(max_length=16, choices=ExecutionMode.choices, default=ExecutionMode.MANUAL)
    # {body, headers, query, method} as the trigger received it.
    trigger_payload = models.JSONField(default=dict, blank=True)
    # NULL rather than "" for no key, so the partial unique constraint ignores keyless rows.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001 (see above)
    # The graph snapshot the execution runs over: {nodes, edges, variables, settings}.
    workflow_data = models.JSONField(default=dict, blank=True)
    # Set by a retry: the execution whose succeeded node outputs were reused.
    retry_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="retries")
    parent_execution = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="sub_executions"
    )
    parent_node_id = models.CharField(max_length=100, blank=True)
    depth = models.PositiveSmallIntegerField(default=0)
    # The first node answered by `respond_to_webhook`: {status, headers, body}.
    response = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # How many times the reaper took the execution back from a runner that stopped answering.
    recoveries = models.PositiveSmallIntegerField(default=0)
    resume_at = models.DateTimeField(null=True, blank=True)
    # When the run message was last sent, so the reaper can tell a lost message from a fresh one.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="workflows_execution_unique_idempotency_key",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "-created_at"], name="workflows_exec_ws_created"),
            models.Index(fields=["workflow", "status"], name="workflows_exec_wf_status"),
            models.Index(fields=["status", "lease_expires_at"], name="workflows_exec_status_lease"),
            models.Index(fields=["status", "resume_at"], name="workflows_exec_status_resume"),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES


class NodeRunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class WorkflowNodeRun(models.Model):
    """One run of one node: the row commits on its own, so a finished node is never run again."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    execution = models.ForeignKey(WorkflowExecution, on_delete=models.CASCADE, related_name="node_runs")
    node_id = models.CharField(max_length=100)
    node_type = models.CharField(max_length=50)
    # The position in a loop's list for nodes of a loop body; -1 outside loops.
    item_index = models.IntegerField(default=-1)
    status = models.CharField(max_length=16, choices=NodeRunStatus.choices, default=NodeRunStatus.PENDING)
    input = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    # The output handles the node took (`main`, `true`, `false`, a switch case, `error`...).
    handles = models.JSONField(default=list, blank=True)
    error = models.JSONField(null=True, blank=True)
    # What a waiting node needs when it runs again (a delay's end, an approval's decision...).
    state = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Reused from the execution that was retried; the node was not run again.
    reused = models.BooleanField(default=False)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=14, decimal_places=8, default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["execution", "node_id", "item_index"], name="workflows_node_run_unique_node"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.node_id} ({self.status})"
