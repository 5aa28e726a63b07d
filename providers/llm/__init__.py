"""The LLM gateway every agent, prompt and LLM node calls: `chat`, `embed` and `list_models`."""

from providers.llm.gateway import chat, embed, list_models
from providers.llm.types import ChatResult, EmbeddingResult, TextDelta, ToolCall, Usage

__all__ = ["ChatResult", "EmbeddingResult", "TextDelta", "ToolCall", "Usage", "chat", "embed", "list_models"]
