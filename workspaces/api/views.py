"""Viewsets of the workspaces API: workspaces, members, invitations, variables and the command room."""

from typing import Any

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import filters, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from workspaces import selectors, services
from workspaces.api import examples
from workspaces.api.base import RequiredAbilityMixin, WorkspaceNestedViewSet, WorkspaceScopedViewSet
from workspaces.api.serializers import (
    CommandRoomTaskSerializer,
    CommandRoomTaskStoreSerializer,
    MemberCreateSerializer,
    MemberSerializer,
    MemberUpdateSerializer,
    TransferOwnershipSerializer,
    VariableCreateSerializer,
    VariableSerializer,
    VariableUpdateSerializer,
    WorkspaceDeleteQuerySerializer,
    WorkspaceMetricsQuerySerializer,
    WorkspaceMetricsSerializer,
    WorkspaceSerializer,
    WorkspaceWriteSerializer,
)
from workspaces.models import CommandRoomTask, Membership, Variable, Workspace
from workspaces.permissions import WorkspacePermission, check_ability
from workspaces.selectors import membership_role_for_request


def _role(request: Request, workspace: Workspace) -> str | None:
    return membership_role_for_request(request=request, workspace_id=workspace.pk)


@extend_schema(tags=["Workspace"])
@extend_schema_view(
    list=extend_schema(summary="List your workspaces", examples=[examples.WORKSPACE]),
    retrieve=extend_schema(summary="Get a workspace", examples=[examples.WORKSPACE]),
)
class WorkspaceViewSet(RequiredAbilityMixin, viewsets.GenericViewSet):
    """Your workspaces: each carries your `role` in it."""

    permission_classes = [IsAuthenticated, WorkspacePermission]
    serializer_class = WorkspaceSerializer
    queryset = Workspace.objects.none()
    filter_backends = [filters.SearchFilter, filters.OrderingFilter]
    search_fields = ["name", "slug"]
    ordering_fields = ["name", "created_at", "updated_at"]
    required_abilities = {
        "list": "workspaces:read",
        "create": "workspaces:write",
        "retrieve": "workspaces:read",
        "update": "workspaces:write",
        "partial_update": "workspaces:write",
        "destroy": "workspaces:delete",
        "metrics": "workspaces:read",
        "transfer_ownership": "workspaces:delete",
    }

    def get_permission_workspace(self) -> None:
        # Listing and creating act across your workspaces; one workspace is checked as the object.
        return None

    def get_object_workspace(self, obj: Workspace) -> Workspace:
        return obj

    def get_queryset(self):
        return selectors.workspace_list_for_user(user=self.request.user)

    def get_object(self) -> Workspace:
        workspace = selectors.workspace_get_for_user(workspace_id=self.kwargs["pk"], user=self.request.user)
        self.check_object_permissions(self.request, workspace)
        return workspace

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(WorkspaceSerializer(page, many=True).data)

    @extend_schema(
        summary="Create a workspace",
        request=WorkspaceWriteSerializer,
        responses={201: WorkspaceSerializer},
        examples=[examples.WORKSPACE_CREATE, examples.WORKSPACE],
    )
    def create(self, request: Request) -> Response:
        serializer = WorkspaceWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        workspace = services.workspace_create(
            name=data["name"],
            owner=request.user,
            slug=data.get("slug"),
            description=data.get("description", ""),
            timezone_name=data.get("timezone", "UTC"),
            settings=data.get("settings"),
        )
        workspace = selectors.workspace_get_for_user(workspace_id=workspace.pk, user=request.user)
        return Response(WorkspaceSerializer(workspace).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(WorkspaceSerializer(self.get_object()).data)

    @extend_schema(
        summary="Replace a workspace's settings (admin or owner)",
        request=WorkspaceWriteSerializer,
        responses=WorkspaceSerializer,
        examples=[examples.WORKSPACE_CREATE, examples.WORKSPACE],
    )
    def update(self, request: Request, pk: str | None = None, partial: bool = False) -> Response:
        workspace = self.get_object()
        serializer = WorkspaceWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.workspace_update(workspace=workspace, data=serializer.validated_data)
        workspace = selectors.workspace_get_for_user(workspace_id=workspace.pk, user=request.user)
        return Response(WorkspaceSerializer(workspace).data)

    @extend_schema(
        summary="Update a workspace (admin or owner)",
        request=WorkspaceWriteSerializer,
        responses=WorkspaceSerializer,
        examples=[examples.WORKSPACE_UPDATE, examples.WORKSPACE],
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return self.update(request, pk=pk, partial=True)

    @extend_schema(
        summary="Delete a workspace (owner)",
        description="Hides the workspace at once; its data is deleted in the background. "
        "`confirm` must be the workspace's slug.",
        parameters=[
            OpenApiParameter("confirm", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True, description="Slug.")
        ],
        responses={204: OpenApiResponse(description="Deletion started.")},
    )
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        workspace = self.get_object()
        query = WorkspaceDeleteQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        services.workspace_request_deletion(
            workspace=workspace, user=request.user, confirm=query.validated_data.get("confirm")
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Metrics of your workspaces",
        description="For each of your workspaces: members and every registered count, optionally "
        "limited to objects created between `from` and `to` (ISO 8601 dates or date-times).",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATETIME, OpenApiParameter.QUERY, description="Start, inclusive."),
            OpenApiParameter("to", OpenApiTypes.DATETIME, OpenApiParameter.QUERY, description="End, inclusive."),
        ],
        responses=WorkspaceMetricsSerializer(many=True),
        examples=[examples.WORKSPACE_METRICS],
    )
    @action(detail=False, methods=["get"])
    def metrics(self, request: Request) -> Response:
        query = WorkspaceMetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        metrics = selectors.workspace_metrics(
            workspace_ids=[workspace.pk for workspace in page],
            date_from=query.validated_data.get("from"),
            date_to=query.validated_data.get("to"),
        )
        rows = [{"workspace": workspace, "metrics": metrics[workspace.pk]} for workspace in page]
        return self.get_paginated_response(WorkspaceMetricsSerializer(rows, many=True).data)

    @extend_schema(
        summary="Transfer ownership (owner)",
        description="The member named by `user_id` becomes an owner; you stay as an admin.",
        request=TransferOwnershipSerializer,
        responses=MemberSerializer,
        examples=[examples.TRANSFER_OWNERSHIP, examples.MEMBER],
    )
    @action(detail=True, methods=["post"], url_path="transfer-ownership")
    def transfer_ownership(self, request: Request, pk: str | None = None) -> Response:
        workspace = self.get_object()
        serializer = TransferOwnershipSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.workspace_transfer_ownership(
            workspace=workspace, from_user=request.user, to_user_id=serializer.validated_data["user_id"]
        )
        membership = selectors.membership_get(workspace=workspace, user_id=membership.user_id)
        return Response(MemberSerializer(MemberSerializer.from_membership(membership)).data)


@extend_schema(tags=["Workspace"])
@extend_schema_view(list=extend_schema(summary="List the members of a workspace", examples=[examples.MEMBER]))
class MemberViewSet(WorkspaceNestedViewSet):
    """Members of a workspace, addressed by user id. Admins manage them; any member may leave."""

    serializer_class = MemberSerializer
    queryset = Membership.objects.none()
    lookup_field = "user_id"
    filter_backends = [filters.SearchFilter]
    search_fields = ["user__email", "user__name"]
    required_abilities = {
        "list": "members:read",
        "create": "members:write",
        "partial_update": "members:write",
        "destroy": "members:delete",
    }

    def get_queryset(self):
        return selectors.membership_list(workspace=self.get_permission_workspace())

    def check_permissions(self, request: Request) -> None:
        # Leaving is open to every member whatever their role; the credentials must still
        # carry `members:delete`, so a read-only token cannot remove its user.
        if self.action == "destroy" and request.user.is_authenticated and self._targets_caller():
            self.get_permission_workspace()
            check_ability(request=request, required="members:delete")
            return
        super().check_permissions(request)

    def _targets_caller(self) -> bool:
        return str(self.kwargs.get(self.lookup_field, "")).lower() == str(self.request.user.pk)

    def list(self, request: Request, workspace_id: str | None = None) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        rows = [MemberSerializer.from_membership(membership) for membership in page]
        return self.get_paginated_response(MemberSerializer(rows, many=True).data)

    @extend_schema(
        summary="Add a member or invite an email address (admin or owner)",
        description="An existing user is added at once (`status: active`); an unknown address "
        "gets an invitation by email (`status: invited`) and joins after signing up.",
        request=MemberCreateSerializer,
        responses={201: MemberSerializer},
        examples=[examples.MEMBER_CREATE, examples.MEMBER, examples.MEMBER_INVITED],
    )
    def create(self, request: Request, workspace_id: str | None = None) -> Response:
        workspace = self.get_permission_workspace()
        serializer = MemberCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership, invitation = services.member_add(
            workspace=workspace,
            invited_by=request.user,
            actor_role=_role(request, workspace),
            **serializer.validated_data,
        )
        row = (
            MemberSerializer.from_membership(membership) if membership else MemberSerializer.from_invitation(invitation)
        )
        return Response(MemberSerializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a member's role (admin or owner)",
        request=MemberUpdateSerializer,
        responses=MemberSerializer,
        examples=[examples.MEMBER_UPDATE, examples.MEMBER],
    )
    def partial_update(self, request: Request, workspace_id: str | None = None, user_id: str | None = None) -> Response:
        workspace = self.get_permission_workspace()
        membership = selectors.membership_get(workspace=workspace, user_id=user_id)
        serializer = MemberUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.membership_set_role(
            membership=membership, role=serializer.validated_data["role"], actor_role=_role(request, workspace)
        )
        return Response(MemberSerializer(MemberSerializer.from_membership(membership)).data)

    @extend_schema(summary="Remove a member, or leave the workspace", responses={204: None})
    def destroy(self, request: Request, workspace_id: str | None = None, user_id: str | None = None) -> Response:
        workspace = self.get_permission_workspace()
        membership = selectors.membership_get(workspace=workspace, user_id=user_id)
        services.membership_remove(membership=membership, actor=request.user, actor_role=_role(request, workspace))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["Workspace"])
class InvitationViewSet(viewsets.GenericViewSet):
    """Invitations, accepted by the invited user with the token from the invitation email."""

    permission_classes = [IsAuthenticated]
    serializer_class = WorkspaceSerializer
    queryset = Workspace.objects.none()
    lookup_field = "token"
    lookup_value_regex = "[A-Za-z0-9_-]{1,128}"

    @extend_schema(
        summary="Accept an invitation",
        description="Your account's email must be the invited address. Returns the workspace you joined.",
        request=None,
        responses=WorkspaceSerializer,
        examples=[examples.WORKSPACE],
    )
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, token: str | None = None) -> Response:
        check_ability(request=request, required="members:write")
        membership = services.invitation_accept(token=token, user=request.user)
        workspace = selectors.workspace_get_for_user(workspace_id=membership.workspace_id, user=request.user)
        return Response(WorkspaceSerializer(workspace).data)


@extend_schema(tags=["Workspace"])
@extend_schema_view(list=extend_schema(summary="List a workspace's variables", examples=[examples.VARIABLE]))
class VariableViewSet(WorkspaceNestedViewSet):
    """Workspace variables and secrets. Every member reads them; admins write. Secret values are never returned."""

    serializer_class = VariableSerializer
    queryset = Variable.objects.none()
    lookup_field = "key"
    lookup_value_regex = "[A-Za-z0-9_]{1,64}"
    filter_backends = [filters.SearchFilter]
    search_fields = ["key", "description"]
    required_abilities = {
        "list": "workspaces:read",
        "create": "workspaces:write",
        "partial_update": "workspaces:write",
        "destroy": "workspaces:write",
    }

    def get_queryset(self):
        return selectors.variable_list(workspace=self.get_permission_workspace())

    def list(self, request: Request, workspace_id: str | None = None) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(VariableSerializer(page, many=True).data)

    @extend_schema(
        summary="Create a variable or secret (admin or owner)",
        request=VariableCreateSerializer,
        responses={201: VariableSerializer},
        examples=[examples.VARIABLE_CREATE, examples.VARIABLE],
    )
    def create(self, request: Request, workspace_id: str | None = None) -> Response:
        serializer = VariableCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        variable = services.variable_create(
            workspace=self.get_permission_workspace(), created_by=request.user, **serializer.validated_data
        )
        return Response(VariableSerializer(variable).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Update a variable or secret (admin or owner)",
        request=VariableUpdateSerializer,
        responses=VariableSerializer,
        examples=[examples.VARIABLE_UPDATE, examples.VARIABLE],
    )
    def partial_update(self, request: Request, workspace_id: str | None = None, key: str | None = None) -> Response:
        variable = selectors.variable_get(workspace=self.get_permission_workspace(), key=key)
        serializer = VariableUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.variable_update(variable=variable, data=serializer.validated_data)
        return Response(VariableSerializer(variable).data)

    @extend_schema(summary="Delete a variable (admin or owner)", responses={204: None})
    def destroy(self, request: Request, workspace_id: str | None = None, key: str | None = None) -> Response:
        variable = selectors.variable_get(workspace=self.get_permission_workspace(), key=key)
        services.variable_delete(variable=variable)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CommandRoomTaskFilter(django_filters.FilterSet):
    class Meta:
        model = CommandRoomTask
        fields = ["kind", "status"]


@extend_schema(tags=["Command Room Task"])
@extend_schema_view(
    list=extend_schema(summary="List the command room of the workspace", examples=[examples.COMMAND_ROOM_TASK]),
)
class CommandRoomTaskViewSet(WorkspaceScopedViewSet):
    """Tasks pinned to a workspace's command room, ordered by position."""

    serializer_class = CommandRoomTaskSerializer
    queryset = CommandRoomTask.objects.none()
    filterset_class = CommandRoomTaskFilter
    ordering_fields = ["position", "created_at", "updated_at"]
    ordering = ["position", "created_at"]
    required_abilities = {
        "list": "workspaces:read",
        "create": "workspaces:write",
        "destroy": "workspaces:write",
    }

    def get_scoped_queryset(self, *, workspace_ids: list[Any]):
        return selectors.command_room_task_list(workspace_ids=workspace_ids)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(CommandRoomTaskSerializer(page, many=True).data)

    @extend_schema(
        summary="Store a command room task",
        description="Creates the task (201), or updates title, note, position and status when the "
        "same kind and reference are stored again (200). The reference must exist in the workspace.",
        request=CommandRoomTaskStoreSerializer,
        responses={201: CommandRoomTaskSerializer, 200: CommandRoomTaskSerializer},
        examples=[examples.COMMAND_ROOM_TASK_STORE, examples.COMMAND_ROOM_TASK],
    )
    def create(self, request: Request) -> Response:
        serializer = CommandRoomTaskStoreSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        task, created = services.command_room_task_store(
            workspace=self.get_permission_workspace(),
            user=request.user,
            kind=data.pop("kind"),
            reference_id=data.pop("reference_id"),
            data=data,
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(CommandRoomTaskSerializer(task).data, status=code)

    @extend_schema(summary="Remove a command room task", responses={204: None})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.command_room_task_remove(task=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
