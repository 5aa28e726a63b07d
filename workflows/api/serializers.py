"""Serializers of the workflows API: input serializers bound requests, output ones render."""

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from workflows.models import ExecutionMode, ExecutionStatus, Workflow, WorkflowExecution, WorkflowNodeRun

MAX_GRAPH_ITEMS = 2000


class WorkflowSettingsSerializer(serializers.Serializer):
    timeout_seconds = serializers.IntegerField(
        min_value=1, max_value=7 * 24 * 3600, required=False, allow_null=True, help_text="Null means no limit."
    )
    max_concurrency = serializers.IntegerField(
        min_value=0, max_value=1000, required=False, help_text="0 means no limit."
    )
    save_execution_data = serializers.ChoiceField(choices=["all", "errors", "none"], required=False)
    error_workflow = serializers.UUIDField(required=False, allow_null=True)

    class Meta:
        ref_name = "WorkflowSettings"


class WorkflowWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    nodes = serializers.JSONField(required=False, help_text="List of nodes (see the Node schema).")
    edges = serializers.JSONField(required=False, help_text="List of edges (see the Edge schema).")
    variables = serializers.DictField(required=False, help_text="Default values of `vars`.")
    settings = WorkflowSettingsSerializer(required=False)
    active = serializers.BooleanField(required=False)
    webhook_secret = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Enables signed webhooks; empty removes it.",
    )
    webhook_rate_limit = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    version_note = serializers.CharField(max_length=500, required=False, allow_blank=True)

    class Meta:
        ref_name = "WorkflowWrite"

    def validate_nodes(self, value: Any) -> Any:
        if not isinstance(value, list) or len(value) > MAX_GRAPH_ITEMS:
            raise serializers.ValidationError(f"Must be a list of at most {MAX_GRAPH_ITEMS} nodes.")
        return value

    def validate_edges(self, value: Any) -> Any:
        if not isinstance(value, list) or len(value) > MAX_GRAPH_ITEMS:
            raise serializers.ValidationError(f"Must be a list of at most {MAX_GRAPH_ITEMS} edges.")
        return value

    def validate_variables(self, value: dict) -> dict:
        if len(value) > 200:
            raise serializers.ValidationError("At most 200 variables.")
        return value


class NodeSerializer(serializers.Serializer):
    id = serializers.CharField()
    type = serializers.CharField()
    name = serializers.CharField()
    position = serializers.DictField()
    parameters = serializers.DictField()
    disabled = serializers.BooleanField()
    notes = serializers.CharField()
    retry = serializers.DictField(allow_null=True)
    timeout_seconds = serializers.FloatField(allow_null=True)
    on_error = serializers.ChoiceField(choices=["stop", "continue"])
    sample_output = serializers.JSONField(allow_null=True)

    class Meta:
        ref_name = "Node"


class EdgeSerializer(serializers.Serializer):
    id = serializers.CharField()
    source = serializers.CharField()
    target = serializers.CharField()
    source_handle = serializers.CharField()
    target_handle = serializers.CharField()

    class Meta:
        ref_name = "Edge"


class WorkflowSerializer(serializers.ModelSerializer):
    nodes = NodeSerializer(many=True)
    edges = EdgeSerializer(many=True)
    settings = WorkflowSettingsSerializer()
    webhook_url = serializers.SerializerMethodField()
    webhook_signed = serializers.SerializerMethodField()
    workspace_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Workflow
        ref_name = "Workflow"
        fields = [
            "id",
            "workspace_id",
            "name",
            "description",
            "nodes",
            "edges",
            "variables",
            "settings",
            "active",
            "webhook_url",
            "webhook_signed",
            "webhook_rate_limit",
            "schedule_cron",
            "schedule_timezone",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_webhook_url(self, workflow: Workflow) -> str:
        return f"{settings.ATHENA_PUBLIC_URL}/api/v1/hooks/{workflow.webhook_token}"

    def get_webhook_signed(self, workflow: Workflow) -> bool:
        return bool(workflow.webhook_secret is not None and workflow.webhook_secret.reveal())


class RunSerializer(serializers.Serializer):
    input = serializers.JSONField(
        required=False, allow_null=True, help_text="The trigger body: `trigger.body` and the trigger node's output."
    )

    class Meta:
        ref_name = "WorkflowRun"


class WebhookTriggerSerializer(serializers.Serializer):
    body = serializers.JSONField(required=False, allow_null=True)
    headers = serializers.DictField(child=serializers.CharField(max_length=8000), required=False)
    query = serializers.DictField(required=False)

    class Meta:
        ref_name = "WorkflowWebhookTrigger"


class NodeRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkflowNodeRun
        ref_name = "WorkflowNodeRun"
        fields = [
            "id",
            "node_id",
            "node_type",
            "item_index",
            "status",
            "input",
            "output",
            "handles",
            "error",
            "attempts",
            "reused",
            "prompt_tokens",
            "completion_tokens",
            "cost",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class WorkflowExecutionSerializer(serializers.ModelSerializer):
    workflow_id = serializers.UUIDField(read_only=True, allow_null=True)
    version = serializers.SerializerMethodField()
    waiting_for = serializers.SerializerMethodField()

    class Meta:
        model = WorkflowExecution
        ref_name = "WorkflowExecution"
        fields = [
            "id",
            "workflow_id",
            "version",
            "status",
            "mode",
            "error",
            "idempotency_key",
            "recoveries",
            "resume_at",
            "waiting_for",
            "retry_of",
            "parent_execution",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_version(self, execution: WorkflowExecution) -> int | None:
        return ((execution.workflow_data or {}).get("workflow") or {}).get("version")

    @extend_schema_field({"type": "array", "items": {"type": "object"}})
    def get_waiting_for(self, execution: WorkflowExecution) -> list[dict]:
        if execution.status != ExecutionStatus.WAITING:
            return []
        runs = execution.node_runs.filter(status="running")
        return [{"node_id": run.node_id, "node_type": run.node_type, "state": _public_state(run.state)} for run in runs]


def _public_state(state: dict) -> dict:
    return {
        key: value for key, value in (state or {}).items() if key in ("until", "message", "expires_at", "requested_at")
    }


class WorkflowExecutionDataSerializer(serializers.Serializer):
    workflow_data = serializers.JSONField()
    trigger = serializers.JSONField(source="trigger_payload")
    output = serializers.JSONField()
    response = serializers.JSONField()
    node_runs = NodeRunSerializer(many=True)

    class Meta:
        ref_name = "WorkflowExecutionData"


class WorkflowExecutionDetailSerializer(WorkflowExecutionSerializer):
    data = serializers.SerializerMethodField()

    class Meta(WorkflowExecutionSerializer.Meta):
        ref_name = "WorkflowExecutionDetail"
        fields = [*WorkflowExecutionSerializer.Meta.fields, "data"]
        read_only_fields = fields

    @extend_schema_field(WorkflowExecutionDataSerializer)
    def get_data(self, execution: WorkflowExecution) -> dict:
        execution.node_runs_ordered = list(execution.node_runs.order_by("created_at", "item_index"))
        return WorkflowExecutionDataSerializer(
            {
                "workflow_data": execution.workflow_data,
                "trigger_payload": execution.trigger_payload,
                "output": execution.output,
                "response": execution.response,
                "node_runs": execution.node_runs_ordered,
            }
        ).data


class ExecutionListQuerySerializer(serializers.Serializer):
    workflow = serializers.UUIDField(required=False)
    status = serializers.ChoiceField(choices=ExecutionStatus.choices, required=False)
    mode = serializers.ChoiceField(choices=ExecutionMode.choices, required=False)
    started_after = serializers.DateTimeField(required=False)
    started_before = serializers.DateTimeField(required=False)
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)


class ExecutionCountsSerializer(serializers.Serializer):
    queued = serializers.IntegerField()
    running = serializers.IntegerField()
    waiting = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    canceled = serializers.IntegerField()
    total = serializers.IntegerField()

    class Meta:
        ref_name = "WorkflowExecutionCounts"


class RetrySerializer(serializers.Serializer):
    from_node = serializers.CharField(max_length=100, required=False)
    use_latest_version = serializers.BooleanField(required=False, default=False)

    class Meta:
        ref_name = "WorkflowExecutionRetry"


class ResumeSerializer(serializers.Serializer):
    node_id = serializers.CharField(max_length=100)
    decision = serializers.ChoiceField(choices=["approve", "reject"])
    data = serializers.JSONField(required=False, allow_null=True)

    class Meta:
        ref_name = "WorkflowExecutionResume"


class WorkflowListQuerySerializer(serializers.Serializer):
    active = serializers.BooleanField(required=False, allow_null=True, default=None)
    trigger = serializers.ChoiceField(choices=["manual", "webhook", "schedule"], required=False)
