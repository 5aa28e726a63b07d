"""Serializers of the agents API: agents, runs, shares, training, generation, leaderboard, memories, prompts."""

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agents.conf import agent_setting, default_limits
from agents.models import (
    Agent,
    AgentRun,
    JobStatus,
    Memory,
    MemoryKind,
    Prompt,
    PromptVersion,
    RunStatus,
    Share,
    SharePermission,
    TrainingJob,
    Visibility,
)
from agents.selectors import LEADERBOARD_PERIODS
from agents.services import effective_limits
from agents.templates import VARIABLE_TYPES

MAX_TOOLS = 32
MAX_TRAINING_TEXT = 200_000
LEADERBOARD_ORDERINGS = ["-score", "-runs", "-success_rate", "-rating", "latency", "cost"]


def _max_input() -> int:
    return int(agent_setting("ATHENA_AGENT_MAX_INPUT_CHARS"))


class ToolSerializer(serializers.Serializer):
    """One tool entry of an agent. Keys besides `type` depend on the type."""

    type = serializers.CharField(
        help_text="`memory_search`, `memory_save`, `http`, `mcp`, or a type another app registered."
    )
    name = serializers.CharField(
        required=False,
        help_text="Function name the model calls (HTTP tools), or the prefix of the server's tool names (MCP).",
    )
    description = serializers.CharField(required=False)
    method = serializers.ChoiceField(choices=["GET", "POST", "PUT", "PATCH", "DELETE"], required=False)
    url = serializers.CharField(
        required=False,
        help_text="HTTP tools: URL template whose `{name}` placeholders take arguments. "
        "MCP: the server's streamable HTTP endpoint.",
    )
    parameters = serializers.DictField(required=False, help_text="JSON schema of the arguments.")
    headers = serializers.DictField(child=serializers.CharField(), required=False)
    account_id = serializers.UUIDField(required=False, allow_null=True, help_text="Account whose credentials to send.")
    allowed_tools = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="MCP: the server's tool names the model may call; empty or missing allows every tool.",
    )


class LimitsSerializer(serializers.Serializer):
    max_steps = serializers.IntegerField(help_text="Model calls per run.")
    max_tokens = serializers.IntegerField(allow_null=True, help_text="Input plus output tokens per run.")
    max_cost = serializers.DecimalField(max_digits=12, decimal_places=6, allow_null=True, help_text="US dollars.")
    max_seconds = serializers.FloatField(allow_null=True)


class OptionalURLField(serializers.URLField):
    """A URL that is null when unset, because the model stores an empty string, which is not a valid URI."""

    def to_representation(self, value: str) -> str | None:
        return value or None


class AgentSerializer(serializers.ModelSerializer):
    workspace_id = serializers.UUIDField(read_only=True)
    avatar = OptionalURLField(read_only=True, allow_null=True, help_text="Image URL, or null when unset.")
    model_id = serializers.UUIDField(read_only=True, allow_null=True)
    account_id = serializers.UUIDField(read_only=True, allow_null=True)
    created_by = serializers.UUIDField(source="created_by_id", read_only=True, allow_null=True)
    tools = serializers.SerializerMethodField()
    limits = serializers.SerializerMethodField()

    class Meta:
        model = Agent
        fields = [
            "id",
            "workspace_id",
            "name",
            "slug",
            "description",
            "avatar",
            "instructions",
            "model_id",
            "account_id",
            "temperature",
            "top_p",
            "max_output_tokens",
            "response_format",
            "tools",
            "memory_enabled",
            "memory_limit",
            "limits",
            "visibility",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ToolSerializer(many=True))
    def get_tools(self, agent: Agent) -> list[dict[str, Any]]:
        return agent.tools or []

    @extend_schema_field(LimitsSerializer)
    def get_limits(self, agent: Agent) -> dict[str, Any]:
        # Read the default limits from the settings once per response, not once per agent.
        root = self.root
        if not hasattr(root, "_default_limits"):
            root._default_limits = default_limits()
        return effective_limits(agent, root._default_limits)


class AgentWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    slug = serializers.SlugField(max_length=120, required=False)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    avatar = serializers.URLField(
        max_length=500, required=False, allow_blank=True, allow_null=True, help_text="Image URL; null or '' clears it."
    )
    instructions = serializers.CharField(max_length=50_000, required=False, allow_blank=True)
    model_id = serializers.UUIDField(required=False, allow_null=True)
    account_id = serializers.UUIDField(required=False, allow_null=True)
    temperature = serializers.FloatField(min_value=0, max_value=2, required=False, allow_null=True)
    top_p = serializers.FloatField(min_value=0, max_value=1, required=False, allow_null=True)
    max_output_tokens = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False, allow_null=True)
    response_format = serializers.DictField(required=False)
    tools = serializers.ListField(child=serializers.DictField(), max_length=MAX_TOOLS, required=False)
    memory_enabled = serializers.BooleanField(required=False)
    memory_limit = serializers.IntegerField(min_value=0, max_value=50, required=False, allow_null=True)
    limits = serializers.DictField(required=False, help_text="max_steps, max_tokens, max_cost (USD), max_seconds.")
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)

    def validate_avatar(self, value: str | None) -> str:
        return value or ""

    def validate_response_format(self, value: dict[str, Any]) -> dict[str, Any]:
        kind = value.get("type", "text")
        if kind not in ("text", "json_object", "json_schema"):
            raise serializers.ValidationError("Use type text, json_object or json_schema.")
        if kind == "json_schema" and not isinstance(value.get("json_schema"), dict):
            raise serializers.ValidationError("A json_schema format needs a json_schema object with name and schema.")
        return value


class MessageSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=["system", "user", "assistant"])
    content = serializers.CharField(allow_blank=True, trim_whitespace=False)


class AgentRunRequestSerializer(serializers.Serializer):
    input = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, default="")
    messages = MessageSerializer(many=True, required=False, help_text="Prior messages of the conversation.")
    variables = serializers.DictField(required=False, help_text="Values of the instructions' {{ variables }}.")
    stream = serializers.BooleanField(required=False, default=False)

    def validate_input(self, value: str) -> str:
        if len(value) > _max_input():
            raise serializers.ValidationError(f"Ensure this field has no more than {_max_input()} characters.")
        return value

    def validate_messages(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        limit = int(agent_setting("ATHENA_AGENT_MAX_MESSAGES"))
        if len(value) > limit:
            raise serializers.ValidationError(f"Send at most {limit} messages.")
        if sum(len(message["content"]) for message in value) > _max_input():
            raise serializers.ValidationError(f"The messages exceed {_max_input()} characters in total.")
        return value


class StepSerializer(serializers.Serializer):
    tool = serializers.CharField()
    arguments = serializers.JSONField(allow_null=True)
    result = serializers.JSONField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    duration_ms = serializers.IntegerField()


class UsageSerializer(serializers.Serializer):
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()


class RunErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    limit = serializers.CharField(required=False, help_text="The limit reached, for `agent_limit_exceeded`.")


class AgentRunResultSerializer(serializers.Serializer):
    run_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=RunStatus.choices)
    output = serializers.CharField(allow_blank=True)
    steps = StepSerializer(many=True)
    usage = UsageSerializer()
    cost = serializers.DecimalField(max_digits=14, decimal_places=8, allow_null=True, coerce_to_string=True)
    latency_ms = serializers.IntegerField()
    finish_reason = serializers.CharField(allow_null=True)
    error = RunErrorSerializer(allow_null=True)


class AgentRunSerializer(serializers.ModelSerializer):
    agent_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = AgentRun
        fields = [
            "id",
            "agent_id",
            "source",
            "status",
            "input",
            "output",
            "steps",
            "input_tokens",
            "output_tokens",
            "cost",
            "latency_ms",
            "finish_reason",
            "error",
            "rating",
            "rating_comment",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class RatingSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


# --- shares ------------------------------------------------------------------------------


class ShareCreateSerializer(serializers.Serializer):
    user_email = serializers.EmailField(required=False)
    public = serializers.BooleanField(required=False, default=False)
    permission = serializers.ChoiceField(choices=SharePermission.choices, default=SharePermission.VIEW)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("user_email")) == bool(attrs.get("public")):
            raise serializers.ValidationError({"user_email": ["Send either user_email or public: true."]})
        return attrs


class ShareUserSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()


class ShareSerializer(serializers.ModelSerializer):
    public = serializers.BooleanField(source="is_public", read_only=True)
    user = ShareUserSerializer(read_only=True, allow_null=True)
    url = serializers.SerializerMethodField(help_text="The public run URL; only in the response that creates a link.")

    class Meta:
        model = Share
        fields = ["id", "target_type", "target_id", "permission", "public", "user", "token_prefix", "url", "created_at"]
        read_only_fields = fields

    def get_url(self, share: Share) -> str | None:
        token = self.context.get("token")
        if not token:
            return None
        return f"{settings.ATHENA_PUBLIC_URL}/api/v1/public/agents/{token}/run"


# --- training and generation ----------------------------------------------------------------


class ExampleSerializer(serializers.Serializer):
    input = serializers.CharField(max_length=20_000)
    output = serializers.CharField(max_length=20_000)


class DocumentSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    content = serializers.CharField(max_length=MAX_TRAINING_TEXT)


class FeedbackSerializer(serializers.Serializer):
    run_id = serializers.UUIDField()
    rating = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    correction = serializers.CharField(max_length=20_000, required=False, allow_blank=True)


class TrainRequestSerializer(serializers.Serializer):
    examples = ExampleSerializer(many=True, required=False, default=list)
    documents = DocumentSerializer(many=True, required=False, default=list)
    feedback = FeedbackSerializer(many=True, required=False, default=list)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        total = len(attrs["examples"]) + len(attrs["documents"]) + len(attrs["feedback"])
        limit = int(agent_setting("ATHENA_AGENT_MAX_TRAINING_ITEMS"))
        if total == 0:
            raise serializers.ValidationError({"examples": ["Send at least one example, document or feedback."]})
        if total > limit:
            raise serializers.ValidationError({"examples": [f"Send at most {limit} items per job."]})
        for item in attrs["feedback"]:
            item["run_id"] = str(item["run_id"])
        return attrs


class TrainingJobSerializer(serializers.ModelSerializer):
    agent_id = serializers.UUIDField(read_only=True)
    status = serializers.ChoiceField(choices=JobStatus.choices, read_only=True)
    counts = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    errors = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = TrainingJob
        fields = ["id", "agent_id", "status", "counts", "errors", "created_at", "started_at", "finished_at"]
        read_only_fields = fields


class GenerateRequestSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=5000)
    model_id = serializers.UUIDField(required=False, allow_null=True)
    account_id = serializers.UUIDField(required=False, allow_null=True)
    save = serializers.BooleanField(required=False, default=False)


class AgentDraftSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    instructions = serializers.CharField()
    tools = ToolSerializer(many=True)
    model_id = serializers.UUIDField()
    account_id = serializers.UUIDField()


class GenerateResultSerializer(serializers.Serializer):
    draft = AgentDraftSerializer()
    agent = AgentSerializer(allow_null=True)


# --- leaderboard ---------------------------------------------------------------------------


class LeaderboardQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=list(LEADERBOARD_PERIODS), default="30d")
    ordering = serializers.ChoiceField(choices=LEADERBOARD_ORDERINGS, default="-score")


class AgentSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.CharField()


class AgentLeaderboardSerializer(serializers.Serializer):
    agent = AgentSummarySerializer()
    runs = serializers.IntegerField()
    success_rate = serializers.FloatField(help_text="Succeeded runs divided by finished runs, 0 to 1.")
    average_rating = serializers.FloatField(allow_null=True)
    p50_latency_ms = serializers.IntegerField(allow_null=True, help_text="Median latency.")
    average_cost = serializers.DecimalField(max_digits=14, decimal_places=8, allow_null=True, help_text="US dollars.")
    score = serializers.FloatField(help_text="0 to 100; see docs/agents.md for the formula.")


# --- memories ---------------------------------------------------------------------------------


class MemorySerializer(serializers.ModelSerializer):
    workspace_id = serializers.UUIDField(read_only=True)
    agent_id = serializers.UUIDField(read_only=True, allow_null=True)
    user_id = serializers.UUIDField(read_only=True, allow_null=True)
    has_embedding = serializers.SerializerMethodField()

    class Meta:
        model = Memory
        fields = [
            "id",
            "workspace_id",
            "agent_id",
            "user_id",
            "thread_id",
            "kind",
            "content",
            "metadata",
            "importance",
            "source",
            "has_embedding",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_has_embedding(self, memory: Memory) -> bool:
        return memory.embedding is not None


class MemoryWriteSerializer(serializers.Serializer):
    agent_id = serializers.UUIDField(required=False, allow_null=True)
    thread_id = serializers.UUIDField(required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=MemoryKind.choices, default=MemoryKind.FACT)
    content = serializers.CharField(trim_whitespace=False)
    metadata = serializers.DictField(required=False)
    importance = serializers.FloatField(min_value=0, max_value=1, required=False)

    def validate_content(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
        if len(value) > _max_input():
            raise serializers.ValidationError(f"Ensure this field has no more than {_max_input()} characters.")
        return value


class MemoryListQuerySerializer(serializers.Serializer):
    agent = serializers.UUIDField(required=False, help_text="Only memories of this agent.")
    kind = serializers.ChoiceField(choices=MemoryKind.choices, required=False)
    search = serializers.CharField(required=False, allow_blank=True, max_length=1000, help_text="Rank by relevance.")


# --- prompts -----------------------------------------------------------------------------------


class PromptVariableSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64)
    type = serializers.ChoiceField(choices=VARIABLE_TYPES, default="string")
    required = serializers.BooleanField(default=True)
    default = serializers.JSONField(required=False, allow_null=True)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)


class PromptSerializer(serializers.ModelSerializer):
    workspace_id = serializers.UUIDField(read_only=True)
    model_id = serializers.UUIDField(read_only=True, allow_null=True)
    account_id = serializers.UUIDField(read_only=True, allow_null=True)
    variables = PromptVariableSerializer(many=True, read_only=True)
    created_by = serializers.UUIDField(source="created_by_id", read_only=True, allow_null=True)

    class Meta:
        model = Prompt
        fields = [
            "id",
            "workspace_id",
            "name",
            "description",
            "template",
            "variables",
            "model_id",
            "account_id",
            "version",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PromptWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    template = serializers.CharField(max_length=100_000, trim_whitespace=False)
    variables = PromptVariableSerializer(many=True, required=False)
    model_id = serializers.UUIDField(required=False, allow_null=True)
    account_id = serializers.UUIDField(required=False, allow_null=True)


class PromptVersionSerializer(serializers.ModelSerializer):
    variables = PromptVariableSerializer(many=True, read_only=True)

    class Meta:
        model = PromptVersion
        fields = ["id", "number", "template", "variables", "created_at"]
        read_only_fields = fields


class PromptRunRequestSerializer(serializers.Serializer):
    variables = serializers.DictField(required=False, default=dict)
    model_id = serializers.UUIDField(required=False, allow_null=True)
    account_id = serializers.UUIDField(required=False, allow_null=True)


class PromptRunResultSerializer(serializers.Serializer):
    output = serializers.CharField(allow_blank=True)
    rendered = serializers.CharField(allow_blank=True, help_text="The text sent to the model.")
    version = serializers.IntegerField(help_text="The prompt version used.")
    usage = UsageSerializer()
    cost = serializers.DecimalField(max_digits=14, decimal_places=8, allow_null=True)
    latency_ms = serializers.IntegerField()
    finish_reason = serializers.CharField(allow_null=True)
