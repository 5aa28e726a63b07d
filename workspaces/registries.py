"""Registries that apps above workspaces fill from their `AppConfig.ready()`.

Workspaces imports no app above it, so the apps that own agents, workflows and threads tell it
here how to count their objects for workspace metrics and how to check that an object a
command-room task refers to exists.
"""

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured

# counter(workspace_ids, date_from, date_to) -> {workspace_id: count or {name: count}}.
# Workspaces missing from the result count as 0. Either date may be None for an open range.
MetricCounter = Callable[[list[uuid.UUID], datetime | None, datetime | None], dict[Any, Any]]
# exists(workspace_id, reference_id) -> whether that object exists in that workspace.
ReferenceExists = Callable[[uuid.UUID, uuid.UUID], bool]

# Kinds a command-room task may reference; `note` references nothing and needs no entry.
REFERENCE_KINDS = ("agent", "workflow", "workflow_execution", "thread")

_metric_counters: dict[str, MetricCounter] = {}
_reference_kinds: dict[str, ReferenceExists] = {}


def register_metric(name: str, counter: MetricCounter) -> None:
    """Add a workspace metric; registering the same counter again under its name is allowed."""
    existing = _metric_counters.get(name)
    if existing is not None and existing is not counter:
        raise ImproperlyConfigured(f"The workspace metric '{name}' is already registered by another counter.")
    _metric_counters[name] = counter


def unregister_metric(name: str) -> None:
    _metric_counters.pop(name, None)


def metric_counters() -> dict[str, MetricCounter]:
    """Return the registered metrics by name, in registration order."""
    return dict(_metric_counters)


def register_reference_kind(kind: str, exists: ReferenceExists) -> None:
    """Let command-room tasks reference objects of `kind`, checked with `exists`."""
    if kind not in REFERENCE_KINDS:
        raise ImproperlyConfigured(f"'{kind}' is not a command-room reference kind; use one of {REFERENCE_KINDS}.")
    existing = _reference_kinds.get(kind)
    if existing is not None and existing is not exists:
        raise ImproperlyConfigured(f"The command-room reference kind '{kind}' is already registered.")
    _reference_kinds[kind] = exists


def unregister_reference_kind(kind: str) -> None:
    _reference_kinds.pop(kind, None)


def registered_reference_kinds() -> Iterable[str]:
    return tuple(_reference_kinds)


def reference_exists(*, kind: str, workspace_id: uuid.UUID, reference_id: uuid.UUID) -> bool:
    """Tell whether the object exists in the workspace; raises KeyError for an unregistered kind."""
    return bool(_reference_kinds[kind](workspace_id, reference_id))
