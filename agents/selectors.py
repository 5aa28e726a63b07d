"""Reads and permission scoping of the agents app: agents, shares, runs, memories, prompts, the leaderboard."""

from __future__ import annotations

import math
import re
import statistics
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Avg, Count, FloatField, Q, QuerySet
from django.utils import timezone

from agents.models import Agent, AgentRun, Memory, MemoryKind, Prompt, RunStatus, Share, TrainingJob, hash_share_token
from athena_site.api.errors import NotFound

AGENT_TARGET = "agent"
_PERMISSION_RANK = {"view": 1, "run": 2, "edit": 3}
_WORD = re.compile(r"\w+", re.UNICODE)
LEADERBOARD_PERIODS = {"7d": 7, "30d": 30, "90d": 90, "all": None}


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


# --- agents -------------------------------------------------------------------------------


def agent_list(*, workspace_ids: list[Any], workspaces_active: bool = False) -> QuerySet[Agent]:
    """Return the agents of the given workspaces with their model and account.

    Agents of workspaces being deleted are left out. A caller whose ids come only from active
    workspaces passes `workspaces_active`, which spares the join: counting a large workspace's
    agents then reads the index alone.
    """
    agents = Agent.objects.filter(workspace_id__in=list(workspace_ids))
    if not workspaces_active:
        agents = agents.filter(workspace__deleting_at__isnull=True)
    return agents.select_related("model", "account", "model__provider")


def agent_shared_with_user(*, user: Any) -> QuerySet[Agent]:
    """Return the agents other users shared with `user` (any workspace)."""
    granted = Share.objects.filter(target_type=AGENT_TARGET, user=user).values("target_id")
    return Agent.objects.filter(pk__in=granted, workspace__deleting_at__isnull=True).select_related(
        "model", "account", "model__provider"
    )


def agent_share_permission(*, agent: Agent, user: Any) -> str | None:
    """Return the strongest permission of the shares of `agent` with `user`, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    permissions = Share.objects.filter(target_type=AGENT_TARGET, target_id=agent.pk, user=user).values_list(
        "permission", flat=True
    )
    return max(permissions, key=lambda permission: _PERMISSION_RANK.get(permission, 0), default=None)


def agent_slug_taken(*, workspace_id: Any, slug: str, exclude_id: Any = None) -> bool:
    agents = Agent.objects.filter(workspace_id=workspace_id, slug=slug)
    if exclude_id is not None:
        agents = agents.exclude(pk=exclude_id)
    return agents.exists()


def agent_exists(workspace_id: uuid.UUID, agent_id: uuid.UUID) -> bool:
    """Tell whether the agent exists in the workspace (the command room's `agent` reference kind)."""
    return Agent.objects.filter(workspace_id=workspace_id, pk=agent_id).exists()


def agents_count(workspace_ids: list[uuid.UUID], date_from: datetime | None, date_to: datetime | None) -> dict:
    """Count the agents of each workspace created within the range."""
    return _count_by_workspace(Agent.objects.filter(workspace_id__in=workspace_ids), date_from, date_to)


def agent_runs_count(workspace_ids: list[uuid.UUID], date_from: datetime | None, date_to: datetime | None) -> dict:
    """Count the agent runs of each workspace started within the range."""
    return _count_by_workspace(AgentRun.objects.filter(workspace_id__in=workspace_ids), date_from, date_to)


def _count_by_workspace(rows: QuerySet, date_from: datetime | None, date_to: datetime | None) -> dict:
    if date_from is not None:
        rows = rows.filter(created_at__gte=date_from)
    if date_to is not None:
        rows = rows.filter(created_at__lte=date_to)
    return dict(rows.values("workspace_id").annotate(total=Count("id")).values_list("workspace_id", "total"))


# --- shares ---------------------------------------------------------------------------------


def share_list(*, target_type: str, target_id: Any) -> QuerySet[Share]:
    return Share.objects.filter(target_type=target_type, target_id=target_id).select_related("user")


def share_get(*, target_type: str, target_id: Any, share_id: Any) -> Share:
    """Return one share of the target; raises NotFound."""
    pk = _uuid(share_id)
    share = share_list(target_type=target_type, target_id=target_id).filter(pk=pk).first() if pk else None
    if share is None:
        raise NotFound()
    return share


def share_find_public(*, token: str, target_type: str) -> Share | None:
    """Return the public link share whose token is `token`, or None.

    The lookup is by the token's SHA-256 digest, so the comparison does not depend on how many
    leading characters of a guess match a stored token.
    """
    return Share.objects.filter(token_hash=hash_share_token(token), target_type=target_type, user__isnull=True).first()


# --- runs and training jobs --------------------------------------------------------------------


def agent_run_get(*, agent: Agent, run_id: Any) -> AgentRun:
    """Return one run of the agent; raises NotFound."""
    pk = _uuid(run_id)
    run = AgentRun.objects.filter(agent=agent, pk=pk).first() if pk else None
    if run is None:
        raise NotFound()
    return run


def training_job_get(*, agent: Agent, job_id: Any) -> TrainingJob:
    """Return one training job of the agent; raises NotFound."""
    pk = _uuid(job_id)
    job = TrainingJob.objects.filter(agent=agent, pk=pk).first() if pk else None
    if job is None:
        raise NotFound()
    return job


# --- memories ---------------------------------------------------------------------------------


def memory_list(*, workspace_ids: list[Any]) -> QuerySet[Memory]:
    return Memory.objects.filter(workspace_id__in=list(workspace_ids), workspace__deleting_at__isnull=True)


def memory_examples(*, agent: Agent, limit: int = 10) -> list[Memory]:
    """Return the agent's example memories (oldest first), used as few-shot messages."""
    return list(Memory.objects.filter(agent=agent, kind=MemoryKind.EXAMPLE).order_by("created_at", "id")[:limit])


def query_terms(text: str) -> list[str]:
    """Split a query into lowercase words of at least two characters, without duplicates."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if len(word) >= 2:
            seen.setdefault(word, None)
    return list(seen)[:32]


def memory_retrieve(
    *, workspace_id: Any, agent_id: Any, query: str, limit: int, include_examples: bool = False
) -> list[Memory]:
    """Return up to `limit` memories of the agent (and the workspace's memories of no agent), most relevant first.

    With an embedding model configured (see `agents.embeddings`), candidates pre-selected by
    full-text search, topped up with the most recent embedded memories, are ranked by cosine
    similarity to the query's embedding, computed in Python. Without one, PostgreSQL ranks by
    full-text search and SQLite by a keyword score.
    """
    memories = Memory.objects.filter(workspace_id=workspace_id).filter(Q(agent_id=agent_id) | Q(agent__isnull=True))
    if not include_examples:
        memories = memories.exclude(kind=MemoryKind.EXAMPLE)
    return memory_rank(memories=memories, query=query, limit=limit)


def memory_rank(*, memories: QuerySet[Memory], query: str, limit: int) -> list[Memory]:
    """Return up to `limit` of `memories`, most relevant to `query` first (see `memory_retrieve`)."""
    from agents import embeddings
    from agents.conf import agent_setting

    terms = query_terms(query)
    if limit <= 0:
        return []

    if embeddings.embedding_configured():
        candidate_count = int(agent_setting("ATHENA_AGENT_MEMORY_CANDIDATES"))
        candidates = {memory.pk: memory for memory in _text_ranked(memories, terms, candidate_count)}
        if len(candidates) < candidate_count:
            recent = memories.filter(embedding__isnull=False).order_by("-created_at")[
                : candidate_count - len(candidates)
            ]
            candidates.update({memory.pk: memory for memory in recent})
        vector = embeddings.embed_query(query)
        if vector is not None:
            scored = [
                (cosine_similarity(vector, memory.embedding), memory.importance, memory)
                for memory in candidates.values()
                if memory.embedding
            ]
            scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
            return [memory for _score, _importance, memory in scored[:limit]]

    return _text_ranked(memories, terms, limit)


def _text_ranked(memories: QuerySet[Memory], terms: list[str], limit: int) -> list[Memory]:
    if not terms:
        return []
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        # Terms are joined with OR, so a memory sharing any word with the query is a candidate.
        # The rank then prefers memories that share more of them.
        search_query = SearchQuery(" | ".join(terms), search_type="raw", config="english")
        vector = SearchVector("content", config="english")
        return list(
            memories.annotate(rank=SearchRank(vector, search_query))
            .filter(rank__gt=0)
            .order_by("-rank", "-importance", "-created_at")[:limit]
        )

    # NOTE: SQLite has no full-text ranking here: the score counts query words in the content,
    # over memories that contain at least one of them, which misses word forms PostgreSQL's
    # stemming would match.
    condition = Q()
    for term in terms:
        condition |= Q(content__icontains=term)
    scored = []
    for memory in memories.filter(condition)[:2000]:
        words = _WORD.findall(memory.content.lower())
        score = sum(words.count(term) for term in terms) / math.sqrt(len(words) or 1)
        scored.append((score, memory.importance, memory.created_at, memory))
    scored.sort(key=lambda item: (item[0], item[1], item[2]), reverse=True)
    return [item[3] for item in scored[:limit]]


def cosine_similarity(left: list[float], right: list[float]) -> float:
    """Return the cosine similarity of two vectors; 0 when their lengths differ or one is zero."""
    if len(left) != len(right):
        return 0.0
    dot = sum(a * b for a, b in zip(left, right, strict=True))
    norm = math.sqrt(sum(a * a for a in left)) * math.sqrt(sum(b * b for b in right))
    return dot / norm if norm else 0.0


# --- prompts -------------------------------------------------------------------------------------


def prompt_list(*, workspace_ids: list[Any]) -> QuerySet[Prompt]:
    return Prompt.objects.filter(
        workspace_id__in=list(workspace_ids), workspace__deleting_at__isnull=True
    ).select_related("model", "account")


# --- leaderboard ---------------------------------------------------------------------------------


class _Median(Aggregate):
    """PostgreSQL's median: `percentile_cont(0.5) WITHIN GROUP (ORDER BY expression)`."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def leaderboard_score(
    *, success_rate: float, average_rating: float | None, p50_latency_ms: float | None, average_cost: Decimal | None
) -> float:
    """Return an agent's score from 0 to 100 (docs/agents.md explains the formula).

    score = 100 * (0.45 * success_rate + 0.25 * rating + 0.15 * speed + 0.15 * thrift), where
    rating = (average_rating - 1) / 4 (0.5 when unrated), speed = 1 / (1 + p50_latency_ms / 5000)
    and thrift = 1 / (1 + average_cost / 0.01), both 1 when unknown.
    """
    rating = (average_rating - 1) / 4 if average_rating is not None else 0.5
    speed = 1 / (1 + p50_latency_ms / 5000) if p50_latency_ms is not None else 1.0
    thrift = 1 / (1 + float(average_cost) / 0.01) if average_cost is not None else 1.0
    return round(100 * (0.45 * success_rate + 0.25 * rating + 0.15 * speed + 0.15 * thrift), 2)


def agent_leaderboard(*, workspace_id: Any, period: str) -> list[dict[str, Any]]:
    """Return one row per agent of the workspace with runs in the period: counts, averages and score.

    Runs still in progress are left out. Rows are unordered; the caller sorts them.
    """
    runs = AgentRun.objects.filter(workspace_id=workspace_id).exclude(status=RunStatus.RUNNING)
    days = LEADERBOARD_PERIODS[period]
    if days is not None:
        runs = runs.filter(created_at__gte=timezone.now() - timedelta(days=days))
    aggregates: dict[str, Any] = {
        "runs": Count("id"),
        "succeeded": Count("id", filter=Q(status=RunStatus.SUCCEEDED)),
        "average_rating": Avg("rating"),
        "average_cost": Avg("cost"),
    }
    postgres = connection.vendor == "postgresql"
    if postgres:
        aggregates["p50_latency_ms"] = _Median("latency_ms")
    rows = list(runs.values("agent_id").annotate(**aggregates))
    if not postgres:
        latencies: dict[Any, list[int]] = {}
        for agent_id, latency in runs.filter(latency_ms__isnull=False).values_list("agent_id", "latency_ms"):
            latencies.setdefault(agent_id, []).append(latency)
        for row in rows:
            values = latencies.get(row["agent_id"])
            row["p50_latency_ms"] = statistics.median(values) if values else None

    agents = Agent.objects.in_bulk([row["agent_id"] for row in rows])
    board = []
    for row in rows:
        success_rate = row["succeeded"] / row["runs"] if row["runs"] else 0.0
        average_cost = Decimal(str(row["average_cost"])) if row["average_cost"] is not None else None
        average_rating = float(row["average_rating"]) if row["average_rating"] is not None else None
        p50 = float(row["p50_latency_ms"]) if row["p50_latency_ms"] is not None else None
        board.append(
            {
                "agent": agents[row["agent_id"]],
                "runs": row["runs"],
                "success_rate": round(success_rate, 4),
                "average_rating": round(average_rating, 2) if average_rating is not None else None,
                "p50_latency_ms": round(p50) if p50 is not None else None,
                "average_cost": average_cost.quantize(Decimal("0.00000001")) if average_cost is not None else None,
                "score": leaderboard_score(
                    success_rate=success_rate,
                    average_rating=average_rating,
                    p50_latency_ms=p50,
                    average_cost=average_cost,
                ),
            }
        )
    return board
