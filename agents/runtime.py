"""The agent runtime: call the model, execute the tools it requests, and loop to an answer or a limit.

The runtime knows nothing of agents' storage: it takes messages in OpenAI's Chat Completions
shape, bound tools and limits, and yields events. Threads, workflows and the agents API all
run agents through it (via `agents.services.agent_run_prepare` and `agent_run_execute`).

Events, in order: `delta` (text of a streamed reply), `step` (one executed tool call), then
`error` when the run failed, and always one final `done` whose data is the RunResult.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from jsonschema import Draft202012Validator

from agents.conf import agent_setting
from agents.errors import AgentLimitExceeded, RunCanceled, ToolError
from agents.tools.registry import BoundTool
from athena_site.api.errors import ApplicationError
from providers import llm
from providers.errors import LLMError, LLMTimeout
from providers.llm import ChatResult, TextDelta, ToolCall

logger = logging.getLogger(__name__)

# Tests replace this seam to control time.
_clock: Callable[[], float] = time.monotonic


@dataclass(frozen=True)
class RunLimits:
    """Caps of one run. `max_cost` is in US dollars; None disables a cap."""

    max_steps: int
    max_tokens: int | None = None
    max_cost: Decimal | None = None
    max_seconds: float | None = None

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunLimits:
        cost = values.get("max_cost")
        return cls(
            max_steps=int(values["max_steps"]),
            max_tokens=int(values["max_tokens"]) if values.get("max_tokens") is not None else None,
            max_cost=Decimal(str(cost)) if cost is not None else None,
            max_seconds=float(values["max_seconds"]) if values.get("max_seconds") is not None else None,
        )


@dataclass
class RunResult:
    status: str = "succeeded"
    output: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Decimal | None = None
    latency_ms: int = 0
    finish_reason: str | None = None
    error: dict[str, Any] | None = None

    def summary(self) -> dict[str, Any]:
        """Return the result in the API's shape (without the run id)."""
        return {
            "status": self.status,
            "output": self.output,
            "steps": self.steps,
            "usage": {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens},
            "cost": str(self.cost) if self.cost is not None else None,
            "latency_ms": self.latency_ms,
            "finish_reason": self.finish_reason,
            "error": self.error,
        }


@dataclass(frozen=True)
class RunEvent:
    type: str
    data: Any


@dataclass
class _Budget:
    limits: RunLimits
    started: float
    model_calls: int = 0
    result: RunResult = field(default_factory=RunResult)

    def remaining_seconds(self) -> float | None:
        if self.limits.max_seconds is None:
            return None
        return self.limits.max_seconds - (_clock() - self.started)

    def check_time(self) -> None:
        remaining = self.remaining_seconds()
        if remaining is not None and remaining <= 0:
            raise AgentLimitExceeded("max_seconds", f"The run took longer than {self.limits.max_seconds:g} seconds.")

    def check_before_call(self) -> None:
        if self.model_calls >= self.limits.max_steps:
            raise AgentLimitExceeded(
                "max_steps", f"The run needed more than {self.limits.max_steps} model calls to finish."
            )
        self.check_time()

    def add_usage(self, chat: ChatResult) -> None:
        result = self.result
        result.input_tokens += chat.usage.input_tokens
        result.output_tokens += chat.usage.output_tokens
        if chat.cost is not None:
            result.cost = (result.cost or Decimal(0)) + chat.cost
        limits = self.limits
        if limits.max_tokens is not None and result.input_tokens + result.output_tokens > limits.max_tokens:
            raise AgentLimitExceeded("max_tokens", f"The run used more than {limits.max_tokens} tokens.")
        if limits.max_cost is not None and result.cost is not None and result.cost > limits.max_cost:
            raise AgentLimitExceeded("max_cost", f"The run cost more than {limits.max_cost} US dollars.")


def run_agent_loop(
    *,
    model: Any,
    account: Any,
    messages: list[dict[str, Any]],
    tools: list[BoundTool],
    limits: RunLimits,
    response_format: dict[str, Any] | None = None,
    max_output_tokens: int | None = None,
    sampling: dict[str, float] | None = None,
    stream: bool = False,
    cancel: threading.Event | None = None,
) -> Iterator[RunEvent]:
    """Run the tool loop and yield its events, ending with `done` (see the module docstring).

    Model errors (LLMError), application errors, tool failures and limits do not raise. They
    end the run with status `failed` and an `error` event. `messages` is extended in place
    with the assistant and tool messages.
    """
    cancel = cancel or threading.Event()
    budget = _Budget(limits=limits, started=_clock())
    result = budget.result
    by_name = {tool.name: tool for tool in tools}
    definitions = [tool.definition() for tool in tools] or None

    try:
        while True:
            _check_cancel(cancel)
            budget.check_before_call()
            budget.model_calls += 1
            chat = yield from _call_model(
                model=model,
                account=account,
                messages=messages,
                tools=definitions,
                response_format=response_format,
                max_output_tokens=max_output_tokens,
                sampling=sampling,
                stream=stream,
                budget=budget,
                cancel=cancel,
            )
            result.output = chat.text or ""
            result.finish_reason = chat.finish_reason
            budget.add_usage(chat)
            # The gateway retries slow attempts, so a call can return after the deadline.
            budget.check_time()
            if not chat.tool_calls:
                break

            messages.append(_assistant_message(chat))
            for call in chat.tool_calls:
                _check_cancel(cancel)
                budget.check_time()
                step, content = _execute_tool(call, by_name)
                result.steps.append(step)
                messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
                yield RunEvent("step", step)
    except AgentLimitExceeded as exc:
        result.status = "failed"
        result.error = {"code": exc.code, "message": exc.message, "limit": exc.limit}
    except RunCanceled as exc:
        result.status = "canceled"
        result.error = {"code": exc.code, "message": exc.message}
    except LLMTimeout as exc:
        result.status = "failed"
        remaining = budget.remaining_seconds()
        if remaining is not None and remaining <= 0:
            result.error = {
                "code": AgentLimitExceeded.code,
                "message": f"The run took longer than {limits.max_seconds:g} seconds.",
                "limit": "max_seconds",
            }
        else:
            result.error = {"code": exc.code, "message": exc.message}
    except (LLMError, ApplicationError) as exc:
        result.status = "failed"
        result.error = {"code": exc.code, "message": exc.message}

    result.latency_ms = round((_clock() - budget.started) * 1000)
    if result.error is not None:
        yield RunEvent("error", result.error)
    yield RunEvent("done", result)


def _check_cancel(cancel: threading.Event) -> None:
    if cancel.is_set():
        raise RunCanceled()


def _call_model(
    *,
    model: Any,
    account: Any,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None,
    response_format: dict[str, Any] | None,
    max_output_tokens: int | None,
    sampling: dict[str, float] | None,
    stream: bool,
    budget: _Budget,
    cancel: threading.Event,
) -> Iterator[RunEvent]:
    """Yield `delta` events of one model call and return its ChatResult (via `yield from`)."""
    remaining = budget.remaining_seconds()
    arguments = {
        "model": model,
        "account": account,
        "messages": messages,
        "tools": tools,
        "response_format": response_format if response_format and response_format.get("type") != "text" else None,
        "max_tokens": max_output_tokens,
        "sampling": sampling,
        "timeout": max(0.1, remaining) if remaining is not None else None,
    }
    if not stream:
        return llm.chat(**arguments)

    final: ChatResult | None = None
    partial: list[str] = []
    items = llm.chat(stream=True, **arguments)
    try:
        for item in items:
            if isinstance(item, TextDelta):
                partial.append(item.text)
                budget.result.output = "".join(partial)
                yield RunEvent("delta", {"text": item.text})
                _check_cancel(cancel)
                budget.check_time()
            elif isinstance(item, ChatResult):
                final = item
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()
    if final is None:
        raise LLMError("The model's stream ended without a result.", code="llm_upstream_unavailable")
    return final


def _assistant_message(chat: ChatResult) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": chat.text or None,
        "tool_calls": [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            for call in chat.tool_calls
        ],
    }


def _execute_tool(call: ToolCall, tools: dict[str, BoundTool]) -> tuple[dict[str, Any], str]:
    """Run one tool call and return the step record and the message content for the model.

    An unknown tool, arguments that are not valid JSON or do not match the tool's schema, and a
    tool that raises all become an error the model reads, so that it can correct itself.
    """
    started = _clock()
    step: dict[str, Any] = {"tool": call.name, "arguments": None, "result": None, "error": None}
    try:
        tool = tools.get(call.name)
        if tool is None:
            raise ToolError(f"There is no tool named '{call.name}'. Use one of: {', '.join(tools) or 'none'}.")
        try:
            arguments = call.parsed_arguments()
        except ValueError:
            step["arguments"] = call.arguments[:2000]
            raise ToolError("The arguments are not valid JSON. Send a JSON object.") from None
        step["arguments"] = arguments
        errors = sorted(Draft202012Validator(tool.parameters).iter_errors(arguments), key=lambda error: error.path)
        if errors:
            details = "; ".join(_schema_error_text(error) for error in errors[:5])
            raise ToolError(f"The arguments do not match the tool's schema: {details}")
        step["result"] = tool.execute(arguments)
    except ToolError as exc:
        step["error"] = str(exc)
    except ApplicationError as exc:
        step["error"] = exc.message
    except Exception:
        # A bug or an unexpected failure in a tool must not end the run: the model hears a
        # generic error and the trace goes to the log for an operator.
        logger.exception("Agent tool raised", extra={"tool": call.name})
        step["error"] = "The tool failed unexpectedly."
    step["duration_ms"] = round((_clock() - started) * 1000)

    limit = int(agent_setting("ATHENA_AGENT_MAX_TOOL_RESULT_CHARS"))
    if step["error"] is not None:
        content = json.dumps({"error": step["error"]})
    else:
        content = json.dumps(step["result"], default=str)
        if len(content) > limit:
            content = content[:limit] + " [truncated]"
    return step, content


def _schema_error_text(error: Any) -> str:
    location = "/".join(str(part) for part in error.absolute_path)
    return f"{location}: {error.message}" if location else error.message
