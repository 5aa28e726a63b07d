"""Viewsets of the workflows API: workflows and their triggers, and executions."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from workflows import selectors
from workflows.api.lifecycle import WorkflowLifecycleMixin
from workflows.api.serializers import (
    ExecutionCountsSerializer,
    ExecutionListQuerySerializer,
    ResumeSerializer,
    RetrySerializer,
    RunSerializer,
    WebhookTriggerSerializer,
    WorkflowExecutionDetailSerializer,
    WorkflowExecutionSerializer,
    WorkflowListQuerySerializer,
    WorkflowSerializer,
    WorkflowWriteSerializer,
)
from workflows.api.testing import WorkflowTestingMixin
from workflows.models import ExecutionMode, Workflow, WorkflowExecution
from workflows.services import executions as execution_services
from workflows.services import workflows as workflow_services
from workspaces.api.base import WorkspaceScopedViewSet

_TRIGGER_TYPES = {"manual": "trigger.manual", "webhook": "trigger.webhook", "schedule": "trigger.schedule"}


def _write_data(serializer: WorkflowWriteSerializer) -> dict[str, Any]:
    data = dict(serializer.validated_data)
    if "settings" in data and data["settings"].get("error_workflow"):
        data["settings"]["error_workflow"] = str(data["settings"]["error_workflow"])
    return data


@extend_schema(tags=["Workflow"])
@extend_schema_view(
    list=extend_schema(
        summary="List workflows",
        parameters=[
            OpenApiParameter(
                "active", OpenApiTypes.BOOL, description="Only active (true) or inactive (false) workflows."
            ),
            OpenApiParameter(
                "trigger", OpenApiTypes.STR, enum=list(_TRIGGER_TYPES), description="Only workflows with this trigger."
            ),
            OpenApiParameter("search", OpenApiTypes.STR, description="Text in the name or description."),
        ],
    ),
    retrieve=extend_schema(summary="Get a workflow"),
)
class WorkflowViewSet(WorkflowTestingMixin, WorkflowLifecycleMixin, WorkspaceScopedViewSet):
    """Workflows: graphs of nodes and edges run by API calls, webhooks and schedules."""

    serializer_class = WorkflowSerializer
    queryset = Workflow.objects.none()
    filter_backends: list = []
    required_abilities = {
        "list": "workflows:read",
        "create": "workflows:write",
        "retrieve": "workflows:read",
        "update": "workflows:write",
        "partial_update": "workflows:write",
        "destroy": "workflows:delete",
        "run": "workflows:run",
        "webhook": "workflows:run",
    }

    def get_scoped_queryset(self, *, workspace_ids: list[Any]) -> QuerySet:
        return selectors.workflow_list(workspace_ids=workspace_ids)

    def list(self, request: Request) -> Response:
        query = WorkflowListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        trigger = query.validated_data.get("trigger")
        workflows = selectors.workflow_filter(
            workflows=self.get_queryset(),
            active=query.validated_data.get("active"),
            search=request.query_params.get("search", "").strip(),
            trigger_type=_TRIGGER_TYPES[trigger] if trigger else None,
        )
        page = self.paginate_queryset(workflows.order_by("-created_at"))
        return self.get_paginated_response(WorkflowSerializer(page, many=True).data)

    @extend_schema(summary="Create a workflow", request=WorkflowWriteSerializer, responses={201: WorkflowSerializer})
    def create(self, request: Request) -> Response:
        serializer = WorkflowWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        workflow = workflow_services.workflow_create(
            workspace=self.get_permission_workspace(), user=request.user, data=_write_data(serializer)
        )
        return Response(WorkflowSerializer(workflow).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(WorkflowSerializer(self.get_object()).data)

    @extend_schema(summary="Replace a workflow", request=WorkflowWriteSerializer, responses=WorkflowSerializer)
    def update(self, request: Request, pk: str | None = None, partial: bool = False) -> Response:
        workflow = self.get_object()
        serializer = WorkflowWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        workflow = workflow_services.workflow_update(workflow=workflow, user=request.user, data=_write_data(serializer))
        return Response(WorkflowSerializer(workflow).data)

    @extend_schema(summary="Update a workflow", request=WorkflowWriteSerializer, responses=WorkflowSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return self.update(request, pk=pk, partial=True)

    @extend_schema(summary="Delete a workflow", responses={204: None})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        workflow_services.workflow_delete(workflow=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Run a workflow",
        description="Queues an execution whose trigger body is `input`; answers 202 at once.",
        request=RunSerializer,
        responses={202: WorkflowExecutionSerializer},
    )
    @action(detail=True, methods=["post"])
    def run(self, request: Request, pk: str | None = None) -> Response:
        workflow = self.get_object()
        serializer = RunSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        execution = workflow_services.workflow_run(
            workflow=workflow, user=request.user, body=serializer.validated_data.get("input"), mode=ExecutionMode.API
        )
        return Response(WorkflowExecutionSerializer(execution).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Trigger a workflow's webhook as an authenticated caller",
        description="Starts the workflow as its public webhook would, with `body`, `headers` and `query`.",
        request=WebhookTriggerSerializer,
        responses={202: WorkflowExecutionSerializer},
    )
    @action(detail=True, methods=["post"])
    def webhook(self, request: Request, pk: str | None = None) -> Response:
        workflow = self.get_object()
        serializer = WebhookTriggerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        execution = workflow_services.workflow_run(
            workflow=workflow,
            user=request.user,
            body=data.get("body"),
            mode=ExecutionMode.WEBHOOK,
            headers=data.get("headers"),
        )
        return Response(WorkflowExecutionSerializer(execution).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["Workflow Execution"])
@extend_schema_view(
    list=extend_schema(summary="List executions, newest first", parameters=[ExecutionListQuerySerializer]),
    retrieve=extend_schema(summary="Get an execution with its data", responses=WorkflowExecutionDetailSerializer),
)
class WorkflowExecutionViewSet(WorkspaceScopedViewSet):
    """Executions of workflows, with every node run's input and output."""

    serializer_class = WorkflowExecutionSerializer
    queryset = WorkflowExecution.objects.none()
    filter_backends: list = []
    required_abilities = {
        "list": "executions:read",
        "counts": "executions:read",
        "retrieve": "executions:read",
        "destroy": "executions:delete",
        "cancel": "executions:write",
        "retry": "workflows:run",
        "resume": "executions:write",
    }

    def get_scoped_queryset(self, *, workspace_ids: list[Any]) -> QuerySet:
        return selectors.execution_list(workspace_ids=workspace_ids)

    def get_ability_object_id(self, obj: WorkflowExecution) -> Any:
        # A token limited to one workflow (`workflows:run:<id>`) acts on that workflow's executions.
        return obj.workflow_id

    def _filtered(self, request: Request) -> QuerySet:
        query = ExecutionListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        executions = self.get_queryset()
        lookups = {
            "workflow": "workflow_id",
            "status": "status",
            "mode": "mode",
            "started_after": "started_at__gte",
            "started_before": "started_at__lte",
            "created_after": "created_at__gte",
            "created_before": "created_at__lte",
        }
        for name, lookup in lookups.items():
            if name in data:
                executions = executions.filter(**{lookup: data[name]})
        return executions

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self._filtered(request).order_by("-created_at"))
        return self.get_paginated_response(WorkflowExecutionSerializer(page, many=True).data)

    @extend_schema(
        summary="Count executions by status",
        parameters=[ExecutionListQuerySerializer],
        responses=ExecutionCountsSerializer,
    )
    @action(detail=False, methods=["get"])
    def counts(self, request: Request) -> Response:
        return Response(selectors.execution_counts(executions=self._filtered(request)))

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(WorkflowExecutionDetailSerializer(self.get_object()).data)

    @extend_schema(summary="Delete an execution", responses={204: None})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        execution_services.execution_delete(execution=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Cancel an execution", request=None, responses=WorkflowExecutionSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        execution = execution_services.execution_cancel(execution=self.get_object())
        return Response(WorkflowExecutionSerializer(execution).data)

    @extend_schema(
        summary="Retry an execution from its failed node",
        description="Creates a `retry` execution that reuses the results of the nodes before the failed node "
        "(or `from_node`) and runs that node and its successors again.",
        request=RetrySerializer,
        responses={202: WorkflowExecutionSerializer},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        execution = self.get_object()
        serializer = RetrySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        retry = execution_services.execution_retry(execution=execution, user=request.user, **serializer.validated_data)
        return Response(WorkflowExecutionSerializer(retry).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Approve or reject a waiting approval node",
        request=ResumeSerializer,
        responses={202: WorkflowExecutionSerializer},
    )
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        execution = self.get_object()
        serializer = ResumeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        execution = execution_services.execution_resume(
            execution=execution,
            node_id=data["node_id"],
            decision=data["decision"],
            data=data.get("data"),
            user=request.user,
        )
        return Response(WorkflowExecutionSerializer(execution).data, status=status.HTTP_202_ACCEPTED)
