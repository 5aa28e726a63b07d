"""The `llm` node: one chat completion through the LLM gateway, with its token usage and cost."""

import json
import uuid
from decimal import Decimal
from typing import Any

from workflows.nodes.base import NodeContext, NodeError, NodeResult, NodeType, register, strict_object
from workflows.nodes.logic import EXPRESSION

MESSAGE_ROLES = ["system", "user", "assistant"]
MAX_MESSAGES = 200
MAX_PROMPT_CHARS = 200_000
MESSAGE = strict_object(
    {"role": {"enum": MESSAGE_ROLES}, "content": {"type": "string", "maxLength": MAX_PROMPT_CHARS}},
    ["role", "content"],
)
# `text` and `json` are shorthands, and an object is passed to the gateway as OpenAI's `response_format`.
RESPONSE_FORMAT = {
    "anyOf": [
        {"enum": ["text", "json"]},
        strict_object({"type": {"enum": ["text", "json_object"]}}, ["type"]),
        strict_object({"type": {"const": "json_schema"}, "json_schema": {"type": "object"}}, ["type", "json_schema"]),
    ]
}
JSON_FORMATS = ("json_object", "json_schema")


def _uuid(value: Any, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NodeError(f"'{name}' must be a UUID, not {value!r}.", retryable=False) from None


def _number(value: Any, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise NodeError(f"'{name}' must be a number, not {value!r}.", retryable=False) from None


def _response_format(value: Any) -> dict[str, Any] | None:
    if value in (None, "text"):
        return None
    if value == "json":
        return {"type": "json_object"}
    if isinstance(value, dict) and value.get("type") == "text":
        return None
    return value


def _messages(context: NodeContext) -> list[dict[str, str]]:
    """Build OpenAI-shaped messages from `messages`, or from `system` and the `prompt` template."""
    if "prompt" in context.raw_parameters:
        messages = []
        if "system" in context.raw_parameters:
            messages.append({"role": "system", "content": context.text("system")})
        messages.append({"role": "user", "content": context.text("prompt")})
        return messages

    # A lone expression may produce the whole list, so its shape is checked after rendering.
    messages = context.parameter("messages")
    if not isinstance(messages, list) or not messages or len(messages) > MAX_MESSAGES:
        raise NodeError(f"'messages' must be a list of 1 to {MAX_MESSAGES} messages.", retryable=False)
    checked = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in MESSAGE_ROLES:
            raise NodeError(
                f"'messages[{index}]' must be an object with a role ({', '.join(MESSAGE_ROLES)}) and a content.",
                retryable=False,
            )
        content = message.get("content")
        checked.append(
            {"role": message["role"], "content": content if isinstance(content, str) else json.dumps(content)}
        )
    return checked


def resolve_model(context: NodeContext) -> Any:
    """Return the active model named by `model_id`, the workspace's or the catalogue's."""
    from django.db.models import Q

    from providers.models import LargeLanguageModel

    workspace_id = context.execution.workspace_id
    model_id = _uuid(context.parameter("model_id"), "model_id")
    model = (
        LargeLanguageModel.objects.filter(Q(workspace__isnull=True) | Q(workspace_id=workspace_id), pk=model_id)
        .select_related("provider")
        .first()
    )
    if model is None:
        raise NodeError(f"Model '{model_id}' does not exist in this workspace.", retryable=False)
    if not model.active:
        raise NodeError(f"Model '{model.model}' is not active. Activate it or choose another.", retryable=False)
    return model


def resolve_account(context: NodeContext, model: Any, preferred: Any = None) -> Any:
    """Return the account named by `account`, else `preferred` when it serves the model's provider,
    else the workspace's first active account of that provider (by name).
    """
    from providers.models import Account, AccountStatus

    accounts = Account.objects.filter(workspace_id=context.execution.workspace_id).select_related("provider")
    if context.raw_parameters.get("account"):
        account_id = _uuid(context.parameter("account"), "account")
        account = accounts.filter(pk=account_id).first()
        if account is None:
            raise NodeError(f"Account '{account_id}' does not exist in this workspace.", retryable=False)
        return account
    if preferred is not None and preferred.provider_id == model.provider_id:
        return preferred
    account = accounts.filter(provider_id=model.provider_id, status=AccountStatus.ACTIVE).order_by("name", "id").first()
    if account is None:
        raise NodeError(
            f"The workspace has no active account for the provider of model '{model.model}'. "
            "Connect one or set 'account'.",
            retryable=False,
        )
    return account


def _model_and_account(context: NodeContext) -> tuple[Any, Any]:
    """Return the model and account the node names, both usable by the execution's workspace."""
    model = resolve_model(context)
    return model, resolve_account(context, model)


@register
class LLMNode(NodeType):
    type = "llm"
    description = "Sends `messages`, or a `prompt` template, to a model through the LLM gateway; outputs the reply."
    schema = {
        **strict_object(
            {
                "model_id": {"type": "string", "minLength": 1, "maxLength": 200},
                "account": {"type": "string", "maxLength": 200},
                "messages": {
                    "anyOf": [{"type": "array", "items": MESSAGE, "minItems": 1, "maxItems": 200}, EXPRESSION]
                },
                "prompt": {"type": "string", "minLength": 1, "maxLength": MAX_PROMPT_CHARS},
                "system": {"type": "string", "maxLength": MAX_PROMPT_CHARS},
                "response_format": RESPONSE_FORMAT,
                "temperature": {"anyOf": [{"type": "number", "minimum": 0, "maximum": 2}, EXPRESSION]},
                "top_p": {"anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, EXPRESSION]},
                "max_tokens": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 1_000_000}, EXPRESSION]},
            },
            ["model_id"],
        ),
        "oneOf": [{"required": ["messages"]}, {"required": ["prompt"]}],
    }
    side_effect = True

    def check(self, parameters: dict[str, Any]) -> list[tuple[str, str]]:
        problems = []
        if "system" in parameters and "prompt" not in parameters:
            problems.append(("system", "'system' goes with 'prompt'; with 'messages', add a system message instead."))
        return problems

    def execute(self, context: NodeContext) -> NodeResult:
        from athena_site.api.errors import ApplicationError
        from providers.errors import LLMError
        from providers.llm import chat

        messages = _messages(context)
        model, account = _model_and_account(context)
        response_format = _response_format(context.parameter("response_format"))
        options: dict[str, Any] = {"response_format": response_format, "timeout": context.timeout_seconds}
        if "max_tokens" in context.raw_parameters:
            options["max_tokens"] = int(_number(context.parameter("max_tokens"), "max_tokens"))
        sampling = {
            name: _number(context.parameter(name), name)
            for name in ("temperature", "top_p")
            if name in context.raw_parameters
        }
        if sampling:
            options["sampling"] = sampling

        try:
            result = chat(model=model, account=account, messages=messages, **options)
        except LLMError as exc:
            raise NodeError(f"The LLM call failed: {exc.message}", retryable=exc.transient, code=exc.code) from None
        except ApplicationError as exc:
            # The gateway's own checks (a model of another provider than the account, a blocked
            # destination) fail the same way on every attempt.
            raise NodeError(f"The LLM call failed: {exc.message}", retryable=False, code=exc.code) from None

        output: dict[str, Any] = {
            "text": result.text,
            "finish_reason": result.finish_reason,
            "model": result.model,
            "usage": {"input_tokens": result.usage.input_tokens, "output_tokens": result.usage.output_tokens},
            "cost": str(result.cost) if result.cost is not None else None,
        }
        if response_format and response_format.get("type") in JSON_FORMATS:
            try:
                output["json"] = json.loads(result.text)
            except ValueError:
                raise NodeError(
                    "The model's reply is not valid JSON although a JSON response format was requested.",
                    code="llm_invalid_json",
                    details={"text": result.text[:2000]},
                ) from None
        return NodeResult(
            output,
            prompt_tokens=result.usage.input_tokens,
            completion_tokens=result.usage.output_tokens,
            cost=result.cost if result.cost is not None else Decimal(0),
        )
