"""Viewset of memories: facts, preferences, summaries, examples and document chunks of a workspace."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from agents import selectors, services
from agents.api import examples
from agents.api.serializers import MemoryListQuerySerializer, MemorySerializer, MemoryWriteSerializer
from agents.models import Memory
from athena_site.api.errors import ValidationFailed
from workspaces.api.base import WorkspaceScopedViewSet


@extend_schema(tags=["Memory"])
@extend_schema_view(
    list=extend_schema(
        summary="List memories",
        description="With `search`, memories are ranked by relevance (embeddings when configured, else "
        "full-text search); without it, newest first.",
        parameters=[MemoryListQuerySerializer],
        examples=[examples.MEMORY],
    ),
    retrieve=extend_schema(summary="Get a memory", examples=[examples.MEMORY]),
)
class MemoryViewSet(WorkspaceScopedViewSet):
    serializer_class = MemorySerializer
    queryset = Memory.objects.none()
    filter_backends: list = []
    required_abilities = {
        "list": "memories:read",
        "retrieve": "memories:read",
        "create": "memories:write",
        "update": "memories:write",
        "partial_update": "memories:write",
        "destroy": "memories:delete",
    }

    def get_scoped_queryset(self, *, workspace_ids: list[Any]) -> QuerySet:
        return selectors.memory_list(workspace_ids=workspace_ids)

    def list(self, request: Request) -> Response:
        query = MemoryListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        memories = self.get_queryset()
        if data.get("agent"):
            memories = memories.filter(agent_id=data["agent"])
        if data.get("kind"):
            memories = memories.filter(kind=data["kind"])
        items: Any = memories.order_by("-created_at", "id")
        if data.get("search", "").strip():
            ranked = selectors.memory_rank(memories=memories, query=data["search"], limit=100)
            items = ranked
        page = self.paginate_queryset(items)
        return self.get_paginated_response(MemorySerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(MemorySerializer(self.get_object()).data)

    def _agent(self, agent_id: Any, workspace_id: Any) -> Any:
        if agent_id is None:
            return None
        agent = selectors.agent_list(workspace_ids=[workspace_id]).filter(pk=agent_id).first()
        if agent is None:
            raise ValidationFailed(errors={"agent_id": ["No such agent in this workspace."]})
        return agent

    def _data(self, validated: dict[str, Any], workspace_id: Any) -> dict[str, Any]:
        data = dict(validated)
        if "agent_id" in data:
            data["agent"] = self._agent(data.pop("agent_id"), workspace_id)
        return data

    @extend_schema(
        summary="Store a memory",
        request=MemoryWriteSerializer,
        responses={201: MemorySerializer},
        examples=[examples.MEMORY_CREATE, examples.MEMORY],
    )
    def create(self, request: Request) -> Response:
        serializer = MemoryWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        workspace = self.get_permission_workspace()
        data = {**self._data(serializer.validated_data, workspace.pk), "user": request.user, "source": "manual"}
        memory = services.memory_create(workspace_id=workspace.pk, data=data)
        return Response(MemorySerializer(memory).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Replace a memory", request=MemoryWriteSerializer, responses=MemorySerializer)
    def update(self, request: Request, pk: str | None = None, partial: bool = False) -> Response:
        memory = self.get_object()
        serializer = MemoryWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        memory = services.memory_update(memory=memory, data=self._data(serializer.validated_data, memory.workspace_id))
        return Response(MemorySerializer(memory).data)

    @extend_schema(summary="Update a memory", request=MemoryWriteSerializer, responses=MemorySerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return self.update(request, pk=pk, partial=True)

    @extend_schema(summary="Delete a memory", responses={204: None})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.memory_delete(memory=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
