"""Service accounts of a workspace and their tokens: `workspaces/{id}/service-accounts/...`."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts_auth import selectors, services
from accounts_auth.api.serializers import AbilityListField, NewTokenSerializer, TokenSerializer
from athena_site.api.pagination import paginated_response
from workspaces.models import Membership, Role
from workspaces.permissions import check_permission
from workspaces.selectors import membership_role_for_request, workspace_get_for_user

ASSIGNABLE_ROLES = [Role.ADMIN, Role.EDITOR, Role.VIEWER]


@extend_schema_serializer(component_name="ServiceAccount")
class ServiceAccountSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    role = serializers.CharField()
    user_id = serializers.UUIDField()
    created_by = serializers.UUIDField(source="created_by_id", allow_null=True)
    created_at = serializers.DateTimeField()


class ServiceAccountCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=ASSIGNABLE_ROLES, default=Role.VIEWER)


class ServiceAccountTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    abilities = AbilityListField(required=False)
    expires_in_days = serializers.IntegerField(min_value=1, max_value=3650, required=False, allow_null=True)


def _with_roles(accounts, workspace) -> list:
    roles = dict(
        Membership.objects.filter(
            workspace=workspace, user_id__in=[account.user_id for account in accounts]
        ).values_list("user_id", "role")
    )
    for account in accounts:
        account.role = roles.get(account.user_id, "")
    return accounts


class _WorkspaceView(APIView):
    permission_classes = [IsAuthenticated]

    def workspace(self, request, workspace_id, required: str):
        workspace = workspace_get_for_user(workspace_id=workspace_id, user=request.user)
        check_permission(request=request, workspace=workspace, required=required)
        return workspace


class ServiceAccountListView(_WorkspaceView):
    @extend_schema(
        operation_id="workspaces_service_accounts_list",
        summary="List service accounts",
        tags=["Workspace"],
        responses=ServiceAccountSerializer(many=True),
    )
    def get(self, request, workspace_id):
        workspace = self.workspace(request, workspace_id, "members:read")
        return paginated_response(
            request=request,
            items=selectors.service_account_list(workspace=workspace),
            serialize=lambda page: ServiceAccountSerializer(_with_roles(page, workspace), many=True).data,
            view=self,
        )

    @extend_schema(
        operation_id="workspaces_service_accounts_create",
        summary="Create a service account",
        tags=["Workspace"],
        request=ServiceAccountCreateSerializer,
        responses={201: ServiceAccountSerializer},
        examples=[OpenApiExample("Deploy bot", value={"name": "deploy-bot", "role": "editor"}, request_only=True)],
    )
    def post(self, request, workspace_id):
        workspace = self.workspace(request, workspace_id, "members:write")
        serializer = ServiceAccountCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = services.service_account_create(
            workspace=workspace,
            created_by=request.user,
            actor_role=membership_role_for_request(request=request, workspace_id=workspace.pk),
            **serializer.validated_data,
        )
        account.role = serializer.validated_data["role"]
        return Response(ServiceAccountSerializer(account).data, status=status.HTTP_201_CREATED)


class ServiceAccountDetailView(_WorkspaceView):
    @extend_schema(
        operation_id="workspaces_service_accounts_destroy",
        summary="Delete a service account",
        tags=["Workspace"],
        responses={204: None},
    )
    def delete(self, request, workspace_id, service_account_id):
        workspace = self.workspace(request, workspace_id, "members:delete")
        account = selectors.service_account_get(workspace=workspace, service_account_id=service_account_id)
        services.service_account_delete(account=account, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ServiceAccountTokenListView(_WorkspaceView):
    @extend_schema(
        operation_id="workspaces_service_account_tokens_list",
        summary="List a service account's tokens",
        tags=["Workspace"],
        responses=TokenSerializer(many=True),
    )
    def get(self, request, workspace_id, service_account_id):
        workspace = self.workspace(request, workspace_id, "members:read")
        account = selectors.service_account_get(workspace=workspace, service_account_id=service_account_id)
        return paginated_response(
            request=request,
            items=selectors.personal_access_token_list(user=account.user),
            serialize=lambda page: TokenSerializer(page, many=True).data,
            view=self,
        )

    @extend_schema(
        operation_id="workspaces_service_account_tokens_create",
        summary="Issue a service account token",
        tags=["Workspace"],
        request=ServiceAccountTokenCreateSerializer,
        responses={201: NewTokenSerializer},
    )
    def post(self, request, workspace_id, service_account_id):
        workspace = self.workspace(request, workspace_id, "members:write")
        account = selectors.service_account_get(workspace=workspace, service_account_id=service_account_id)
        serializer = ServiceAccountTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        abilities = services.abilities_within(granted=request.auth.abilities, requested=data.get("abilities"))
        expires_at = timezone.now() + timedelta(days=data["expires_in_days"]) if data.get("expires_in_days") else None
        token, raw = services.personal_access_token_create(
            user=account.user, name=data["name"], abilities=abilities, expires_at=expires_at, request=request
        )
        body = {
            "token": raw,
            "token_type": "Bearer",
            "expires_at": token.expires_at,
            "abilities": token.abilities,
            "record": token,
        }
        return Response(NewTokenSerializer(body).data, status=status.HTTP_201_CREATED)


class ServiceAccountTokenDetailView(_WorkspaceView):
    @extend_schema(
        operation_id="workspaces_service_account_tokens_destroy",
        summary="Revoke a service account token",
        tags=["Workspace"],
        responses={204: None},
    )
    def delete(self, request, workspace_id, service_account_id, token_id):
        workspace = self.workspace(request, workspace_id, "members:delete")
        account = selectors.service_account_get(workspace=workspace, service_account_id=service_account_id)
        token = selectors.personal_access_token_get_for_user(token_id=token_id, user=account.user)
        services.personal_access_token_revoke(token=token, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)
