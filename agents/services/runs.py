"""Run an agent: build its messages, record the run as an AgentRun, and rate runs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from agents import selectors
from agents.conf import agent_setting
from agents.errors import AgentNotConfigured, ToolError
from agents.models import Agent, AgentRun, RunStatus
from agents.runtime import RunEvent, RunLimits, RunResult, run_agent_loop
from agents.services.agents import effective_limits
from agents.templates import render_template
from agents.tools.registry import BoundTool, ToolContext, tool_type
from athena_site.api.errors import ValidationFailed

logger = logging.getLogger(__name__)

MESSAGE_ROLES = ("system", "user", "assistant")


@dataclass
class PreparedRun:
    """A run whose AgentRun row exists and whose messages are built, ready for `agent_run_execute`."""

    agent: Agent
    run: AgentRun
    messages: list[dict[str, Any]]
    user: Any = None
    cancel: threading.Event = field(default_factory=threading.Event)


def _system_message(agent: Agent, variables: dict[str, Any], memories: list[Any]) -> str | None:
    parts = []
    if agent.instructions:
        parts.append(render_template(agent.instructions, variables))
    if memories:
        listed = "\n".join(f"- [{memory.kind}] {memory.content}" for memory in memories)
        parts.append(f"Relevant memories (use them when they help answer):\n{listed}")
    return "\n\n".join(parts) or None


def build_messages(
    *, agent: Agent, input: str, messages: list[dict[str, Any]] | None, variables: dict[str, Any]
) -> list[dict[str, Any]]:
    """Build the chat: instructions and retrieved memories, few-shot examples, prior messages, the input."""
    memories: list[Any] = []
    if agent.memory_enabled and input:
        limit = (
            agent.memory_limit if agent.memory_limit is not None else int(agent_setting("ATHENA_AGENT_MEMORY_LIMIT"))
        )
        memories = selectors.memory_retrieve(
            workspace_id=agent.workspace_id, agent_id=agent.pk, query=input, limit=limit
        )
    chat: list[dict[str, Any]] = []
    system = _system_message(agent, variables, memories)
    if system:
        chat.append({"role": "system", "content": system})
    for example in selectors.memory_examples(agent=agent):
        metadata = example.metadata or {}
        if metadata.get("input") and metadata.get("output"):
            chat.append({"role": "user", "content": str(metadata["input"])})
            chat.append({"role": "assistant", "content": str(metadata["output"])})
    for message in messages or []:
        chat.append({"role": message["role"], "content": message["content"]})
    if input:
        chat.append({"role": "user", "content": input})
    return chat


def agent_run_prepare(
    *,
    agent: Agent,
    input: str,
    source: str,
    user: Any = None,
    messages: list[dict[str, Any]] | None = None,
    variables: dict[str, Any] | None = None,
) -> PreparedRun:
    """Check the agent can run, build its messages and record a `running` AgentRun.

    Raises AgentNotConfigured without a model or account, and ValidationFailed when the
    instructions use a variable that is not given (nothing is recorded then).
    """
    if agent.model is None or agent.account is None:
        raise AgentNotConfigured()
    if not input and not messages:
        raise ValidationFailed(errors={"input": ["Send an input or at least one message."]})
    chat = build_messages(agent=agent, input=input, messages=messages, variables=variables or {})
    run = AgentRun.objects.create(
        workspace_id=agent.workspace_id,
        agent=agent,
        user=user if getattr(user, "is_authenticated", False) else None,
        source=source,
        input=input,
    )
    logger.info("Agent run started", extra={"agent_id": str(agent.pk), "run_id": str(run.pk), "source": source})
    return PreparedRun(agent=agent, run=run, messages=chat, user=user)


def _bound_tools(prepared: PreparedRun) -> list[BoundTool]:
    agent = prepared.agent
    context = ToolContext(
        workspace_id=agent.workspace_id, agent=agent, user=prepared.user, run_id=prepared.run.pk, cancel=prepared.cancel
    )
    tools: list[BoundTool] = []
    for config in agent.tools or []:
        registered = tool_type(config.get("type", ""))
        if registered is None:
            raise ToolError(f"The tool type '{config.get('type')}' is no longer available.")
        tools.extend(registered.build(config, context))
    return tools


def agent_run_execute(*, prepared: PreparedRun, stream: bool = False) -> Iterator[RunEvent]:
    """Run a prepared agent run and yield the runtime's events; the `done` data is the API summary.

    The AgentRun row is updated with the result before `done` is yielded. When the consumer
    stops early (a closed generator), the run is recorded as canceled.
    """
    agent, run = prepared.agent, prepared.run
    result: RunResult | None = None
    try:
        try:
            tools = _bound_tools(prepared)
        except ToolError as exc:
            result = RunResult(status=RunStatus.FAILED, error={"code": "tool_unavailable", "message": str(exc)})
            yield RunEvent("error", result.error)
        else:
            for event in run_agent_loop(
                model=agent.model,
                account=agent.account,
                messages=prepared.messages,
                tools=tools,
                limits=RunLimits.from_dict(effective_limits(agent)),
                response_format=agent.response_format or None,
                max_output_tokens=agent.max_output_tokens,
                sampling={"temperature": agent.temperature, "top_p": agent.top_p},
                stream=stream,
                cancel=prepared.cancel,
            ):
                if event.type == "done":
                    result = event.data
                    break
                yield event
    finally:
        if result is None:
            result = RunResult(status=RunStatus.CANCELED, error={"code": "run_canceled", "message": "Stopped."})
        _record(run, result)
    yield RunEvent("done", {"run_id": str(run.pk), **result.summary()})


def _record(run: AgentRun, result: RunResult) -> None:
    run.status = result.status
    run.output = result.output
    run.steps = result.steps
    run.input_tokens = result.input_tokens
    run.output_tokens = result.output_tokens
    run.cost = result.cost
    run.latency_ms = result.latency_ms
    run.finish_reason = result.finish_reason or ""
    run.error = result.error
    run.finished_at = timezone.now()
    run.save()
    logger.info(
        "Agent run finished with %s",
        result.status,
        extra={
            "agent_id": str(run.agent_id),
            "run_id": str(run.pk),
            "duration_ms": result.latency_ms,
            "error_code": (result.error or {}).get("code"),
        },
    )


def agent_run_rate(*, run: AgentRun, rating: int, comment: str = "") -> AgentRun:
    """Store a 1-5 rating of a run, which the leaderboard averages."""
    run.rating = rating
    run.rating_comment = comment
    run.save(update_fields=["rating", "rating_comment"])
    return run
