"""Results of the LLM gateway, the same for every vendor."""

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class ToolCall:
    """A function call the model requested; `arguments` is the raw JSON text the model wrote."""

    id: str
    name: str
    arguments: str

    def parsed_arguments(self) -> Any:
        """Return the arguments decoded from JSON; raises ValueError when the model wrote invalid JSON."""
        return json.loads(self.arguments or "{}")


@dataclass(frozen=True)
class ChatResult:
    """A finished chat completion. `cost` is in US dollars, None when the model has no prices."""

    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    cost: Decimal | None = None
    model: str = ""


@dataclass(frozen=True)
class TextDelta:
    """A piece of text of a streamed reply."""

    text: str


@dataclass(frozen=True)
class EmbeddingResult:
    vectors: list[list[float]]
    usage: Usage = field(default_factory=Usage)
    cost: Decimal | None = None
    model: str = ""
