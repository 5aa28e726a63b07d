"""Agents, their runs and training jobs, memories, prompts with versions, and shares."""

import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

SHARE_TOKEN_BYTES = 24


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private"
    WORKSPACE = "workspace", "Workspace"


class Agent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="agents")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120)
    description = models.TextField(blank=True)
    avatar = models.URLField(max_length=500, blank=True)
    instructions = models.TextField(blank=True)
    model = models.ForeignKey(
        "providers.LargeLanguageModel", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    account = models.ForeignKey("providers.Account", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    temperature = models.FloatField(null=True, blank=True)
    top_p = models.FloatField(null=True, blank=True)
    max_output_tokens = models.PositiveIntegerField(null=True, blank=True)
    # `{"type": "text"}` or `{"type": "json_schema", "json_schema": {"name", "schema"}}`.
    response_format = models.JSONField(default=dict, blank=True)
    # Tool definitions: `{"type": "memory_search" | "memory_save" | "http" | <registered type>, ...}`.
    tools = models.JSONField(default=list, blank=True)
    memory_enabled = models.BooleanField(default=True)
    memory_limit = models.PositiveSmallIntegerField(null=True, blank=True)
    # max_steps, max_tokens, max_cost (US dollars as a string) and max_seconds; missing keys use settings.
    limits = models.JSONField(default=dict, blank=True)
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.WORKSPACE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["workspace", "slug"], name="agents_agent_unique_slug")]
        indexes = [
            models.Index(fields=["workspace", "-created_at"], name="agents_agent_ws_created"),
            # Contains every column the list filters on, so counting a workspace's agents for the
            # list's total reads only this index, not the wide rows.
            models.Index(fields=["workspace", "visibility", "created_by"], name="agents_agent_ws_visible"),
        ]

    def __str__(self) -> str:
        return self.name


class RunSource(models.TextChoices):
    API = "api", "API"
    THREAD = "thread", "Thread"
    OPENAI = "openai", "OpenAI-compatible endpoint"
    PUBLIC = "public", "Public link"
    WORKFLOW = "workflow", "Workflow"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


class AgentRun(models.Model):
    """One execution of an agent, whatever started it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="agent_runs")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="runs")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=16, choices=RunSource.choices, default=RunSource.API)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    input = models.TextField(blank=True)
    output = models.TextField(blank=True)
    steps = models.JSONField(default=list, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    # US dollars; null when the model has no prices.
    cost = models.DecimalField(max_digits=14, decimal_places=8, null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    finish_reason = models.CharField(max_length=32, blank=True)
    # `{code, message, limit?}` of a failed run.
    error = models.JSONField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["workspace", "-created_at"], name="agents_run_ws_created"),
            models.Index(fields=["agent", "-created_at"], name="agents_run_agent_created"),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} run {self.pk}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class TrainingJob(models.Model):
    """A background job that turns examples, documents and feedback into memories of an agent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="agent_training_jobs")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="training_jobs")
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    payload = models.JSONField(default=dict, blank=True)
    # Memories created per kind: examples, chunks, corrections.
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"training {self.pk} of {self.agent_id}"


class MemoryKind(models.TextChoices):
    FACT = "fact", "Fact"
    PREFERENCE = "preference", "Preference"
    SUMMARY = "summary", "Summary"
    EXAMPLE = "example", "Example"
    DOCUMENT = "document", "Document"


class MemorySource(models.TextChoices):
    MANUAL = "manual", "Manual"
    TRAINING = "training", "Training"
    AGENT = "agent", "Agent"


class Memory(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="memories")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, null=True, blank=True, related_name="memories")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The thread the memory came from; a plain id because agents do not depend on threads.
    thread_id = models.UUIDField(null=True, blank=True)
    kind = models.CharField(max_length=16, choices=MemoryKind.choices, default=MemoryKind.FACT)
    content = models.TextField()
    metadata = models.JSONField(default=dict, blank=True)
    # 0 to 1; breaks ties between equally relevant memories.
    importance = models.FloatField(default=0.5)
    source = models.CharField(max_length=16, choices=MemorySource.choices, default=MemorySource.MANUAL)
    # A list of floats from the configured embedding model, or null.
    embedding = models.JSONField(null=True, blank=True, editable=False)
    embedding_model = models.CharField(max_length=200, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["workspace", "agent", "kind"], name="agents_memory_ws_agent_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.content[:40]}"


class Prompt(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="prompts")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    template = models.TextField()
    # `[{name, type, required, default, description}]`.
    variables = models.JSONField(default=list, blank=True)
    model = models.ForeignKey(
        "providers.LargeLanguageModel", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    account = models.ForeignKey("providers.Account", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class PromptVersion(models.Model):
    """The template and variables of a prompt as they were at one version number."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    template = models.TextField()
    variables = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["prompt", "number"], name="agents_prompt_version_unique")]

    def __str__(self) -> str:
        return f"{self.prompt_id} v{self.number}"


class SharePermission(models.TextChoices):
    VIEW = "view", "View"
    RUN = "run", "Run"
    EDIT = "edit", "Edit"


def new_share_token() -> str:
    return secrets.token_urlsafe(SHARE_TOKEN_BYTES)


def hash_share_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Share(models.Model):
    """A grant of one object (an agent, a workflow) to another user or to anyone holding a public link.

    The target is `(target_type, target_id)` rather than a foreign key, so that workflows can
    share their objects through this model without agents depending on workflows.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The workspace of the shared object, which owns the share.
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="shares")
    target_type = models.CharField(max_length=32)
    target_id = models.UUIDField()
    # The grantee; null for a public link.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="received_shares"
    )
    permission = models.CharField(max_length=8, choices=SharePermission.choices, default=SharePermission.VIEW)
    # SHA-256 hex digest of a public link's token; the token is shown once, when the share is created.
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    # The first characters of the token, so that owners can tell links apart.
    token_prefix = models.CharField(max_length=8, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["target_type", "target_id", "user"],
                condition=Q(user__isnull=False),
                name="agents_share_one_per_user",
            ),
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(token_hash__isnull=True))
                | (Q(user__isnull=True) & Q(token_hash__isnull=False)),
                name="agents_share_user_or_link",
            ),
        ]
        indexes = [models.Index(fields=["target_type", "target_id"], name="agents_share_target")]

    def __str__(self) -> str:
        return f"{self.target_type} {self.target_id} ({self.permission})"

    @property
    def is_public(self) -> bool:
        return self.user_id is None
