"""Create, version, delete and run prompts."""

from __future__ import annotations

import time
from typing import Any

from django.db import transaction

from agents.errors import AgentNotConfigured
from agents.models import Prompt, PromptVersion
from agents.services.agents import model_and_account
from agents.templates import VARIABLE_TYPES, prompt_values, render_template, template_variables
from athena_site.api.errors import ValidationFailed
from providers import llm
from providers.models import Account, LargeLanguageModel


def validate_variables(*, template: str, variables: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Check the declared variables and that the template reads no undeclared name."""
    errors: dict[str, list[str]] = {}
    names = set()
    cleaned = []
    for index, item in enumerate(variables):
        name = item.get("name")
        if not isinstance(name, str) or not name.isidentifier():
            errors[f"variables.{index}.name"] = ["Use a name made of letters, digits and underscores."]
            continue
        if name in names:
            errors[f"variables.{index}.name"] = [f"The variable '{name}' is declared twice."]
            continue
        kind = item.get("type", "string")
        if kind not in VARIABLE_TYPES:
            errors[f"variables.{index}.type"] = [f"Use one of {', '.join(VARIABLE_TYPES)}."]
            continue
        names.add(name)
        cleaned.append(
            {
                "name": name,
                "type": kind,
                "required": bool(item.get("required", True)),
                "default": item.get("default"),
                "description": str(item.get("description", ""))[:500],
            }
        )
    undeclared = sorted(template_variables(template) - names)
    if undeclared:
        errors["template"] = [f"The template uses undeclared variables: {', '.join(undeclared)}."]
    if errors:
        raise ValidationFailed(errors=errors)
    return cleaned


def _snapshot(prompt: Prompt, user: Any) -> None:
    PromptVersion.objects.create(
        prompt=prompt, number=prompt.version, template=prompt.template, variables=prompt.variables, created_by=user
    )


def _user(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


@transaction.atomic
def prompt_create(*, workspace: Any, user: Any, data: dict[str, Any]) -> Prompt:
    """Create a prompt at version 1 and keep that version."""
    prompt = Prompt(workspace=workspace, created_by=_user(user))
    for key in ("name", "description", "template"):
        setattr(prompt, key, data.get(key, ""))
    prompt.variables = validate_variables(template=prompt.template, variables=data.get("variables") or [])
    prompt.model, prompt.account = model_and_account(
        workspace_id=workspace.pk, model_id=data.get("model_id"), account_id=data.get("account_id")
    )
    prompt.save()
    _snapshot(prompt, _user(user))
    return prompt


@transaction.atomic
def prompt_update(*, prompt: Prompt, user: Any, data: dict[str, Any]) -> Prompt:
    """Update a prompt; a changed template or variable list increases the version and keeps the new one."""
    prompt = Prompt.objects.select_for_update().get(pk=prompt.pk)
    for key in ("name", "description"):
        if key in data:
            setattr(prompt, key, data[key])
    template = data.get("template", prompt.template)
    variables = data.get("variables", prompt.variables)
    variables = validate_variables(template=template, variables=variables)
    changed = template != prompt.template or variables != prompt.variables
    prompt.template, prompt.variables = template, variables
    if "model_id" in data or "account_id" in data:
        prompt.model, prompt.account = model_and_account(
            workspace_id=prompt.workspace_id,
            model_id=data.get("model_id", prompt.model_id),
            account_id=data.get("account_id", prompt.account_id),
        )
    if changed:
        prompt.version += 1
    prompt.save()
    if changed:
        _snapshot(prompt, _user(user))
    return prompt


def prompt_delete(*, prompt: Prompt) -> None:
    prompt.delete()


def prompt_run(
    *,
    prompt: Prompt,
    variables: dict[str, Any],
    model: LargeLanguageModel | None = None,
    account: Account | None = None,
) -> dict[str, Any]:
    """Render the prompt and send it to the model as one user message.

    Raises ValidationFailed naming a missing or undeclared variable before the model is called,
    AgentNotConfigured without a model and account, and the gateway's LLMError subclasses.
    """
    values = prompt_values(declared=prompt.variables, given=variables)
    text = render_template(prompt.template, values)
    model = model or prompt.model
    account = account or prompt.account
    if model is None or account is None:
        raise AgentNotConfigured("The prompt has no model or account. Pass model_id and account_id, or set them.")

    started = time.monotonic()
    result = llm.chat(model=model, account=account, messages=[{"role": "user", "content": text}])
    return {
        "output": result.text,
        "rendered": text,
        "version": prompt.version,
        "usage": {"input_tokens": result.usage.input_tokens, "output_tokens": result.usage.output_tokens},
        "cost": str(result.cost) if result.cost is not None else None,
        "latency_ms": round((time.monotonic() - started) * 1000),
        "finish_reason": result.finish_reason,
    }
