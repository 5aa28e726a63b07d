"""Viewsets of the providers API: providers, accounts, large language models and the OAuth2 connect flow."""

import logging
from typing import Any
from urllib.parse import urlencode

import django_filters
from django.conf import settings
from django.db.models import CharField, QuerySet
from django.db.models.functions import Cast
from django.http import HttpResponseRedirect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import filters, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from athena_site.api.errors import ValidationFailed
from providers import oauth, selectors, services
from providers.api import examples
from providers.api.serializers import (
    AccountCreateSerializer,
    AccountSerializer,
    AccountTestResultSerializer,
    AccountUpdateSerializer,
    LargeLanguageModelSerializer,
    LargeLanguageModelWriteSerializer,
    ProviderSerializer,
    ProviderWriteSerializer,
    SyncModelsResultSerializer,
    SyncModelsSerializer,
)
from providers.errors import ProviderReadOnly
from providers.models import Account, AccountStatus, Capability, LargeLanguageModel, Provider
from workspaces.api.base import WorkspaceScopedViewSet
from workspaces.permissions import check_ability, check_permission
from workspaces.resolution import workspace_resolve_for_request
from workspaces.selectors import workspace_ids_for_request

logger = logging.getLogger(__name__)

OAUTH_REDIRECT = OpenApiResponse(description="Redirect to the provider's consent page (`Location`).")


class GlobalRowsReadOnlyMixin:
    """Allow reads of rows without a workspace (the built-in catalogue) and reject writes to them with 403."""

    # Detail actions that check their own permissions against another workspace.
    self_checked_actions: tuple[str, ...] = ()

    def check_object_permissions(self, request: Request, obj: Any) -> None:
        if self.action in self.self_checked_actions:
            return
        if obj.workspace_id is None:
            required = self.get_required_ability()
            if not required.endswith(":read"):
                raise ProviderReadOnly()
            check_ability(request=request, required=required, object_id=obj.pk)
            return
        super().check_object_permissions(request, obj)


# --- providers ----------------------------------------------------------------


class ProviderFilter(django_filters.FilterSet):
    class Meta:
        model = Provider
        fields = ["kind"]


@extend_schema(tags=["Provider"])
@extend_schema_view(
    list=extend_schema(summary="List the built-in providers and your workspace's", examples=[examples.PROVIDER]),
    retrieve=extend_schema(summary="Get a provider", examples=[examples.PROVIDER]),
)
class ProviderViewSet(GlobalRowsReadOnlyMixin, WorkspaceScopedViewSet):
    """External services Athena calls for a workspace. Built-in providers are read-only."""

    serializer_class = ProviderSerializer
    queryset = Provider.objects.none()
    filterset_class = ProviderFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, filters.SearchFilter, filters.OrderingFilter]
    search_fields = ["name", "key"]
    ordering_fields = ["name", "key", "created_at"]
    ordering = ["name", "id"]
    self_checked_actions = ("sync_models", "oauth_authorize")
    required_abilities = {
        "list": "providers:read",
        "retrieve": "providers:read",
        "create": "providers:write",
        "update": "providers:write",
        "partial_update": "providers:write",
        "destroy": "providers:delete",
        "sync_models": "providers:write",
        "oauth_authorize": "accounts:write",
    }

    def get_scoped_queryset(self, *, workspace_ids: list[Any]) -> QuerySet:
        return selectors.provider_list(workspace_ids=workspace_ids)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ProviderSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(ProviderSerializer(self.get_object()).data)

    @extend_schema(
        summary="Create a provider in the workspace",
        request=ProviderWriteSerializer,
        responses={201: ProviderSerializer},
        examples=[examples.PROVIDER_CREATE, examples.PROVIDER_CREATE_OAUTH, examples.PROVIDER],
    )
    def create(self, request: Request) -> Response:
        serializer = ProviderWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        provider = services.provider_create(
            workspace=self.get_permission_workspace(), user=request.user, data=serializer.validated_data
        )
        return Response(ProviderSerializer(provider).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Replace a workspace provider",
        description="Built-in providers return 403 `provider_read_only`. An OAuth2 client secret is kept "
        "when the new config omits it.",
        request=ProviderWriteSerializer,
        responses=ProviderSerializer,
        examples=[examples.PROVIDER_CREATE, examples.PROVIDER],
    )
    def update(self, request: Request, pk: str | None = None, partial: bool = False) -> Response:
        provider = self.get_object()
        serializer = ProviderWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        provider = services.provider_update(provider=provider, data=serializer.validated_data)
        return Response(ProviderSerializer(provider).data)

    @extend_schema(
        summary="Update a workspace provider",
        request=ProviderWriteSerializer,
        responses=ProviderSerializer,
        examples=[examples.PROVIDER_UPDATE, examples.PROVIDER],
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return self.update(request, pk=pk, partial=True)

    @extend_schema(
        summary="Delete a workspace provider",
        description="409 `provider_in_use` while accounts of the provider exist.",
        responses={204: None, 409: OpenApiResponse(description="The provider still has accounts.")},
    )
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.provider_delete(provider=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Import the provider's model list",
        description="Lists the provider's models through the account and creates or updates the account "
        "workspace's models. Models the catalogue already has are skipped.",
        request=SyncModelsSerializer,
        responses={200: SyncModelsResultSerializer},
        examples=[examples.SYNC_MODELS, examples.SYNC_MODELS_RESULT],
    )
    @action(detail=True, methods=["post"], url_path="sync-models")
    def sync_models(self, request: Request, pk: str | None = None) -> Response:
        provider = self.get_object()
        serializer = SyncModelsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = _account_for_request(request, serializer.validated_data["account_id"])
        check_permission(request=request, workspace=account.workspace, required="providers:write")
        if not selectors.provider_visible_to_workspace(provider=provider, workspace_id=account.workspace_id):
            raise ValidationFailed(errors={"account_id": ["The account does not belong to this provider."]})
        result = services.llm_sync_models(provider=provider, account=account)
        return Response(SyncModelsResultSerializer(result).data)

    @extend_schema(
        summary="Connect an OAuth2 account (browser)",
        description="Redirects the signed-in browser to the provider's consent page. The state and PKCE "
        "verifier are bound to the session; the provider sends the browser back to "
        "`/api/v1/providers/oauth/callback`, which stores the account in the workspace of the request "
        "(`X-Workspace`, `?workspace=` or your current workspace).",
        parameters=[
            OpenApiParameter(
                "account_name", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True, description="Account name."
            ),
            OpenApiParameter(
                "workspace", OpenApiTypes.STR, OpenApiParameter.QUERY, description="Workspace id or slug."
            ),
        ],
        responses={302: OAUTH_REDIRECT, 409: OpenApiResponse(description="The provider is not OAuth2-ready.")},
    )
    @action(detail=True, methods=["get"], url_path="oauth/authorize")
    def oauth_authorize(self, request: Request, pk: str | None = None) -> HttpResponseRedirect:
        provider = self.get_object()
        query = OAuthAuthorizeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        workspace = workspace_resolve_for_request(request=request)
        check_permission(request=request, workspace=workspace, required="accounts:write")
        if not selectors.provider_visible_to_workspace(provider=provider, workspace_id=workspace.pk):
            raise ValidationFailed(errors={"workspace": ["The provider belongs to another workspace."]})
        url = oauth.oauth_authorization_url(
            session=request.session,
            provider=provider,
            workspace=workspace,
            user=request.user,
            account_name=query.validated_data["account_name"],
        )
        return HttpResponseRedirect(url)


class OAuthAuthorizeQuerySerializer(serializers.Serializer):
    account_name = serializers.CharField(max_length=120)


def _account_for_request(request: Request, account_id: Any) -> Account:
    account = selectors.account_get(account_id=account_id, workspace_ids=workspace_ids_for_request(request=request))
    if account is None:
        raise ValidationFailed(errors={"account_id": ["Account not found."]})
    return account


class OAuthCallbackView(APIView):
    """The provider's redirect back to Athena after consent. Responds with a redirect to the accounts page."""

    # The callback must reach a signed-out browser too, so that it can redirect with an error.
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["Provider"],
        summary="OAuth2 callback (browser)",
        description="Checks `state` against the browser session, exchanges the code and stores the tokens "
        "in a new account, then redirects to `/connections/?connected=<account id>`, or to "
        "`/connections/?error=<code>` (`invalid_state`, `expired_state`, `access_denied`, `invalid_grant`, "
        "`token_exchange_failed`, ...) storing nothing.",
        parameters=[
            OpenApiParameter("state", OpenApiTypes.STR, OpenApiParameter.QUERY),
            OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.QUERY),
            OpenApiParameter("error", OpenApiTypes.STR, OpenApiParameter.QUERY),
        ],
        responses={302: OpenApiResponse(description="Redirect to the accounts page.")},
        auth=[],
    )
    def get(self, request: Request) -> HttpResponseRedirect:
        params = request.query_params
        if not request.user.is_authenticated:
            return _accounts_redirect(error="unauthenticated")
        try:
            account = oauth.oauth_complete(
                session=request.session,
                user=request.user,
                state=params.get("state", "")[:200],
                code=params.get("code"),
                error=params.get("error"),
            )
        except oauth.OAuthFlowError as exc:
            logger.warning("OAuth2 connect failed", extra={"user_id": str(request.user.pk), "error_code": exc.code})
            return _accounts_redirect(error=exc.code)
        return _accounts_redirect(connected=str(account.pk))


def _accounts_redirect(**params: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{settings.ATHENA_PUBLIC_URL.rstrip('/')}/connections/?{urlencode(params)}")


# --- accounts -----------------------------------------------------------------


class AccountFilter(django_filters.FilterSet):
    provider = django_filters.UUIDFilter(field_name="provider_id")
    status = django_filters.ChoiceFilter(choices=AccountStatus.choices)

    class Meta:
        model = Account
        fields = ["provider", "status"]


@extend_schema(tags=["Account"])
@extend_schema_view(
    list=extend_schema(summary="List the workspace's accounts", examples=[examples.ACCOUNT]),
    retrieve=extend_schema(summary="Get an account", examples=[examples.ACCOUNT]),
)
class AccountViewSet(WorkspaceScopedViewSet):
    """Connected credentials of a workspace. Credentials are write-only: responses show a hint and the status."""

    serializer_class = AccountSerializer
    queryset = Account.objects.none()
    filterset_class = AccountFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, filters.SearchFilter, filters.OrderingFilter]
    search_fields = ["name"]
    ordering_fields = ["name", "created_at", "last_used_at"]
    ordering = ["name", "id"]
    required_abilities = {
        "list": "accounts:read",
        "retrieve": "accounts:read",
        "create": "accounts:write",
        "update": "accounts:write",
        "partial_update": "accounts:write",
        "destroy": "accounts:delete",
        "test": "accounts:write",
    }

    def get_scoped_queryset(self, *, workspace_ids: list[Any]) -> QuerySet:
        return selectors.account_list(workspace_ids=workspace_ids)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(AccountSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(AccountSerializer(self.get_object()).data)

    @extend_schema(
        summary="Store credentials as an account",
        description="`credentials` contains the fields of the provider's strategy: `api_key`, `token`, "
        "`username` and `password`, or OAuth2 tokens. They are encrypted and never returned.",
        request=AccountCreateSerializer,
        responses={201: AccountSerializer},
        examples=[examples.ACCOUNT_CREATE, examples.ACCOUNT],
    )
    def create(self, request: Request) -> Response:
        serializer = AccountCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        workspace = self.get_permission_workspace()
        provider = selectors.provider_list(workspace_ids=[workspace.pk]).filter(
            pk=serializer.validated_data["provider_id"]
        )
        if not provider.exists():
            raise ValidationFailed(errors={"provider_id": ["Provider not found."]})
        account = services.account_create(
            workspace=workspace,
            provider=provider.get(),
            user=request.user,
            name=serializer.validated_data["name"],
            credentials=serializer.validated_data.get("credentials"),
        )
        return Response(AccountSerializer(account).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Replace an account",
        description="Without `credentials` the stored credentials are kept.",
        request=AccountUpdateSerializer,
        responses=AccountSerializer,
        examples=[examples.ACCOUNT_UPDATE, examples.ACCOUNT],
    )
    def update(self, request: Request, pk: str | None = None, partial: bool = False) -> Response:
        account = self.get_object()
        serializer = AccountUpdateSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        account = services.account_update(account=account, data=serializer.validated_data)
        return Response(AccountSerializer(account).data)

    @extend_schema(
        summary="Update an account",
        description="Without `credentials` the stored credentials are kept.",
        request=AccountUpdateSerializer,
        responses=AccountSerializer,
        examples=[examples.ACCOUNT_UPDATE, examples.ACCOUNT],
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return self.update(request, pk=pk, partial=True)

    @extend_schema(summary="Delete an account and its credentials", responses={204: None})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.account_delete(account=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Test an account",
        description="Makes a cheap authenticated call: the provider's test path, or the model list of an "
        "LLM provider. Answers 200 with `ok` and, on failure, the redacted upstream error; the "
        "account's status and `last_error` are updated.",
        request=None,
        responses={200: AccountTestResultSerializer, 422: OpenApiResponse(description="No test path.")},
        examples=[examples.ACCOUNT_TEST],
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        account = self.get_object()
        result = services.account_test(account=account)
        body = {**result.__dict__, "account": account}
        return Response(AccountTestResultSerializer(body).data)


# --- large language models ----------------------------------------------------


class LargeLanguageModelFilter(django_filters.FilterSet):
    provider = django_filters.UUIDFilter(field_name="provider_id")
    capability = django_filters.ChoiceFilter(choices=Capability.choices, method="filter_capability")
    active = django_filters.BooleanFilter()

    class Meta:
        model = LargeLanguageModel
        fields = ["provider", "capability", "active"]

    def filter_capability(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # The JSON list is compared as text, which works on SQLite and PostgreSQL alike; the
        # quotes make "tools" match only the whole capability name.
        return queryset.annotate(capabilities_text=Cast("capabilities", CharField())).filter(
            capabilities_text__contains=f'"{value}"'
        )


@extend_schema(tags=["Large Language Model"])
@extend_schema_view(
    list=extend_schema(summary="List the catalogue and your workspace's models", examples=[examples.LLM]),
    retrieve=extend_schema(summary="Get a model", examples=[examples.LLM]),
)
class LargeLanguageModelViewSet(GlobalRowsReadOnlyMixin, WorkspaceScopedViewSet):
    """Models of LLM providers. Catalogue models are read-only; workspaces add models of their own providers."""

    serializer_class = LargeLanguageModelSerializer
    queryset = LargeLanguageModel.objects.none()
    filterset_class = LargeLanguageModelFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, filters.SearchFilter, filters.OrderingFilter]
    search_fields = ["model", "display_name"]
    ordering_fields = ["display_name", "model", "created_at", "input_price_per_million", "context_window"]
    ordering = ["display_name", "id"]
    required_abilities = {
        "list": "providers:read",
        "retrieve": "providers:read",
        "create": "providers:write",
        "update": "providers:write",
        "partial_update": "providers:write",
        "destroy": "providers:delete",
    }

    def get_scoped_queryset(self, *, workspace_ids: list[Any]) -> QuerySet:
        return selectors.llm_list(workspace_ids=workspace_ids)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(LargeLanguageModelSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(LargeLanguageModelSerializer(self.get_object()).data)

    @extend_schema(
        summary="Add a model to the workspace",
        request=LargeLanguageModelWriteSerializer,
        responses={201: LargeLanguageModelSerializer},
        examples=[examples.LLM_CREATE, examples.LLM],
    )
    def create(self, request: Request) -> Response:
        serializer = LargeLanguageModelWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        workspace = self.get_permission_workspace()
        provider = selectors.provider_list(workspace_ids=[workspace.pk]).filter(pk=data.pop("provider_id")).first()
        if provider is None:
            raise ValidationFailed(errors={"provider_id": ["Provider not found."]})
        llm = services.llm_create(workspace=workspace, provider=provider, data=data)
        return Response(LargeLanguageModelSerializer(llm).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Replace a workspace model",
        description="Catalogue models return 403 `provider_read_only`. The provider cannot be changed.",
        request=LargeLanguageModelWriteSerializer,
        responses=LargeLanguageModelSerializer,
        examples=[examples.LLM_CREATE, examples.LLM],
    )
    def update(self, request: Request, pk: str | None = None, partial: bool = False) -> Response:
        llm = self.get_object()
        serializer = LargeLanguageModelWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        provider_id = data.pop("provider_id", None)
        if provider_id is not None and provider_id != llm.provider_id:
            raise ValidationFailed(errors={"provider_id": ["The provider of a model cannot be changed."]})
        llm = services.llm_update(llm=llm, data=data)
        return Response(LargeLanguageModelSerializer(llm).data)

    @extend_schema(
        summary="Update a workspace model",
        request=LargeLanguageModelWriteSerializer,
        responses=LargeLanguageModelSerializer,
        examples=[examples.LLM_UPDATE, examples.LLM],
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return self.update(request, pk=pk, partial=True)

    @extend_schema(summary="Delete a workspace model", responses={204: None})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.llm_delete(llm=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
