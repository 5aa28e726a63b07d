"""What every node type provides, and the registry the engine and the validator read."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from workflows.expressions import render_string, render_value

MAIN = "main"
ERROR_HANDLE = "error"


class NodeError(Exception):
    """A node failed with a message fit for the execution's error and the node run's error.

    `retryable` is False for failures that running the node again cannot fix (bad parameters).
    `code` is a stable snake_case code stored with the error, such as the LLM gateway's code.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = True,
        details: dict[str, Any] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.details = details or {}
        self.code = code


@dataclass
class NodeResult:
    output: Any
    handles: list[str] = field(default_factory=lambda: [MAIN])
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # US dollars; Decimal keeps the gateway's precision in the node run's DecimalField.
    cost: Decimal | float = 0
    # Set by `respond_to_webhook`: {status, headers, body}.
    response: dict[str, Any] | None = None


@dataclass
class Wait:
    """Pause the execution until `resume_at` (or until an API call resumes it when None)."""

    resume_at: datetime | None
    state: dict[str, Any] = field(default_factory=dict)


@dataclass
class NodeContext:
    """Everything a node sees while it runs. `state` persists across the waits of one node run."""

    node: dict[str, Any]
    input: Any
    expression_context: dict[str, Any]
    state: dict[str, Any]
    attempt: int
    execution: Any
    timeout_seconds: float | None
    engine: Any = None

    @property
    def raw_parameters(self) -> dict[str, Any]:
        return self.node.get("parameters") or {}

    def parameter(self, name: str, default: Any = None) -> Any:
        """Return one parameter with its expressions rendered."""
        raw = self.raw_parameters.get(name, default)
        return render_value(raw, self.expression_context)

    def text(self, name: str, default: str = "") -> str:
        """Return one parameter rendered as text, whatever type a lone expression has."""
        raw = self.raw_parameters.get(name, default)
        return render_string(raw, self.expression_context) if isinstance(raw, str) else str(raw)


class NodeType:
    """A kind of node: its parameters' JSON schema, its output handles and how it runs.

    Subclasses set `type` and `schema` and implement `execute`, returning a NodeResult, a Wait,
    or raising NodeError.
    """

    type: ClassVar[str] = ""
    description: ClassVar[str] = ""
    schema: ClassVar[dict[str, Any]] = {"type": "object"}
    output_handles: ClassVar[tuple[str, ...]] = (MAIN,)
    # Nodes whose effects reach outside Athena; their result commits before the next one starts.
    side_effect: ClassVar[bool] = False
    is_trigger: ClassVar[bool] = False
    # Nodes that wait for a person and therefore cannot run inside a loop body.
    waits_for_person: ClassVar[bool] = False
    # Nodes that only compute (no database writes, no requests), so a timer may interrupt them
    # anywhere; `timeout_seconds` is enforced on them with workflows.timeouts.time_limit.
    interruptible: ClassVar[bool] = False

    def handles(self, parameters: dict[str, Any]) -> tuple[str, ...]:
        """Return the output handles of a node with these parameters."""
        return self.output_handles

    def check(self, parameters: dict[str, Any]) -> list[tuple[str, str]]:
        """Return `(field, message)` problems the JSON schema cannot express."""
        return []

    def execute(self, context: NodeContext) -> NodeResult | Wait:
        raise NotImplementedError


_registry: dict[str, NodeType] = {}


def register(node_class: type[NodeType]) -> type[NodeType]:
    """Add a node type to the registry; used as a class decorator."""
    _registry[node_class.type] = node_class()
    return node_class


def node_type(name: str) -> NodeType | None:
    return _registry.get(name)


def node_types() -> dict[str, NodeType]:
    return dict(_registry)


def strict_object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    """Build an object schema that rejects unknown parameters."""
    return {
        "type": "object",
        "properties": properties,
        "required": required or [],
        "additionalProperties": False,
    }
