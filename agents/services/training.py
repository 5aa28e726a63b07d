"""Training jobs: turn examples, documents and feedback into memories of an agent, in the background."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from agents.conf import agent_setting
from agents.models import Agent, AgentRun, JobStatus, Memory, MemoryKind, MemorySource, TrainingJob
from agents.services.memories import memory_create_many

logger = logging.getLogger(__name__)


def chunk_text(text: str, *, size: int, overlap: int) -> list[str]:
    """Split text into chunks of at most `size` characters, each repeating the last `overlap` of the previous.

    A chunk ends at the last whitespace of its window when there is one in its second half,
    so that words are not cut.
    """
    text = text.strip()
    if not text:
        return []
    overlap = max(0, min(overlap, size // 2))
    chunks: list[str] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            space = text.rfind(" ", start + size // 2, end)
            if space > start:
                end = space
        chunk = text[start:end].strip()
        if chunk:
            chunks.append(chunk)
        if end >= len(text):
            break
        start = max(end - overlap, start + 1)
    return chunks


def training_job_create(*, agent: Agent, user: Any, payload: dict[str, Any]) -> TrainingJob:
    """Record a queued training job and queue `agents.train_agent` once the transaction commits."""
    from agents.tasks import train_agent

    job = TrainingJob.objects.create(
        workspace_id=agent.workspace_id,
        agent=agent,
        payload=payload,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    job_id = str(job.pk)
    transaction.on_commit(lambda: train_agent.delay(job_id))
    logger.info("Training job queued", extra={"agent_id": str(agent.pk), "job_id": job_id})
    return job


def _items(job: TrainingJob, errors: list[str]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    agent = job.agent
    payload = job.payload or {}
    marker = {"training_job_id": str(job.pk)}
    items: list[dict[str, Any]] = []
    counts = {"examples": 0, "chunks": 0, "corrections": 0, "ratings": 0}

    for example in payload.get("examples", []):
        items.append(
            {
                "agent": agent,
                "kind": MemoryKind.EXAMPLE,
                "content": f"{example['input']}\n{example['output']}",
                "metadata": {**marker, "input": example["input"], "output": example["output"]},
                "source": MemorySource.TRAINING,
            }
        )
        counts["examples"] += 1

    size = int(agent_setting("ATHENA_AGENT_CHUNK_SIZE"))
    overlap = int(agent_setting("ATHENA_AGENT_CHUNK_OVERLAP"))
    for document in payload.get("documents", []):
        chunks = chunk_text(document["content"], size=size, overlap=overlap)
        for index, chunk in enumerate(chunks):
            items.append(
                {
                    "agent": agent,
                    "kind": MemoryKind.DOCUMENT,
                    "content": chunk,
                    "metadata": {**marker, "title": document.get("title", ""), "chunk": index, "chunks": len(chunks)},
                    "source": MemorySource.TRAINING,
                }
            )
        counts["chunks"] += len(chunks)

    for feedback in payload.get("feedback", []):
        run = AgentRun.objects.filter(agent=agent, pk=feedback["run_id"]).first()
        if run is None:
            errors.append(f"feedback run {feedback['run_id']}: not a run of this agent.")
            continue
        if feedback.get("rating") is not None:
            run.rating = feedback["rating"]
            run.save(update_fields=["rating"])
            counts["ratings"] += 1
        if feedback.get("correction"):
            items.append(
                {
                    "agent": agent,
                    "kind": MemoryKind.FACT,
                    "content": f'Correction to the answer to "{run.input[:500]}": {feedback["correction"]}',
                    "metadata": {**marker, "run_id": str(run.pk)},
                    "source": MemorySource.TRAINING,
                    "importance": 0.9,
                }
            )
            counts["corrections"] += 1
    return items, counts


def training_job_run(*, job_id: str) -> None:
    """Run a training job; a job that vanished or already finished is left alone.

    A job found `running` was interrupted: its memories are deleted and it starts over, so
    running the task twice creates each memory once.
    """
    job = TrainingJob.objects.select_related("agent").filter(pk=job_id).first()
    if job is None or job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        return
    Memory.objects.filter(agent=job.agent, metadata__training_job_id=str(job.pk)).delete()
    job.status, job.started_at = JobStatus.RUNNING, timezone.now()
    job.save(update_fields=["status", "started_at"])

    errors: list[str] = []
    try:
        items, counts = _items(job, errors)
        memory_create_many(workspace_id=job.workspace_id, items=items)
    except Exception:
        # Any failure ends the job as failed with a readable error instead of leaving it running.
        logger.exception("Training job failed", extra={"job_id": str(job.pk), "agent_id": str(job.agent_id)})
        job.status, job.errors = JobStatus.FAILED, [*errors, "The training job failed unexpectedly."]
    else:
        job.status, job.counts, job.errors = JobStatus.SUCCEEDED, counts, errors
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "counts", "errors", "finished_at"])
    logger.info("Training job finished with %s", job.status, extra={"job_id": str(job.pk)})
