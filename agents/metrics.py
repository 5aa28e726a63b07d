"""Metric source of the agents app: agent runs over time, with their tokens and cost."""

import uuid
from collections.abc import Mapping
from typing import Any

from django.db.models import F, QuerySet

from agents.models import AgentRun
from athena_site.metrics import MetricSource


def agent_runs_for_metrics(workspace_id: uuid.UUID, filters: Mapping[str, Any]) -> QuerySet[AgentRun]:
    """Return the agent runs of one workspace, optionally of one agent, with `tokens` annotated."""
    runs = AgentRun.objects.filter(workspace_id=workspace_id)
    if filters.get("agent"):
        runs = runs.filter(agent_id=filters["agent"])
    return runs.annotate(tokens=F("input_tokens") + F("output_tokens"))


AGENT_RUNS = MetricSource(
    name="agents",
    ability="agents:read",
    queryset=agent_runs_for_metrics,
    filters={"agent": "uuid"},
    sums={"tokens": "tokens", "cost": "cost"},
)
