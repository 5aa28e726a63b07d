"""Test runs and generation on the workflows API: `workflows/test`, `workflows/{id}/nodes/{node_id}/test`
and `workflows/generate`, added to WorkflowViewSet by a mixin.
"""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from workflows.api.serializers import (
    MAX_GRAPH_ITEMS,
    WorkflowExecutionDetailSerializer,
    WorkflowExecutionSerializer,
    WorkflowSerializer,
)
from workflows.models import WorkflowExecution, WorkflowNodeRun
from workflows.services.generation import workflow_generate
from workflows.services.testing import node_test_run, workflow_test_run
from workflows.validation import NODE_ID_PATTERN
from workspaces.permissions import check_permission

MAX_PINNED_NODES = 500
MAX_VARIABLES = 200
MAX_HEADERS = 100
TEST_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
# Running a graph live sends its requests, model calls and sub-workflow runs for real, which
# is as powerful as saving the graph and running it, so it needs the right to edit workflows.
LIVE_ABILITY = "workflows:write"
TESTING_ABILITIES = {"test": "workflows:run", "test_node": "workflows:run", "generate": "workflows:write"}


def _check_pinned_size(value: dict) -> dict:
    if len(value) > MAX_PINNED_NODES:
        raise serializers.ValidationError(f"At most {MAX_PINNED_NODES} pinned nodes.")
    return value


class WorkflowTestTriggerSerializer(serializers.Serializer):
    body = serializers.JSONField(required=False, allow_null=True, help_text="`trigger.body` and the trigger's output.")
    headers = serializers.DictField(child=serializers.CharField(max_length=8000), required=False)
    query = serializers.DictField(required=False)
    method = serializers.ChoiceField(choices=TEST_METHODS, required=False)
    node_id = serializers.RegexField(
        NODE_ID_PATTERN, required=False, help_text="The trigger node that starts the run; every trigger when empty."
    )

    class Meta:
        ref_name = "WorkflowTestTrigger"

    def validate_headers(self, value: dict) -> dict:
        if len(value) > MAX_HEADERS:
            raise serializers.ValidationError(f"At most {MAX_HEADERS} headers.")
        return value


class WorkflowTestSerializer(serializers.Serializer):
    nodes = serializers.JSONField(help_text="List of nodes (see the Node schema).")
    edges = serializers.JSONField(required=False, default=list, help_text="List of edges (see the Edge schema).")
    variables = serializers.DictField(required=False, default=dict, help_text="Values of `vars`.")
    trigger = WorkflowTestTriggerSerializer(required=False)
    pinned = serializers.DictField(
        required=False, default=dict, help_text="Node id -> the fixed output the node returns instead of running."
    )
    live = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Call out for real from http_request, llm, agent, prompt and sub_workflow nodes. "
        "Needs the right to edit workflows.",
    )

    class Meta:
        ref_name = "WorkflowTestRequest"

    def validate_nodes(self, value: Any) -> Any:
        if not isinstance(value, list) or len(value) > MAX_GRAPH_ITEMS:
            raise serializers.ValidationError(f"Must be a list of at most {MAX_GRAPH_ITEMS} nodes.")
        return value

    def validate_edges(self, value: Any) -> Any:
        if not isinstance(value, list) or len(value) > MAX_GRAPH_ITEMS:
            raise serializers.ValidationError(f"Must be a list of at most {MAX_GRAPH_ITEMS} edges.")
        return value

    def validate_variables(self, value: dict) -> dict:
        if len(value) > MAX_VARIABLES:
            raise serializers.ValidationError(f"At most {MAX_VARIABLES} variables.")
        return value

    def validate_pinned(self, value: dict) -> dict:
        return _check_pinned_size(value)


class NodeTestSerializer(serializers.Serializer):
    input = serializers.JSONField(required=False, allow_null=True, default=None, help_text="The node's input.")
    pinned = serializers.DictField(
        required=False, default=dict, help_text="Node id -> output, for expressions that read `nodes.<id>.output`."
    )
    live = serializers.BooleanField(
        required=False, default=False, help_text="Call out for real. Needs the right to edit the workflow."
    )

    class Meta:
        ref_name = "WorkflowNodeTestRequest"

    def validate_pinned(self, value: dict) -> dict:
        return _check_pinned_size(value)


class NodeTestResultSerializer(serializers.Serializer):
    execution_id = serializers.UUIDField()
    status = serializers.CharField(help_text="The test execution's status.")
    node_id = serializers.CharField()
    node_status = serializers.CharField(allow_null=True, help_text="The node run's status; null while queued.")
    output = serializers.JSONField(allow_null=True)
    error = serializers.JSONField(allow_null=True)
    handles = serializers.ListField(child=serializers.CharField())
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "WorkflowNodeTestResult"


class GenerateRequestSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=5000, help_text="What the workflow should do, in plain words.")
    model_id = serializers.UUIDField(required=False, allow_null=True, default=None)
    save = serializers.BooleanField(required=False, default=False, help_text="Also save the draft as a workflow.")

    class Meta:
        ref_name = "WorkflowGenerateRequest"


class WorkflowDraftSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    nodes = serializers.ListField(child=serializers.DictField())
    edges = serializers.ListField(child=serializers.DictField())
    sample_input = serializers.JSONField(allow_null=True, help_text="The trigger body of the draft's test run.")

    class Meta:
        ref_name = "WorkflowDraft"


class GenerateResultSerializer(serializers.Serializer):
    draft = WorkflowDraftSerializer()
    attempts = serializers.IntegerField(help_text="Model replies used: 1, plus one per repair.")
    execution = WorkflowExecutionDetailSerializer(help_text="The draft's test run, not live.")
    workflow = WorkflowSerializer(allow_null=True, help_text="The saved workflow when `save` was true.")

    class Meta:
        ref_name = "WorkflowGenerateResult"


def _error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=OpenApiTypes.OBJECT, description=description)


EXAMPLE_GRAPH = {
    "nodes": [
        {"id": "start", "type": "trigger.manual"},
        {
            "id": "fetch",
            "type": "http_request",
            "parameters": {"url": "https://api.example.com/orders/{{ input.order }}"},
            "sample_output": {"status": 200, "body": {"state": "shipped"}},
        },
        {"id": "reply", "type": "template", "parameters": {"template": "Order is {{ input.body.state }}."}},
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "fetch"},
        {"id": "e2", "source": "fetch", "target": "reply"},
    ],
}
TEST_EXAMPLE = OpenApiExample(
    "Test an unsaved graph",
    request_only=True,
    value={**EXAMPLE_GRAPH, "trigger": {"body": {"order": 42}}, "pinned": {}, "live": False},
)
NODE_TEST_EXAMPLE = OpenApiExample(
    "Test one node", request_only=True, value={"input": {"order": 42}, "pinned": {}, "live": False}
)
GENERATE_EXAMPLE = OpenApiExample(
    "Generate a workflow",
    request_only=True,
    value={"description": "When a webhook receives an order, post its total to https://hooks.example.com/orders."},
)


class WorkflowTestingMixin:
    """Actions that test graphs and nodes without saving, and draft workflows with an LLM."""

    def get_required_ability(self) -> str:
        action_name = getattr(self, "action", None)
        if action_name in TESTING_ABILITIES:
            return TESTING_ABILITIES[action_name]
        return super().get_required_ability()

    def _check_live(self, *, workspace: Any, workflow: Any = None) -> None:
        """Raise 403 unless the caller may edit workflows, which a live test needs."""
        check_permission(
            request=self.request,
            workspace=workspace,
            required=LIVE_ABILITY,
            object_id=workflow.pk if workflow is not None else None,
            share_permission=self.get_share_permission(workflow) if workflow is not None else None,
        )

    @extend_schema(
        summary="Test an unsaved graph",
        description="Runs `nodes` and `edges` as an execution in mode `test`, without saving a workflow. "
        "Nodes that call out (http_request, llm, agent, prompt, sub_workflow) return their `sample_output` "
        "unless `live` is true; `pinned` fixes the output of chosen nodes. Answers 200 with the finished "
        "execution, or 202 when it is still running, waiting or queued after the sync timeout; read it "
        "later with `GET workflow-executions/{id}`.",
        request=WorkflowTestSerializer,
        responses={200: WorkflowExecutionDetailSerializer, 202: WorkflowExecutionSerializer},
        examples=[TEST_EXAMPLE],
    )
    @action(detail=False, methods=["post"], url_path="test")
    def test(self, request: Request) -> Response:
        serializer = WorkflowTestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        workspace = self.get_permission_workspace()
        if data["live"]:
            self._check_live(workspace=workspace)

        execution = workflow_test_run(workspace=workspace, user=request.user, **data)
        return _execution_response(execution)

    @extend_schema(
        summary="Test one node of a workflow",
        description="Runs the node `node_id` of the saved workflow on `input` as an execution in mode `test` "
        "and returns its output or error. Nodes that call out return their `sample_output` unless `live` is "
        "true. Answers 202 when the node is still running or waiting after the sync timeout.",
        parameters=[OpenApiParameter("node_id", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=NODE_ID_PATTERN)],
        request=NodeTestSerializer,
        responses={200: NodeTestResultSerializer, 202: NodeTestResultSerializer},
        examples=[NODE_TEST_EXAMPLE],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"nodes/(?P<node_id>[A-Za-z0-9_-]{1,100})/test",
        url_name="node-test",
    )
    def test_node(self, request: Request, pk: str | None = None, node_id: str | None = None) -> Response:
        workflow = self.get_object()
        serializer = NodeTestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["live"]:
            self._check_live(workspace=workflow.workspace, workflow=workflow)

        execution, run = node_test_run(workflow=workflow, node_id=node_id, user=request.user, **data)
        body = NodeTestResultSerializer(_node_result(execution, node_id, run)).data
        code = status.HTTP_200_OK if execution.is_finished else status.HTTP_202_ACCEPTED
        return Response(body, status=code)

    @extend_schema(
        summary="Draft a workflow from a description",
        description="An LLM drafts nodes and edges from Athena's node catalogue. Drafts that fail the save "
        "validator go back to the model with the errors, at most twice; then 502 `generation_failed` lists "
        "the remaining errors. The valid draft is test-run once (not live) and `save: true` also saves it "
        "(201).",
        request=GenerateRequestSerializer,
        responses={
            200: GenerateResultSerializer,
            201: GenerateResultSerializer,
            502: _error_response("`generation_failed` with `errors`, or the LLM provider failed."),
            503: _error_response("The LLM provider is unavailable."),
            504: _error_response("The LLM provider did not answer in time."),
        },
        examples=[GENERATE_EXAMPLE],
    )
    @action(detail=False, methods=["post"])
    def generate(self, request: Request) -> Response:
        serializer = GenerateRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = workflow_generate(workspace=self.get_permission_workspace(), user=request.user, **data)
        code = status.HTTP_201_CREATED if result["workflow"] is not None else status.HTTP_200_OK
        return Response(GenerateResultSerializer(result).data, status=code)


def _execution_response(execution: WorkflowExecution) -> Response:
    if execution.is_finished:
        return Response(WorkflowExecutionDetailSerializer(execution).data)
    return Response(WorkflowExecutionSerializer(execution).data, status=status.HTTP_202_ACCEPTED)


def _node_result(execution: WorkflowExecution, node_id: str, run: WorkflowNodeRun | None) -> dict[str, Any]:
    return {
        "execution_id": execution.pk,
        "status": execution.status,
        "node_id": node_id,
        "node_status": run.status if run else None,
        "output": run.output if run else None,
        "error": run.error if run else None,
        "handles": run.handles if run else [],
        "started_at": run.started_at if run else None,
        "finished_at": run.finished_at if run else None,
    }
