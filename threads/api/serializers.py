"""Serializers of the threads API."""

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agents.api.serializers import RunErrorSerializer, StepSerializer, UsageSerializer
from agents.models import RunStatus
from threads.conf import thread_setting
from threads.models import Attachment, Media, Message, MessageRole, Thread

WRITABLE_ROLES = ["system", "user", "assistant"]


def _absolute(context: dict[str, Any], path: str) -> str:
    request = context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


def _download_path(attachment_id: Any, variant: str | None = None) -> str:
    path = reverse("attachment-download", kwargs={"pk": attachment_id})
    return f"{path}?variant={variant}" if variant else path


class _ContentField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_blank=True, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        limit = int(thread_setting("ATHENA_THREAD_MAX_CONTENT_CHARS"))
        if len(value) > limit:
            raise serializers.ValidationError(f"Ensure this field has no more than {limit} characters.")
        return value


class _AttachmentIdsField(serializers.ListField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.UUIDField(), required=False, default=list, **kwargs)

    def to_internal_value(self, data: Any) -> list[Any]:
        value = super().to_internal_value(data)
        limit = int(thread_setting("ATHENA_THREAD_MAX_ATTACHMENTS"))
        if len(value) > limit:
            raise serializers.ValidationError(f"Attach at most {limit} files.")
        return list(dict.fromkeys(value))


# --- media and attachments ------------------------------------------------------------


class MediaVariantSerializer(serializers.Serializer):
    name = serializers.CharField()
    url = serializers.CharField()
    content_type = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class MediaSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    variants = serializers.SerializerMethodField()

    class Meta:
        model = Media
        fields = ["id", "url", "content_type", "size", "width", "height", "variants", "created_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, media: Media) -> str:
        return _absolute(self.context, _download_path(media.attachment.pk))

    @extend_schema_field(MediaVariantSerializer(many=True))
    def get_variants(self, media: Media) -> list[dict[str, Any]]:
        return [
            {
                "name": name,
                "url": _absolute(self.context, _download_path(media.attachment.pk, name)),
                "content_type": variant.get("content_type", ""),
                "width": variant.get("width", 0),
                "height": variant.get("height", 0),
            }
            for name, variant in (media.variants or {}).items()
        ]


class AttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()
    text_chars = serializers.SerializerMethodField(help_text="Characters of extracted text the model sees.")
    media = MediaSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Attachment
        fields = [
            "id",
            "filename",
            "content_type",
            "size",
            "sha256",
            "download_url",
            "text_chars",
            "media",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, attachment: Attachment) -> str:
        return _absolute(self.context, _download_path(attachment.pk))

    def get_text_chars(self, attachment: Attachment) -> int:
        return len(attachment.extracted_text)


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False, max_length=1000)


class DownloadQuerySerializer(serializers.Serializer):
    variant = serializers.ChoiceField(choices=["thumbnail"], required=False, help_text="A generated variant.")


# --- threads and messages -------------------------------------------------------------


class ThreadSerializer(serializers.ModelSerializer):
    agent_id = serializers.UUIDField(read_only=True)
    created_by_id = serializers.UUIDField(read_only=True, allow_null=True)
    running = serializers.SerializerMethodField(help_text="Whether a run holds the thread right now.")

    class Meta:
        model = Thread
        fields = [
            "id",
            "agent_id",
            "name",
            "metadata",
            "archived",
            "message_count",
            "last_message_at",
            "last_activity_at",
            "running",
            "created_by_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_running(self, thread: Thread) -> bool:
        return thread.running_since is not None


class ThreadWriteSerializer(serializers.Serializer):
    agent_id = serializers.UUIDField(help_text="The agent that answers in this thread.")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    metadata = serializers.DictField(required=False)
    archived = serializers.BooleanField(required=False)

    def validate_metadata(self, value: dict[str, Any]) -> dict[str, Any]:
        if len(str(value)) > 20_000:
            raise serializers.ValidationError("Ensure the metadata has no more than 20000 characters.")
        return value


class ThreadListQuerySerializer(serializers.Serializer):
    agent = serializers.UUIDField(required=False)
    archived = serializers.BooleanField(required=False, allow_null=True, default=None)
    search = serializers.CharField(required=False, max_length=200)


class MessageSerializer(serializers.ModelSerializer):
    thread_id = serializers.UUIDField(read_only=True)
    run_id = serializers.UUIDField(read_only=True, allow_null=True)
    created_by_id = serializers.UUIDField(read_only=True, allow_null=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    usage = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "thread_id",
            "role",
            "content",
            "tool_calls",
            "tool_call_id",
            "attachments",
            "run_id",
            "model",
            "usage",
            "cost",
            "latency_ms",
            "error",
            "rating",
            "created_by_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(UsageSerializer)
    def get_usage(self, message: Message) -> dict[str, int]:
        return {"input_tokens": message.input_tokens, "output_tokens": message.output_tokens}


class MessageCreateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=WRITABLE_ROLES, default=MessageRole.USER)
    content = _ContentField(required=False, default="")
    attachment_ids = _AttachmentIdsField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs["content"] and not attrs["attachment_ids"]:
            raise serializers.ValidationError({"content": ["Send content or attachment_ids."]})
        return attrs


class MessageUpdateSerializer(serializers.Serializer):
    content = _ContentField()
    rating = serializers.IntegerField(
        min_value=1, max_value=5, required=False, allow_null=True, help_text="Rates the reply and its run."
    )
    comment = serializers.CharField(max_length=5000, required=False, allow_blank=True, write_only=True)


class ThreadRunRequestSerializer(serializers.Serializer):
    content = _ContentField(required=False, default="", help_text="The user message to add before running.")
    attachment_ids = _AttachmentIdsField()
    stream = serializers.BooleanField(required=False, default=False)


class ThreadRunResultSerializer(serializers.Serializer):
    run_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=RunStatus.choices)
    output = serializers.CharField(allow_blank=True)
    steps = StepSerializer(many=True, required=False)
    usage = UsageSerializer(required=False)
    cost = serializers.DecimalField(max_digits=14, decimal_places=8, allow_null=True, coerce_to_string=True)
    latency_ms = serializers.IntegerField(allow_null=True)
    finish_reason = serializers.CharField(allow_null=True)
    error = RunErrorSerializer(allow_null=True)
    messages = MessageSerializer(many=True, help_text="Messages stored by this run, the user message first.")
