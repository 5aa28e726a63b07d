"""The registry of tool types an agent's `tools` list may use.

A tool type turns one entry of an agent's `tools` (a dict with a `type` key) into the tools the
model receives. Built-in types are `memory_search`, `memory_save` and `http`; other apps add
theirs with `register_tool_type` from their `AppConfig.ready()`, so that agents never import them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured

TOOL_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class ToolContext:
    """The scope of a tool during one run: the agent's workspace, the agent, the caller and the run."""

    workspace_id: Any
    agent: Any
    user: Any = None
    run_id: Any = None
    # Set when the run is stopped; long tools may check it and return early.
    cancel: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class BoundTool:
    """A tool as the model receives it, bound to one run: name, description, JSON schema and the callable."""

    name: str
    description: str
    parameters: dict[str, Any]
    execute: Callable[[dict[str, Any]], Any]

    def definition(self) -> dict[str, Any]:
        """Return the tool in OpenAI's function-tool shape, which the gateway accepts for every vendor."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


# validate(config, workspace_id) -> the normalised config; raises ValueError with a readable message.
ConfigValidator = Callable[[dict[str, Any], Any], dict[str, Any]]
# build(config, context) -> the tools one config entry gives the model.
ToolBuilder = Callable[[dict[str, Any], ToolContext], list[BoundTool]]


@dataclass(frozen=True)
class ToolType:
    name: str
    description: str
    validate: ConfigValidator
    build: ToolBuilder


_tool_types: dict[str, ToolType] = {}


def register_tool_type(
    name: str, *, build: ToolBuilder, validate: ConfigValidator | None = None, description: str = ""
) -> None:
    """Add a tool type; registering the same builder again under its name is allowed.

    `validate(config, workspace_id)` runs when an agent is saved and returns the config to store,
    or raises ValueError. `build(config, context)` runs at the start of each run and returns the
    BoundTool list the model gets; it may raise ToolError when the tool cannot be set up.
    """
    if not TOOL_NAME_PATTERN.match(name):
        raise ImproperlyConfigured(f"'{name}' is not a valid tool type name; use letters, digits, _ and -.")
    existing = _tool_types.get(name)
    if existing is not None and existing.build is not build:
        raise ImproperlyConfigured(f"The tool type '{name}' is already registered.")
    _tool_types[name] = ToolType(name=name, description=description, validate=validate or _accept_config, build=build)


def unregister_tool_type(name: str) -> None:
    _tool_types.pop(name, None)


def tool_type(name: str) -> ToolType | None:
    return _tool_types.get(name)


def tool_types() -> dict[str, ToolType]:
    """Return the registered tool types by name, in registration order."""
    return dict(_tool_types)


def _accept_config(config: dict[str, Any], workspace_id: Any) -> dict[str, Any]:
    return config
