"""Draft an agent from a description with an LLM."""

from __future__ import annotations

import json
import logging
from typing import Any

from jsonschema import Draft202012Validator

from agents.errors import GenerationFailed
from agents.services.agents import agent_create, model_and_account
from athena_site.api.errors import ValidationFailed
from providers import llm
from providers.models import Capability, LargeLanguageModel
from providers.selectors import account_list, llm_list

logger = logging.getLogger(__name__)

# Built-in tool types a draft may suggest; they need no further configuration to be saved.
SUGGESTABLE_TOOLS = ["memory_search", "memory_save"]

GENERATED_AGENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 120},
        "description": {"type": "string", "maxLength": 2000},
        "instructions": {"type": "string", "minLength": 1, "maxLength": 20000},
        "tools": {"type": "array", "items": {"type": "string", "enum": SUGGESTABLE_TOOLS}, "uniqueItems": True},
    },
    "required": ["name", "instructions"],
    "additionalProperties": False,
}

_SYSTEM = (
    "You design AI assistants. Reply with one JSON object and nothing else, with the keys "
    '"name" (at most 120 characters), "description", "instructions" (the system prompt of the '
    'assistant) and "tools" (a list drawn from: ' + ", ".join(SUGGESTABLE_TOOLS) + ")."
)


def _pick_model(workspace_id: Any, model_id: Any, account_id: Any) -> tuple[LargeLanguageModel, Any]:
    if model_id is not None and account_id is not None:
        return model_and_account(workspace_id=workspace_id, model_id=model_id, account_id=account_id)
    models = llm_list(workspace_ids=[workspace_id]).filter(active=True).exclude(provider__llm_protocol="")
    if model_id is not None:
        models = models.filter(pk=model_id)
    for model in models:
        if model.has_capability(Capability.EMBEDDINGS) and not model.has_capability(Capability.TOOLS):
            continue
        account = account_list(workspace_ids=[workspace_id]).filter(provider_id=model.provider_id).first()
        if account is not None:
            return model, account
    raise ValidationFailed(
        errors={
            "model_id": ["No chat model with an account in this workspace was found. Pass model_id and account_id."]
        }
    )


def _parse(text: str) -> dict[str, Any]:
    """Return the agent definition in the model's reply; raises ValueError saying what is wrong."""
    cleaned = text.strip()
    if cleaned.startswith("```"):
        cleaned = cleaned.strip("`")
        cleaned = cleaned.removeprefix("json").strip()
    try:
        value = json.loads(cleaned)
    except ValueError:
        raise ValueError("the reply is not a JSON object") from None
    errors = list(Draft202012Validator(GENERATED_AGENT_SCHEMA).iter_errors(value))
    if errors:
        first = errors[0]
        location = "/".join(str(part) for part in first.absolute_path) or "the object"
        raise ValueError(f"{location}: {first.message}")
    return value


def agent_generate(
    *, workspace: Any, user: Any, description: str, model_id: Any = None, account_id: Any = None, save: bool = False
) -> dict[str, Any]:
    """Ask a model for an agent definition, retrying once on invalid output, and create it when `save`.

    Returns `{"draft": {...}, "agent": Agent | None}`. Raises GenerationFailed (502) when the
    second reply is invalid too, and the gateway's LLMError subclasses.
    """
    model, account = _pick_model(workspace.pk, model_id, account_id)
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": _SYSTEM},
        {"role": "user", "content": description},
    ]
    response_format = {"type": "json_object"} if model.has_capability(Capability.JSON_OUTPUT) else None

    draft: dict[str, Any] | None = None
    reason = ""
    for attempt in (1, 2):
        result = llm.chat(model=model, account=account, messages=messages, response_format=response_format)
        try:
            draft = _parse(result.text)
            break
        except ValueError as exc:
            reason = str(exc)
            logger.warning("Generated agent was invalid", extra={"attempt": attempt, "workspace_id": str(workspace.pk)})
            messages.append({"role": "assistant", "content": result.text})
            messages.append(
                {"role": "user", "content": f"That was invalid ({reason}). Reply with the JSON object only."}
            )
    if draft is None:
        raise GenerationFailed(f"The model did not return a valid agent definition twice: {reason}.")

    draft = {
        "name": draft["name"],
        "description": draft.get("description", ""),
        "instructions": draft["instructions"],
        "tools": [{"type": name} for name in draft.get("tools", [])],
        "model_id": str(model.pk),
        "account_id": str(account.pk),
    }
    agent = None
    if save:
        agent = agent_create(
            workspace=workspace,
            user=user,
            data={
                "name": draft["name"],
                "description": draft["description"],
                "instructions": draft["instructions"],
                "tools": draft["tools"],
                "model_id": model.pk,
                "account_id": account.pk,
            },
        )
    return {"draft": draft, "agent": agent}
