"""Viewset of prompts: versioned templates with declared variables, run against a model."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import filters, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from agents import selectors, services
from agents.api import examples
from agents.api.serializers import (
    PromptRunRequestSerializer,
    PromptRunResultSerializer,
    PromptSerializer,
    PromptVersionSerializer,
    PromptWriteSerializer,
)
from agents.models import Prompt
from agents.services.agents import model_and_account
from workspaces.api.base import WorkspaceScopedViewSet


@extend_schema(tags=["Prompt"])
@extend_schema_view(list=extend_schema(summary="List prompts"), retrieve=extend_schema(summary="Get a prompt"))
class PromptViewSet(WorkspaceScopedViewSet):
    serializer_class = PromptSerializer
    queryset = Prompt.objects.none()
    filter_backends = [filters.SearchFilter, filters.OrderingFilter]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["-created_at"]
    required_abilities = {
        "list": "prompts:read",
        "retrieve": "prompts:read",
        "create": "prompts:write",
        "update": "prompts:write",
        "partial_update": "prompts:write",
        "destroy": "prompts:delete",
        "run": "prompts:run",
        "versions": "prompts:read",
    }

    def get_scoped_queryset(self, *, workspace_ids: list[Any]) -> QuerySet:
        return selectors.prompt_list(workspace_ids=workspace_ids)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(PromptSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(PromptSerializer(self.get_object()).data)

    @extend_schema(
        summary="Create a prompt",
        description="The template may read only declared variables; it is version 1.",
        request=PromptWriteSerializer,
        responses={201: PromptSerializer},
        examples=[examples.PROMPT_CREATE],
    )
    def create(self, request: Request) -> Response:
        serializer = PromptWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        prompt = services.prompt_create(
            workspace=self.get_permission_workspace(), user=request.user, data=serializer.validated_data
        )
        return Response(PromptSerializer(prompt).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Replace a prompt",
        description="A changed template or variable list increases `version`; earlier versions are kept.",
        request=PromptWriteSerializer,
        responses=PromptSerializer,
    )
    def update(self, request: Request, pk: str | None = None, partial: bool = False) -> Response:
        prompt = self.get_object()
        serializer = PromptWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        prompt = services.prompt_update(prompt=prompt, user=request.user, data=serializer.validated_data)
        return Response(PromptSerializer(prompt).data)

    @extend_schema(summary="Update a prompt", request=PromptWriteSerializer, responses=PromptSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return self.update(request, pk=pk, partial=True)

    @extend_schema(summary="Delete a prompt and its versions", responses={204: None})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.prompt_delete(prompt=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Render a prompt and run it",
        description="A missing required variable or an undeclared one is 422 naming it, and the model is "
        "not called. `model_id` and `account_id` override the prompt's defaults.",
        request=PromptRunRequestSerializer,
        responses=PromptRunResultSerializer,
        examples=[examples.PROMPT_RUN, examples.PROMPT_RUN_RESULT],
    )
    @action(detail=True, methods=["post"])
    def run(self, request: Request, pk: str | None = None) -> Response:
        prompt = self.get_object()
        serializer = PromptRunRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        model = account = None
        if data.get("model_id") or data.get("account_id"):
            model, account = model_and_account(
                workspace_id=prompt.workspace_id,
                model_id=data.get("model_id") or prompt.model_id,
                account_id=data.get("account_id") or prompt.account_id,
            )
        result = services.prompt_run(prompt=prompt, variables=data["variables"], model=model, account=account)
        return Response(PromptRunResultSerializer(result).data)

    @extend_schema(summary="List a prompt's versions, newest first", responses=PromptVersionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, pk: str | None = None) -> Response:
        prompt = self.get_object()
        page = self.paginate_queryset(prompt.versions.order_by("-number"))
        return self.get_paginated_response(PromptVersionSerializer(page, many=True).data)
