"""Settings of the agents app, each read when used so that tests and deployments can override it."""

from decimal import Decimal
from typing import Any

from django.conf import settings

# Setting name -> default. Limits apply to one agent run; an agent may lower or raise them.
DEFAULTS: dict[str, Any] = {
    "ATHENA_AGENT_MAX_STEPS": 8,
    "ATHENA_AGENT_MAX_TOKENS": 50_000,
    # US dollars; None means no cost limit.
    "ATHENA_AGENT_MAX_COST": "1.00",
    "ATHENA_AGENT_MAX_SECONDS": 120,
    # Seconds between SSE comment lines that keep proxies from closing an idle stream.
    "ATHENA_AGENT_STREAM_HEARTBEAT_SECONDS": 15.0,
    # Largest `input` of a run and largest content of a memory, in characters.
    "ATHENA_AGENT_MAX_INPUT_CHARS": 100_000,
    "ATHENA_AGENT_MAX_MESSAGES": 200,
    # Memories retrieved into a run when the agent does not set its own number.
    "ATHENA_AGENT_MEMORY_LIMIT": 5,
    # Candidates pre-selected by full-text search before embeddings rank them.
    "ATHENA_AGENT_MEMORY_CANDIDATES": 200,
    # Model used to embed memories: a LargeLanguageModel id and the Account id to call it with.
    "ATHENA_AGENT_EMBEDDING_MODEL_ID": None,
    "ATHENA_AGENT_EMBEDDING_ACCOUNT_ID": None,
    # Training: document chunk size and overlap, in characters.
    "ATHENA_AGENT_CHUNK_SIZE": 1000,
    "ATHENA_AGENT_CHUNK_OVERLAP": 100,
    "ATHENA_AGENT_MAX_TRAINING_ITEMS": 500,
    # Public share links: runs allowed per token and window.
    "ATHENA_AGENT_PUBLIC_RUNS_PER_WINDOW": 20,
    "ATHENA_AGENT_PUBLIC_WINDOW_SECONDS": 60,
    # Largest tool result sent back to the model, in characters; longer results are cut.
    "ATHENA_AGENT_MAX_TOOL_RESULT_CHARS": 20_000,
    "ATHENA_AGENT_HTTP_TOOL_TIMEOUT_SECONDS": 15.0,
    # Bound on one exchange with an MCP server (connecting, then listing tools or one call), in seconds.
    "ATHENA_AGENT_MCP_TIMEOUT_SECONDS": 15.0,
}


def agent_setting(name: str) -> Any:
    """Return the setting `name`, or its default from DEFAULTS."""
    return getattr(settings, name, DEFAULTS[name])


def default_limits() -> dict[str, Any]:
    """Return the run limits an agent gets when it sets none: steps, tokens, cost (USD) and seconds."""
    cost = agent_setting("ATHENA_AGENT_MAX_COST")
    return {
        "max_steps": int(agent_setting("ATHENA_AGENT_MAX_STEPS")),
        "max_tokens": int(agent_setting("ATHENA_AGENT_MAX_TOKENS")),
        "max_cost": str(Decimal(str(cost))) if cost is not None else None,
        "max_seconds": float(agent_setting("ATHENA_AGENT_MAX_SECONDS")),
    }
