"""Serializers of workflow sharing, versions, export and import."""

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agents.api.serializers import ShareSerializer
from workflows.api.serializers import EdgeSerializer, NodeSerializer, WorkflowSerializer
from workflows.models import WorkflowVersion


class WorkflowShareSerializer(ShareSerializer):
    class Meta(ShareSerializer.Meta):
        ref_name = "WorkflowShare"

    def get_url(self, share: Any) -> str | None:
        token = self.context.get("token")
        if not token:
            return None
        return f"{settings.ATHENA_PUBLIC_URL}/api/v1/public/workflows/{token}/run"


class WorkflowVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.UUIDField(source="created_by_id", read_only=True, allow_null=True)
    node_count = serializers.SerializerMethodField()

    class Meta:
        model = WorkflowVersion
        ref_name = "WorkflowVersion"
        fields = ["number", "note", "created_by", "created_at", "node_count"]
        read_only_fields = fields

    def get_node_count(self, version: WorkflowVersion) -> int:
        return len(version.nodes or [])


class WorkflowVersionDetailSerializer(WorkflowVersionSerializer):
    nodes = NodeSerializer(many=True)
    edges = EdgeSerializer(many=True)
    variables = serializers.DictField()

    class Meta(WorkflowVersionSerializer.Meta):
        ref_name = "WorkflowVersionDetail"
        fields = [*WorkflowVersionSerializer.Meta.fields, "nodes", "edges", "variables"]
        read_only_fields = fields


class NodeChangeSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    fields = serializers.DictField(help_text="Changed node fields: `{field: {from, to}}`.")
    parameters = serializers.DictField(help_text="Changed parameters: `{parameter: {from, to}}`.")

    class Meta:
        ref_name = "WorkflowNodeChange"


class NodeDiffSerializer(serializers.Serializer):
    added = NodeSerializer(many=True)
    removed = NodeSerializer(many=True)
    changed = NodeChangeSerializer(many=True)

    class Meta:
        ref_name = "WorkflowNodeDiff"


class EdgeDiffSerializer(serializers.Serializer):
    added = EdgeSerializer(many=True)
    removed = EdgeSerializer(many=True)

    class Meta:
        ref_name = "WorkflowEdgeDiff"


class VariableDiffSerializer(serializers.Serializer):
    added = serializers.ListField(child=serializers.CharField())
    removed = serializers.ListField(child=serializers.CharField())
    changed = serializers.ListField(child=serializers.CharField())

    class Meta:
        ref_name = "WorkflowVariableDiff"


class WorkflowVersionDiffSerializer(serializers.Serializer):
    from_version = serializers.IntegerField()
    to_version = serializers.IntegerField()
    nodes = NodeDiffSerializer()
    edges = EdgeDiffSerializer()
    variables = VariableDiffSerializer()

    class Meta:
        ref_name = "WorkflowVersionDiff"


class WorkflowExportSerializer(serializers.Serializer):
    """The export document; `workflow_import` accepts it back, with or without its `data` envelope."""

    format = serializers.CharField(help_text="Always `athena.workflow`.")
    format_version = serializers.IntegerField()
    exported_at = serializers.DateTimeField()
    workflow = serializers.DictField(
        help_text="name, description, active, webhook_rate_limit, version, nodes, edges, variables, settings."
    )
    references = serializers.DictField(
        help_text="accounts (provider, name), models (provider, model), prompts (name), workflows (name), each "
        "with the `ref:` string the nodes use in place of the id."
    )

    class Meta:
        ref_name = "WorkflowExport"


@extend_schema_field({"type": "object", "additionalProperties": True})
class _AnyObjectField(serializers.JSONField):
    pass


class WorkflowImportRequestSerializer(serializers.Serializer):
    """Documents the request only: the body is the export document or an n8n workflow export as is."""

    format = serializers.CharField(required=False, help_text="`athena.workflow` for an Athena export.")
    format_version = serializers.IntegerField(required=False)
    workflow = _AnyObjectField(required=False, help_text="The workflow of an Athena export.")
    references = _AnyObjectField(required=False)
    nodes = serializers.ListField(
        child=_AnyObjectField(), required=False, help_text="n8n: the nodes with type, typeVersion, parameters."
    )
    connections = _AnyObjectField(required=False, help_text="n8n: the connections by node name.")

    class Meta:
        ref_name = "WorkflowImportRequest"


class WorkflowImportQuerySerializer(serializers.Serializer):
    name = serializers.CharField(
        max_length=200, required=False, help_text="Name of the new workflow instead of the document's."
    )


class WorkflowImportResultSerializer(serializers.Serializer):
    workflow = WorkflowSerializer()
    report = _AnyObjectField(
        help_text="`source` (athena or n8n), `references` matched and unmatched per kind, `warnings`; for n8n "
        "also `summary` and `nodes` (status mapped, approximated, unsupported or skipped, with notes)."
    )

    class Meta:
        ref_name = "WorkflowImportResult"


class PublicRunSerializer(serializers.Serializer):
    input = serializers.JSONField(
        required=False, allow_null=True, help_text="The trigger body: `trigger.body` and the trigger node's output."
    )

    class Meta:
        ref_name = "WorkflowPublicRun"


class PublicRunResultSerializer(serializers.Serializer):
    execution_id = serializers.UUIDField()
    status = serializers.CharField()
    output = serializers.JSONField(allow_null=True, help_text="The execution's output once it succeeded.")
    error = serializers.JSONField(allow_null=True)

    class Meta:
        ref_name = "WorkflowPublicRunResult"
