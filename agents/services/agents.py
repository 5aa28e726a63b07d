"""Create, update and delete agents, validating their model, account, tools and limits."""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from agents import selectors
from agents.conf import default_limits
from agents.models import Agent, Share
from agents.tools.registry import tool_type
from athena_site.api.errors import Conflict, ValidationFailed
from providers.models import Account, LargeLanguageModel
from providers.selectors import account_get, llm_list

logger = logging.getLogger(__name__)

_AGENT_FIELDS = (
    "name",
    "description",
    "avatar",
    "instructions",
    "temperature",
    "top_p",
    "max_output_tokens",
    "response_format",
    "memory_enabled",
    "memory_limit",
    "visibility",
)


def effective_limits(agent: Agent, defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the agent's limits with the settings' defaults filled in for the keys it does not set.

    Pass `defaults` (from `default_limits()`) when filling in many agents at once.
    """
    own = {key: value for key, value in (agent.limits or {}).items() if value is not None}
    return {**(defaults if defaults is not None else default_limits()), **own}


def model_and_account(
    *, workspace_id: Any, model_id: Any, account_id: Any
) -> tuple[LargeLanguageModel | None, Account | None]:
    """Return the model (the workspace's or the catalogue's) and the workspace account named by ids.

    Raises ValidationFailed when either is not visible to the workspace or when the account is
    of another provider than the model.
    """
    model = account = None
    errors: dict[str, list[str]] = {}
    if model_id is not None:
        model = llm_list(workspace_ids=[workspace_id]).filter(pk=model_id).first()
        if model is None:
            errors["model_id"] = ["No such model in this workspace or the catalogue."]
    if account_id is not None:
        account = account_get(account_id=account_id, workspace_ids=[workspace_id])
        if account is None:
            errors["account_id"] = ["No such account in this workspace."]
    if model is not None and account is not None and model.provider_id != account.provider_id:
        errors["account_id"] = ["The account belongs to another provider than the model."]
    if errors:
        raise ValidationFailed(errors=errors)
    return model, account


def validate_tools(*, workspace_id: Any, tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Check each tool entry against its registered type and return the normalised list.

    Raises ValidationFailed with `tools.<index>` keys naming each bad entry.
    """
    errors: dict[str, list[str]] = {}
    normalised: list[dict[str, Any]] = []
    names: set[str] = set()
    for index, entry in enumerate(tools):
        key = f"tools.{index}"
        kind = entry.get("type") if isinstance(entry, dict) else None
        registered = tool_type(kind) if isinstance(kind, str) else None
        if registered is None:
            errors[key] = [f"Unknown tool type {kind!r}."]
            continue
        try:
            config = registered.validate(dict(entry), workspace_id)
        except ValueError as exc:
            errors[key] = [str(exc)]
            continue
        config["type"] = kind
        name = config.get("name", kind)
        if name in names:
            errors[key] = [f"Another tool is already named '{name}'."]
            continue
        names.add(name)
        normalised.append(config)
    if errors:
        raise ValidationFailed(errors=errors)
    return normalised


def validate_limits(limits: dict[str, Any]) -> dict[str, Any]:
    """Check the limit keys and ranges and return the limits with normalised types."""
    bounds = {
        "max_steps": (1, 100, int),
        "max_tokens": (1, 10_000_000, int),
        "max_cost": (0, 10_000, str),
        "max_seconds": (1, 3600, float),
    }
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for key, value in limits.items():
        if key not in bounds:
            errors[f"limits.{key}"] = [f"Unknown limit; use {', '.join(bounds)}."]
            continue
        if value is None:
            continue
        low, high, kind = bounds[key]
        try:
            number = float(value)
        except (TypeError, ValueError):
            errors[f"limits.{key}"] = ["Use a number."]
            continue
        if isinstance(value, bool) or not low <= number <= high or (kind is int and number != int(number)):
            errors[f"limits.{key}"] = [f"Use {'a whole number' if kind is int else 'a number'} from {low} to {high}."]
            continue
        if kind is int:
            cleaned[key] = int(number)
        elif kind is str:
            cleaned[key] = str(value)
        else:
            cleaned[key] = number
    if errors:
        raise ValidationFailed(errors=errors)
    return cleaned


def _unique_slug(*, workspace_id: Any, base: str, exclude_id: Any = None) -> str:
    base = (slugify(base) or "agent")[:110]
    slug, number = base, 2
    while selectors.agent_slug_taken(workspace_id=workspace_id, slug=slug, exclude_id=exclude_id):
        slug, number = f"{base}-{number}", number + 1
    return slug


def _apply(agent: Agent, data: dict[str, Any]) -> None:
    workspace_id = agent.workspace_id
    for field in _AGENT_FIELDS:
        if field in data:
            setattr(agent, field, data[field])
    if "model_id" in data or "account_id" in data:
        model_id = data.get("model_id", agent.model_id)
        account_id = data.get("account_id", agent.account_id)
        agent.model, agent.account = model_and_account(
            workspace_id=workspace_id, model_id=model_id, account_id=account_id
        )
    if "tools" in data:
        agent.tools = validate_tools(workspace_id=workspace_id, tools=data["tools"])
    if "limits" in data:
        agent.limits = validate_limits(data["limits"] or {})


def _save(agent: Agent) -> Agent:
    try:
        with transaction.atomic():
            agent.save()
    except IntegrityError:
        raise Conflict("Another agent of this workspace has this slug.", code="agent_slug_taken") from None
    return agent


def agent_create(*, workspace: Any, user: Any, data: dict[str, Any]) -> Agent:
    """Create an agent in the workspace; a missing slug is derived from the name."""
    agent = Agent(workspace=workspace, created_by=user if getattr(user, "is_authenticated", False) else None)
    _apply(agent, data)
    if data.get("slug"):
        if selectors.agent_slug_taken(workspace_id=workspace.pk, slug=data["slug"]):
            raise ValidationFailed(errors={"slug": ["Another agent of this workspace has this slug."]})
        agent.slug = data["slug"]
    else:
        agent.slug = _unique_slug(workspace_id=workspace.pk, base=agent.name)
    _save(agent)
    logger.info("Agent created", extra={"agent_id": str(agent.pk), "workspace_id": str(workspace.pk)})
    return agent


def agent_update(*, agent: Agent, data: dict[str, Any]) -> Agent:
    """Update the given fields of an agent; the slug must stay unique in its workspace."""
    _apply(agent, data)
    if data.get("slug") and data["slug"] != agent.slug:
        if selectors.agent_slug_taken(workspace_id=agent.workspace_id, slug=data["slug"], exclude_id=agent.pk):
            raise ValidationFailed(errors={"slug": ["Another agent of this workspace has this slug."]})
        agent.slug = data["slug"]
    return _save(agent)


@transaction.atomic
def agent_delete(*, agent: Agent) -> None:
    """Delete an agent with its runs, memories, training jobs and shares."""
    Share.objects.filter(target_type=selectors.AGENT_TARGET, target_id=agent.pk).delete()
    agent_id = agent.pk
    agent.delete()
    logger.info("Agent deleted", extra={"agent_id": str(agent_id)})
