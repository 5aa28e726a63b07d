"""Viewsets of the agents API: agents with run, train, generate, share, leaderboard and rating actions."""

from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import filters, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from agents import selectors, services
from agents.api import examples
from agents.api.serializers import (
    AgentLeaderboardSerializer,
    AgentRunRequestSerializer,
    AgentRunResultSerializer,
    AgentRunSerializer,
    AgentSerializer,
    AgentWriteSerializer,
    GenerateRequestSerializer,
    GenerateResultSerializer,
    LeaderboardQuerySerializer,
    RatingSerializer,
    ShareCreateSerializer,
    ShareSerializer,
    TrainingJobSerializer,
    TrainRequestSerializer,
)
from agents.api.streaming import SSE_RESPONSE_DESCRIPTION, EventStreamRenderer, stream_run_response, wants_stream
from agents.models import Agent, RunSource
from athena_site.api.errors import ValidationFailed
from athena_site.api.renderers import EnvelopeJSONRenderer
from workspaces.api.base import WorkspaceScopedViewSet

SSE_RESPONSE = OpenApiResponse(response=OpenApiTypes.STR, description=SSE_RESPONSE_DESCRIPTION)
# Share grants do not reach these actions: only members of the agent's workspace manage shares.
_MEMBER_ONLY_ACTIONS = ("share", "shares", "share_delete", "destroy")


class AgentFilter(django_filters.FilterSet):
    model_id = django_filters.UUIDFilter(field_name="model_id")
    created_by = django_filters.UUIDFilter(field_name="created_by_id")

    class Meta:
        model = Agent
        fields = ["model_id", "created_by"]


@extend_schema(tags=["Agent"])
@extend_schema_view(
    list=extend_schema(summary="List agents", examples=[examples.AGENT]),
    retrieve=extend_schema(summary="Get an agent", examples=[examples.AGENT]),
)
class AgentViewSet(WorkspaceScopedViewSet):
    """Agents: instructions, a model and tools, run statelessly, trained with memories, shared and ranked."""

    serializer_class = AgentSerializer
    queryset = Agent.objects.none()
    filterset_class = AgentFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, filters.SearchFilter, filters.OrderingFilter]
    search_fields = ["name", "slug", "description"]
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["-created_at"]
    required_abilities = {
        "list": "agents:read",
        "retrieve": "agents:read",
        "create": "agents:write",
        "update": "agents:write",
        "partial_update": "agents:write",
        "destroy": "agents:delete",
        "run": "agents:run",
        "train": "agents:write",
        "training_job": "agents:read",
        "generate": "agents:write",
        "share": "agents:write",
        "shares": "agents:read",
        "share_delete": "agents:write",
        "leaderboard": "agents:read",
        "rate": "agents:run",
    }

    def get_scoped_queryset(self, *, workspace_ids: list[Any]) -> QuerySet:
        # Private agents are visible to their creator only. The ids come from the caller's active
        # workspaces: the resolved workspace or the memberships, both without workspaces being deleted.
        agents = selectors.agent_list(workspace_ids=workspace_ids, workspaces_active=True)
        if getattr(self, "action", None) in ("list", "retrieve"):
            # The serializer reads only the model's and the account's ids, so the joins would be wasted.
            agents = agents.select_related(None)
        return agents.filter(Q(visibility="workspace") | Q(created_by=self.request.user))

    def get_shared_queryset(self) -> QuerySet:
        return selectors.agent_shared_with_user(user=self.request.user)

    def get_share_permission(self, obj: Agent) -> str | None:
        if self.action in _MEMBER_ONLY_ACTIONS:
            return None
        return selectors.agent_share_permission(agent=obj, user=self.request.user)

    def get_renderers(self) -> list:
        if getattr(self, "action", None) == "run":
            return [EnvelopeJSONRenderer(), EventStreamRenderer()]
        return super().get_renderers()

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(AgentSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(AgentSerializer(self.get_object()).data)

    @extend_schema(
        summary="Create an agent",
        request=AgentWriteSerializer,
        responses={201: AgentSerializer},
        examples=[examples.AGENT_CREATE, examples.AGENT],
    )
    def create(self, request: Request) -> Response:
        serializer = AgentWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        agent = services.agent_create(
            workspace=self.get_permission_workspace(), user=request.user, data=serializer.validated_data
        )
        return Response(AgentSerializer(agent).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Replace an agent",
        request=AgentWriteSerializer,
        responses=AgentSerializer,
        examples=[examples.AGENT_CREATE, examples.AGENT],
    )
    def update(self, request: Request, pk: str | None = None, partial: bool = False) -> Response:
        agent = self.get_object()
        serializer = AgentWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        agent = services.agent_update(agent=agent, data=serializer.validated_data)
        return Response(AgentSerializer(agent).data)

    @extend_schema(
        summary="Update an agent",
        request=AgentWriteSerializer,
        responses=AgentSerializer,
        examples=[examples.AGENT_PATCH, examples.AGENT],
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return self.update(request, pk=pk, partial=True)

    @extend_schema(summary="Delete an agent with its runs, memories and shares", responses={204: None})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.agent_delete(agent=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Run an agent once",
        description="One stateless turn. A run that fails upstream or reaches a limit still returns 200, "
        "with `status: failed` and `error`.",
        request=AgentRunRequestSerializer,
        responses={200: AgentRunResultSerializer, (200, "text/event-stream"): SSE_RESPONSE},
        examples=[examples.RUN_REQUEST, examples.RUN_RESULT, examples.RUN_FAILED],
    )
    @action(detail=True, methods=["post"])
    def run(self, request: Request, pk: str | None = None) -> Any:
        agent = self.get_object()
        serializer = AgentRunRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return run_response(request, agent=agent, data=serializer.validated_data, source=RunSource.API)

    @extend_schema(
        summary="Train an agent with examples, documents and feedback",
        description="Queues a job that stores them as memories of the agent and returns 202 with the job.",
        request=TrainRequestSerializer,
        responses={202: TrainingJobSerializer},
        examples=[examples.TRAIN, examples.TRAINING_JOB],
    )
    @action(detail=True, methods=["post"])
    def train(self, request: Request, pk: str | None = None) -> Response:
        agent = self.get_object()
        serializer = TrainRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = services.training_job_create(agent=agent, user=request.user, payload=serializer.validated_data)
        return Response(TrainingJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Get a training job",
        parameters=[OpenApiParameter("job_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses=TrainingJobSerializer,
        examples=[examples.TRAINING_JOB],
    )
    @action(detail=True, methods=["get"], url_path=r"training-jobs/(?P<job_id>[^/.]+)")
    def training_job(self, request: Request, pk: str | None = None, job_id: str | None = None) -> Response:
        job = selectors.training_job_get(agent=self.get_object(), job_id=job_id)
        return Response(TrainingJobSerializer(job).data)

    @extend_schema(
        summary="Draft an agent from a description",
        description="Asks a model for a definition validated against the agent schema, retrying once. "
        "`save: true` creates the agent. 502 `generation_failed` when both replies are invalid.",
        request=GenerateRequestSerializer,
        responses={200: GenerateResultSerializer, 201: GenerateResultSerializer},
        examples=[examples.GENERATE],
    )
    @action(detail=False, methods=["post"])
    def generate(self, request: Request) -> Response:
        serializer = GenerateRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.agent_generate(
            workspace=self.get_permission_workspace(),
            user=request.user,
            description=data["description"],
            model_id=data.get("model_id"),
            account_id=data.get("account_id"),
            save=data["save"],
        )
        code = status.HTTP_201_CREATED if result["agent"] is not None else status.HTTP_200_OK
        return Response(GenerateResultSerializer(result).data, status=code)

    @extend_schema(
        summary="Share an agent with a user or by public link",
        description="A public link's URL (with its token) appears only in this response.",
        request=ShareCreateSerializer,
        responses={201: ShareSerializer},
        examples=[examples.SHARE_USER, examples.SHARE_PUBLIC, examples.SHARE],
    )
    @action(detail=True, methods=["post"])
    def share(self, request: Request, pk: str | None = None) -> Response:
        agent = self.get_object()
        serializer = ShareCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        grantee = None
        if data.get("user_email"):
            grantee = get_user_model().objects.filter(email__iexact=data["user_email"]).first()
            if grantee is None:
                raise ValidationFailed(errors={"user_email": ["No user has this email address."]})
        share, token = services.share_create(
            workspace_id=agent.workspace_id,
            target_type=selectors.AGENT_TARGET,
            target_id=agent.pk,
            permission=data["permission"],
            created_by=request.user,
            user=grantee,
        )
        return Response(ShareSerializer(share, context={"token": token}).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="List an agent's shares", responses=ShareSerializer(many=True))
    @action(detail=True, methods=["get"])
    def shares(self, request: Request, pk: str | None = None) -> Response:
        agent = self.get_object()
        shares = selectors.share_list(target_type=selectors.AGENT_TARGET, target_id=agent.pk)
        page = self.paginate_queryset(shares)
        return self.get_paginated_response(ShareSerializer(page, many=True).data)

    @extend_schema(
        summary="Revoke a share",
        parameters=[OpenApiParameter("share_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={204: None},
    )
    @action(detail=True, methods=["delete"], url_path=r"shares/(?P<share_id>[^/.]+)")
    def share_delete(self, request: Request, pk: str | None = None, share_id: str | None = None) -> Response:
        agent = self.get_object()
        share = selectors.share_get(target_type=selectors.AGENT_TARGET, target_id=agent.pk, share_id=share_id)
        services.share_delete(share=share)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Rank the workspace's agents",
        description="Rows over finished runs of the period. score = 100 * (0.45 * success_rate + 0.25 * "
        "rating + 0.15 * speed + 0.15 * thrift), with rating = (average_rating - 1) / 4 (0.5 unrated), "
        "speed = 1 / (1 + p50_latency_ms / 5000), thrift = 1 / (1 + average_cost / 0.01).",
        parameters=[LeaderboardQuerySerializer],
        responses=AgentLeaderboardSerializer(many=True),
        examples=[examples.LEADERBOARD],
    )
    @action(detail=False, methods=["get"])
    def leaderboard(self, request: Request) -> Response:
        query = LeaderboardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.agent_leaderboard(
            workspace_id=self.get_permission_workspace().pk, period=query.validated_data["period"]
        )
        rows.sort(key=_leaderboard_key(query.validated_data["ordering"]))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(AgentLeaderboardSerializer(page, many=True).data)

    @extend_schema(
        summary="Rate a run",
        parameters=[OpenApiParameter("run_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        request=RatingSerializer,
        responses=AgentRunSerializer,
        examples=[examples.RATING],
    )
    @action(detail=True, methods=["post"], url_path=r"runs/(?P<run_id>[^/.]+)/rating")
    def rate(self, request: Request, pk: str | None = None, run_id: str | None = None) -> Response:
        run = selectors.agent_run_get(agent=self.get_object(), run_id=run_id)
        serializer = RatingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = services.agent_run_rate(run=run, **serializer.validated_data)
        return Response(AgentRunSerializer(run).data)


def _leaderboard_key(ordering: str) -> Any:
    fields = {
        "-score": lambda row: -row["score"],
        "-runs": lambda row: -row["runs"],
        "-success_rate": lambda row: -row["success_rate"],
        "-rating": lambda row: -(row["average_rating"] or 0),
        "latency": lambda row: row["p50_latency_ms"] if row["p50_latency_ms"] is not None else float("inf"),
        "cost": lambda row: row["average_cost"] if row["average_cost"] is not None else float("inf"),
    }
    primary = fields[ordering]
    return lambda row: (primary(row), row["agent"].name)


def run_response(request: Request, *, agent: Agent, data: dict[str, Any], source: str) -> Any:
    """Prepare a run and return its JSON result, or stream it as Server-Sent Events."""
    prepared = services.agent_run_prepare(
        agent=agent,
        input=data.get("input", ""),
        messages=data.get("messages"),
        variables=data.get("variables"),
        source=source,
        user=request.user,
    )
    if wants_stream(request, data.get("stream", False)):
        return stream_run_response(prepared)
    summary: dict[str, Any] = {}
    for event in services.agent_run_execute(prepared=prepared):
        if event.type == "done":
            summary = event.data
    return Response(summary)
