"""The public run of a shared agent link: no account, rate limited per link."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from agents import selectors
from agents.api import examples
from agents.api.serializers import AgentRunRequestSerializer, AgentRunResultSerializer
from agents.api.streaming import SSE_RESPONSE_DESCRIPTION, EventStreamRenderer
from agents.api.views import run_response
from agents.conf import agent_setting
from agents.models import Agent, RunSource
from agents.services.shares import public_link_rate_check
from athena_site.api.errors import Forbidden, NotFound
from athena_site.api.renderers import EnvelopeJSONRenderer


def check_public_rate(token: str) -> None:
    """Count one run of the link; raises 429 with Retry-After past the limit."""
    public_link_rate_check(
        scope="agents",
        token=token,
        limit=int(agent_setting("ATHENA_AGENT_PUBLIC_RUNS_PER_WINDOW")),
        window=int(agent_setting("ATHENA_AGENT_PUBLIC_WINDOW_SECONDS")),
    )


class PublicAgentRunView(APIView):
    """Run an agent shared by public link. The token is the only credential; it reaches nothing else."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes: list = []
    renderer_classes = [EnvelopeJSONRenderer, EventStreamRenderer]

    @extend_schema(
        tags=["Agent"],
        summary="Run a shared agent by public link",
        description="No account needed. Rate limited per link (429 with Retry-After). Responds like "
        "`POST agents/{id}/run`, JSON or Server-Sent Events.",
        parameters=[OpenApiParameter("share_token", OpenApiTypes.STR, OpenApiParameter.PATH)],
        request=AgentRunRequestSerializer,
        responses={
            200: AgentRunResultSerializer,
            (200, "text/event-stream"): OpenApiResponse(
                response=OpenApiTypes.STR, description=SSE_RESPONSE_DESCRIPTION
            ),
        },
        examples=[examples.RUN_REQUEST, examples.RUN_RESULT],
        auth=[],
    )
    def post(self, request: Request, share_token: str) -> Any:
        share = selectors.share_find_public(token=share_token, target_type=selectors.AGENT_TARGET)
        agent = Agent.objects.select_related("model", "account").filter(pk=share.target_id).first() if share else None
        if agent is None:
            raise NotFound()
        if share.permission not in ("run", "edit"):
            raise Forbidden("This link allows viewing the agent, not running it.")
        check_public_rate(share_token)

        serializer = AgentRunRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return run_response(request, agent=agent, data=serializer.validated_data, source=RunSource.PUBLIC)
