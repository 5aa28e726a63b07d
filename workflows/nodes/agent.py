"""The `agent` and `prompt` nodes: run an agent or a saved prompt of the workspace through the agents app."""

import threading
import uuid
from decimal import Decimal
from typing import Any

from workflows.nodes.base import NodeContext, NodeError, NodeResult, NodeType, register, strict_object
from workflows.nodes.llm import resolve_account, resolve_model
from workflows.nodes.logic import EXPRESSION

MAX_INPUT_CHARS = 200_000
VARIABLES = {"anyOf": [{"type": "object", "maxProperties": 100}, EXPRESSION]}
# Gateway codes of failures that may pass on a retry. The other failures repeat.
TRANSIENT_CODES = frozenset({"llm_rate_limited", "llm_timeout", "llm_upstream_unavailable"})


def _variables(context: NodeContext) -> dict[str, Any]:
    if "variables" not in context.raw_parameters:
        return {}
    variables = context.parameter("variables")
    if not isinstance(variables, dict):
        raise NodeError(f"'variables' must be an object, not {type(variables).__name__}.", retryable=False)
    return variables


def _validation_message(exc: Any) -> str:
    """Flatten a ValidationFailed into one sentence that names each offending field."""
    messages = [message for problems in (exc.errors or {}).values() for message in problems]
    return " ".join(messages) or exc.message


def _cost(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def _agent(context: NodeContext) -> Any:
    """Return the agent named by id or slug in the execution's workspace."""
    from agents.selectors import agent_list

    reference = context.text("agent").strip()
    agents = agent_list(workspace_ids=[context.execution.workspace_id])
    try:
        agent = agents.filter(pk=uuid.UUID(reference)).first()
    except ValueError:
        agent = agents.filter(slug=reference).first()
    if agent is None:
        raise NodeError(f"Agent '{reference}' does not exist in this workspace.", retryable=False)
    return agent


@register
class AgentNode(NodeType):
    type = "agent"
    description = "Runs an agent of the workspace with `input` and its tools; outputs its reply, usage and cost."
    schema = strict_object(
        {
            "agent": {"type": "string", "minLength": 1, "maxLength": 200},
            "input": {"type": "string", "minLength": 1, "maxLength": MAX_INPUT_CHARS},
            "variables": VARIABLES,
        },
        ["agent", "input"],
    )
    side_effect = True

    def execute(self, context: NodeContext) -> NodeResult:
        from agents import services
        from agents.errors import AgentNotConfigured
        from agents.models import RunSource
        from athena_site.api.errors import ValidationFailed

        agent = _agent(context)
        text = context.text("input")
        variables = _variables(context)
        limits = services.effective_limits(agent)
        # The agent's max_seconds limit bounds the run. The lease must outlast it, so that no other
        # runner starts the same agent again while this one is still working.
        context.engine.extend_lease(max(float(limits.get("max_seconds") or 0), float(context.timeout_seconds or 0)))

        try:
            prepared = services.agent_run_prepare(
                agent=agent,
                input=text,
                variables=variables,
                source=RunSource.WORKFLOW,
                user=context.execution.created_by,
            )
        except AgentNotConfigured as exc:
            raise NodeError(exc.message, retryable=False, code=exc.code) from None
        except ValidationFailed as exc:
            raise NodeError(
                f"The agent could not start: {_validation_message(exc)}", retryable=False, code=exc.code
            ) from None

        # Stopping a run is cooperative: the runtime checks the event before each model and tool call.
        timeout = context.timeout_seconds
        timer = threading.Timer(float(timeout), prepared.cancel.set) if timeout else None
        summary: dict[str, Any] = {}
        try:
            if timer is not None:
                timer.start()
            for event in services.agent_run_execute(prepared=prepared):
                if event.type == "done":
                    summary = event.data
        finally:
            if timer is not None:
                timer.cancel()

        usage = summary.get("usage") or {"input_tokens": 0, "output_tokens": 0}
        if summary.get("status") != "succeeded":
            error = summary.get("error") or {}
            code = error.get("code") or "agent_run_failed"
            message = error.get("message") or "The agent run did not finish."
            if code == "run_canceled" and prepared.cancel.is_set():
                code = "node_timeout"
                message = f"timed out after the node's timeout_seconds ({timeout})."
            details = {"run_id": summary.get("run_id"), "usage": usage, "cost": summary.get("cost")}
            if error.get("limit"):
                details["limit"] = error["limit"]
            raise NodeError(
                f"The agent run failed: {message}", retryable=code in TRANSIENT_CODES, code=code, details=details
            )

        output = {
            "output": summary.get("output", ""),
            "status": summary["status"],
            "usage": usage,
            "cost": summary.get("cost"),
            "run_id": summary.get("run_id"),
        }
        return NodeResult(
            output,
            prompt_tokens=usage.get("input_tokens", 0),
            completion_tokens=usage.get("output_tokens", 0),
            cost=_cost(summary.get("cost")),
        )


@register
class PromptNode(NodeType):
    type = "prompt"
    description = "Renders a saved prompt of the workspace with `variables`, sends it to its model; outputs the reply."
    schema = strict_object(
        {
            "prompt": {"type": "string", "minLength": 1, "maxLength": 200},
            "variables": VARIABLES,
            "model_id": {"type": "string", "minLength": 1, "maxLength": 200},
            "account": {"type": "string", "maxLength": 200},
        },
        ["prompt"],
    )
    side_effect = True

    def check(self, parameters: dict[str, Any]) -> list[tuple[str, str]]:
        if "account" in parameters and "model_id" not in parameters:
            return [("account", "'account' goes with 'model_id'; without it the prompt's own account is used.")]
        return []

    def execute(self, context: NodeContext) -> NodeResult:
        from agents import services
        from agents.errors import AgentNotConfigured
        from agents.selectors import prompt_list
        from athena_site.api.errors import ApplicationError, ValidationFailed
        from providers.errors import LLMError

        reference = context.text("prompt").strip()
        try:
            prompt_id = uuid.UUID(reference)
        except ValueError:
            raise NodeError(f"'prompt' must be a prompt id, not {reference!r}.", retryable=False) from None
        prompt = prompt_list(workspace_ids=[context.execution.workspace_id]).filter(pk=prompt_id).first()
        if prompt is None:
            raise NodeError(f"Prompt '{prompt_id}' does not exist in this workspace.", retryable=False)
        variables = _variables(context)
        model = account = None
        if "model_id" in context.raw_parameters:
            model = resolve_model(context)
            account = resolve_account(context, model, preferred=prompt.account)

        try:
            result = services.prompt_run(prompt=prompt, variables=variables, model=model, account=account)
        except ValidationFailed as exc:
            raise NodeError(
                f"The prompt's variables do not match: {_validation_message(exc)}",
                retryable=False,
                code=exc.code,
                details={"errors": exc.errors or {}},
            ) from None
        except AgentNotConfigured as exc:
            raise NodeError(exc.message, retryable=False, code=exc.code) from None
        except LLMError as exc:
            raise NodeError(f"The LLM call failed: {exc.message}", retryable=exc.transient, code=exc.code) from None
        except ApplicationError as exc:
            raise NodeError(f"The LLM call failed: {exc.message}", retryable=False, code=exc.code) from None

        usage = result.get("usage") or {"input_tokens": 0, "output_tokens": 0}
        return NodeResult(
            {**result, "prompt_id": str(prompt.pk)},
            prompt_tokens=usage.get("input_tokens", 0),
            completion_tokens=usage.get("output_tokens", 0),
            cost=_cost(result.get("cost")),
        )
