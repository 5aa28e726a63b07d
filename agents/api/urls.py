"""Routes of the agents API, mounted under /api/v1/."""

from django.urls import re_path

from agents.api.memory_views import MemoryViewSet
from agents.api.prompt_views import PromptViewSet
from agents.api.public import PublicAgentRunView
from agents.api.views import AgentViewSet
from athena_site.api.routers import ApiRouter

router = ApiRouter()
router.register("agents", AgentViewSet, basename="agent")
router.register("memories", MemoryViewSet, basename="memory")
router.register("prompts", PromptViewSet, basename="prompt")

urlpatterns = [
    re_path(
        r"^public/agents/(?P<share_token>[A-Za-z0-9_-]{16,64})/run/?$",
        PublicAgentRunView.as_view(),
        name="agent-public-run",
    ),
    *router.urls,
]
