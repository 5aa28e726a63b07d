"""Workflow actions for sharing, versions, export and import, mixed into `WorkflowViewSet`."""

from typing import Any

from django.db.models import Model, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from agents.api.serializers import ShareCreateSerializer
from workflows import selectors
from workflows.api import lifecycle_examples as examples
from workflows.api.lifecycle_serializers import (
    WorkflowExportSerializer,
    WorkflowImportQuerySerializer,
    WorkflowImportRequestSerializer,
    WorkflowImportResultSerializer,
    WorkflowShareSerializer,
    WorkflowVersionDetailSerializer,
    WorkflowVersionDiffSerializer,
    WorkflowVersionSerializer,
)
from workflows.api.serializers import WorkflowSerializer, WorkflowWriteSerializer
from workflows.services import sharing, transfer, versions

# Share grants do not reach these actions: only members of the workflow's workspace manage shares.
MEMBER_ONLY_ACTIONS = ("share", "shares", "share_delete", "destroy")
LIFECYCLE_ABILITIES = {
    "share": "workflows:write",
    "shares": "workflows:read",
    "share_delete": "workflows:write",
    "versions": "workflows:read",
    "version": "workflows:read",
    "version_diff": "workflows:read",
    "version_restore": "workflows:write",
    "export": "workflows:read",
    "import_workflow": "workflows:write",
}
SHARE_ID = OpenApiParameter("share_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The share's id.")
NUMBER = OpenApiParameter("number", OpenApiTypes.INT, OpenApiParameter.PATH, description="A version number.")
OTHER = OpenApiParameter("other", OpenApiTypes.INT, OpenApiParameter.PATH, description="The version to compare with.")


class WorkflowLifecycleMixin:
    """Share a workflow, read, compare and restore its versions, export it, and import workflows.

    Mixed into a `WorkspaceScopedViewSet`, before it among the bases; it adds the share hooks
    and the abilities of its actions.
    """

    def get_required_ability(self) -> str:
        action_name = getattr(self, "action", None)
        if action_name in LIFECYCLE_ABILITIES:
            return LIFECYCLE_ABILITIES[action_name]
        return super().get_required_ability()

    def get_shared_queryset(self) -> QuerySet:
        return selectors.workflow_shared_with_user(user=self.request.user)

    def get_share_permission(self, obj: Model) -> str | None:
        if getattr(self, "action", None) in MEMBER_ONLY_ACTIONS:
            return None
        return selectors.workflow_share_permission(workflow=obj, user=self.request.user)

    # --- shares ---

    @extend_schema(
        summary="Share a workflow with a user or by public link",
        description="`view` can read the workflow, `run` can also run it, `edit` can also change it; no share can "
        "delete or re-share. A public link runs the workflow through `POST public/workflows/{share_token}/run`; "
        "its URL (with the token) appears only in this response.",
        request=ShareCreateSerializer,
        responses={201: WorkflowShareSerializer},
        examples=[examples.SHARE_USER, examples.SHARE_PUBLIC, examples.SHARE],
    )
    @action(detail=True, methods=["post"])
    def share(self, request: Request, pk: str | None = None) -> Response:
        workflow = self.get_object()
        serializer = ShareCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        share, token = sharing.workflow_share(
            workflow=workflow, permission=data["permission"], created_by=request.user, user_email=data.get("user_email")
        )
        return Response(WorkflowShareSerializer(share, context={"token": token}).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="List a workflow's shares", responses=WorkflowShareSerializer(many=True))
    @action(detail=True, methods=["get"])
    def shares(self, request: Request, pk: str | None = None) -> Response:
        workflow = self.get_object()
        page = self.paginate_queryset(sharing.workflow_share_list(workflow=workflow))
        return self.get_paginated_response(WorkflowShareSerializer(page, many=True).data)

    @extend_schema(summary="Revoke a workflow share", parameters=[SHARE_ID], responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"shares/(?P<share_id>[^/.]+)")
    def share_delete(self, request: Request, pk: str | None = None, share_id: str | None = None) -> Response:
        workflow = self.get_object()
        sharing.workflow_share_revoke(workflow=workflow, share_id=share_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- versions ---

    @extend_schema(
        summary="List a workflow's versions, newest first",
        description="Every change of the nodes, edges or variables records a version; executions name the "
        "version they ran (`version`).",
        responses=WorkflowVersionSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, pk: str | None = None) -> Response:
        workflow = self.get_object()
        page = self.paginate_queryset(versions.version_list(workflow=workflow))
        return self.get_paginated_response(WorkflowVersionSerializer(page, many=True).data)

    @extend_schema(
        summary="Get one version of a workflow", parameters=[NUMBER], responses=WorkflowVersionDetailSerializer
    )
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>[^/.]+)")
    def version(self, request: Request, pk: str | None = None, number: str | None = None) -> Response:
        version = versions.version_get(workflow=self.get_object(), number=number)
        return Response(WorkflowVersionDetailSerializer(version).data)

    @extend_schema(
        summary="Compare two versions of a workflow",
        description="Changes from version `number` to version `other`: nodes added, removed and changed (with "
        "the changed fields and parameters), edges added and removed, variables added, removed and changed.",
        parameters=[NUMBER, OTHER],
        responses=WorkflowVersionDiffSerializer,
        examples=[examples.DIFF],
    )
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>[^/.]+)/diff/(?P<other>[^/.]+)")
    def version_diff(
        self, request: Request, pk: str | None = None, number: str | None = None, other: str | None = None
    ) -> Response:
        workflow = self.get_object()
        old = versions.version_get(workflow=workflow, number=number)
        new = versions.version_get(workflow=workflow, number=other)
        return Response(WorkflowVersionDiffSerializer(versions.version_diff(old=old, new=new)).data)

    @extend_schema(
        summary="Restore a version of a workflow",
        description="Records a new version whose nodes, edges and variables equal version `number`. 409 "
        "`version_is_current` when the workflow already equals it; 422 when that graph no longer validates.",
        parameters=[NUMBER],
        request=None,
        responses=WorkflowSerializer,
    )
    @action(detail=True, methods=["post"], url_path=r"versions/(?P<number>[^/.]+)/restore")
    def version_restore(self, request: Request, pk: str | None = None, number: str | None = None) -> Response:
        workflow = versions.version_restore(workflow=self.get_object(), number=number, user=request.user)
        return Response(WorkflowSerializer(workflow).data)

    # --- export and import ---

    @extend_schema(
        summary="Export a workflow as a self-contained document",
        description="Accounts are named by provider and name, models by provider and model, prompts and "
        "workflows by name, agents by slug. Credentials, the webhook secret and workspace secrets are never "
        "included.",
        responses=WorkflowExportSerializer,
        examples=[examples.EXPORT],
    )
    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: str | None = None) -> Response:
        return Response(transfer.workflow_export(workflow=self.get_object()))

    @extend_schema(
        summary="Import a workflow from an export or an n8n workflow file",
        description="The body is an Athena export (with or without its `data` envelope) or an n8n workflow "
        "export, detected from its shape. Account references are matched to this workspace's accounts by "
        "provider and name (n8n credentials by name); the report lists what did not match and, for n8n, what "
        "happened to each node. Nothing is created when the resulting graph does not validate (422).",
        parameters=[WorkflowImportQuerySerializer],
        request=WorkflowImportRequestSerializer,
        responses={201: WorkflowImportResultSerializer},
        examples=[examples.IMPORT_N8N, examples.IMPORT_RESULT],
    )
    @action(detail=False, methods=["post"], url_path="import")
    def import_workflow(self, request: Request) -> Response:
        query = WorkflowImportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        workspace = self.get_permission_workspace()
        data, report = transfer.workflow_import_prepare(workspace=workspace, document=request.data)
        if query.validated_data.get("name"):
            data["name"] = query.validated_data["name"]
        serializer = WorkflowWriteSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        result = transfer.workflow_import(
            workspace=workspace, user=request.user, data=_write_data(serializer), report=report
        )
        body = {"workflow": result.workflow, "report": result.report}
        return Response(WorkflowImportResultSerializer(body).data, status=status.HTTP_201_CREATED)


def _write_data(serializer: WorkflowWriteSerializer) -> dict[str, Any]:
    data = dict(serializer.validated_data)
    if (data.get("settings") or {}).get("error_workflow"):
        data["settings"]["error_workflow"] = str(data["settings"]["error_workflow"])
    return data
