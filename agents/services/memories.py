"""Create, update and delete memories, embedding their content when an embedding model is configured."""

from __future__ import annotations

from typing import Any

from agents import embeddings
from agents.models import Memory

_MEMORY_FIELDS = ("agent", "user", "thread_id", "kind", "content", "metadata", "importance", "source")


def _embed(memories: list[Memory]) -> None:
    embedded = embeddings.embed_texts([memory.content for memory in memories])
    if embedded is None:
        return
    vectors, model = embedded
    for memory, vector in zip(memories, vectors, strict=False):
        memory.embedding = vector
        memory.embedding_model = model


def memory_create(*, workspace_id: Any, data: dict[str, Any]) -> Memory:
    """Store a memory in the workspace, with its embedding when embeddings are configured."""
    memory = Memory(workspace_id=workspace_id, **{key: data[key] for key in _MEMORY_FIELDS if key in data})
    _embed([memory])
    memory.save()
    return memory


def memory_create_many(*, workspace_id: Any, items: list[dict[str, Any]]) -> list[Memory]:
    """Store several memories with one embedding request per batch."""
    memories = [
        Memory(workspace_id=workspace_id, **{key: item[key] for key in _MEMORY_FIELDS if key in item}) for item in items
    ]
    _embed(memories)
    return Memory.objects.bulk_create(memories)


def memory_update(*, memory: Memory, data: dict[str, Any]) -> Memory:
    """Update the given fields; a changed content gets a new embedding (or none)."""
    content_changed = "content" in data and data["content"] != memory.content
    for key in _MEMORY_FIELDS:
        if key in data:
            setattr(memory, key, data[key])
    if content_changed:
        memory.embedding, memory.embedding_model = None, ""
        _embed([memory])
    memory.save()
    return memory


def memory_delete(*, memory: Memory) -> None:
    memory.delete()
