"""Threads (conversations with an agent), their messages, attachments and stored media."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Thread(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="threads")
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="threads")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=200, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    archived = models.BooleanField(default=False)
    message_count = models.PositiveIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)
    # Creation time until the first message, then the time of the latest one. Lists sort by it.
    last_activity_at = models.DateTimeField(default=timezone.now)
    # Set while a run has the thread locked. A conditional UPDATE of this column is the run lock.
    running_since = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_activity_at", "-created_at"]
        indexes = [models.Index(fields=["workspace", "-last_activity_at"], name="threads_thread_ws_activity")]

    def __str__(self) -> str:
        return self.name or str(self.pk)


class MessageRole(models.TextChoices):
    USER = "user", "User"
    ASSISTANT = "assistant", "Assistant"
    SYSTEM = "system", "System"
    TOOL = "tool", "Tool"


class Media(models.Model):
    """A stored file with generated variants (for images: a thumbnail)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="media")
    file = models.FileField(upload_to="media/%Y/%m/", max_length=300)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(default=0)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # Variant name -> `{path, width, height, content_type}`, with storage names as paths.
    variants = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.file.name


class Attachment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="attachments")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    filename = models.CharField(max_length=255)
    # Detected from the file's bytes, never taken from the client.
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to="attachments/%Y/%m/", max_length=300)
    # The text sent to the model for text, Markdown, CSV, JSON and PDF files; empty for images.
    extracted_text = models.TextField(blank=True)
    media = models.OneToOneField(Media, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachment")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class Message(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Copied from the thread so that metrics and scoping need no join.
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="thread_messages")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    # Order within the thread, assigned under the thread's row lock; timestamps can tie.
    position = models.PositiveIntegerField(default=0)
    role = models.CharField(max_length=16, choices=MessageRole.choices)
    content = models.TextField(blank=True)
    # Tool calls an assistant message requested, in OpenAI's shape.
    tool_calls = models.JSONField(default=list, blank=True)
    # The tool call this tool message responds to.
    tool_call_id = models.CharField(max_length=200, blank=True)
    attachments = models.ManyToManyField(Attachment, blank=True, related_name="messages")
    # The run that produced an assistant or tool message; rating the message rates the run.
    run = models.ForeignKey("agents.AgentRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    model = models.CharField(max_length=200, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    # US dollars; null when the model has no prices.
    cost = models.DecimalField(max_digits=14, decimal_places=8, null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    # `{code, message}` of the failed run that produced this reply.
    error = models.JSONField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "created_at"]
        indexes = [
            models.Index(fields=["thread", "position"], name="threads_message_thread_pos"),
            models.Index(fields=["workspace", "created_at"], name="threads_message_ws_created"),
        ]

    def __str__(self) -> str:
        return f"{self.role} in {self.thread_id}"
