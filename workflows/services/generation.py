"""Draft a workflow from a description with an LLM, repair it with the validator's errors, test-run it."""

import json
import logging
from typing import Any

from athena_site.api.errors import ApplicationError, ValidationFailed
from workflows.models import Workflow, WorkflowExecution
from workflows.nodes import node_types
from workflows.services.testing import workflow_test_run
from workflows.services.workflows import workflow_create
from workflows.validation import validate_graph

logger = logging.getLogger(__name__)

# Replies the model may send back after the first invalid draft.
MAX_REPAIRS = 2
MAX_NAME_CHARS = 200


class GenerationFailed(ApplicationError):
    status_code = 502
    code = "generation_failed"
    message = "The model did not return a valid workflow."


_INSTRUCTIONS = """You design workflows for Athena, a workflow automation platform.
Reply with one JSON object and nothing else:
{"name": "...", "description": "...", "nodes": [...], "edges": [...], "sample_input": ...}.
"sample_input" is a realistic trigger body (the trigger node's output) for a test run of the workflow.

A node is {"id", "type", "name", "parameters", "sample_output"}; ids match ^[A-Za-z0-9_-]{1,100}$.
An edge is {"id", "source", "target", "source_handle"}; source_handle is one of the source
node's output handles (default "main").
Rules:
- Use only the node types of the catalogue below, with parameters valid against their JSON schema.
- Start with exactly one trigger node (trigger.manual unless the description asks for a webhook or
  a schedule). Triggers have no incoming edges. The graph has no cycles.
- Nodes with "calls_out": true must have a "sample_output": a realistic example of their output,
  used when the workflow is tested.
- Expressions are {{ ... }} with the names input (the output of the previous node), trigger
  (body, headers, query, method), nodes.<node_id>.output, vars, now and execution.
"""


def _catalogue() -> list[dict[str, Any]]:
    return [
        {
            "type": name,
            "description": kind.description,
            "output_handles": list(kind.output_handles),
            "calls_out": kind.side_effect,
            "parameters": kind.schema,
        }
        for name, kind in sorted(node_types().items())
    ]


def _system_prompt(model: Any) -> str:
    catalogue = json.dumps(_catalogue(), separators=(",", ":"))
    return f'{_INSTRUCTIONS}\nFor llm nodes use the model_id "{model.pk}".\n\nNode catalogue (JSON):\n{catalogue}'


def _pick_model(workspace_id: Any, model_id: Any) -> tuple[Any, Any]:
    """Return a chat model usable by the workspace and an active account of its provider."""
    from providers.models import AccountStatus, Capability
    from providers.selectors import account_list, llm_list

    models = llm_list(workspace_ids=[workspace_id]).filter(active=True).exclude(provider__llm_protocol="")
    if model_id is not None:
        models = models.filter(pk=model_id)
    accounts = account_list(workspace_ids=[workspace_id]).filter(status=AccountStatus.ACTIVE)
    for model in models:
        if model.has_capability(Capability.EMBEDDINGS) and not model.has_capability(Capability.TOOLS):
            continue
        account = accounts.filter(provider_id=model.provider_id).first()
        if account is not None:
            return model, account
    if model_id is not None:
        message = "No active chat model with this id and an active account of its provider exists in the workspace."
    else:
        message = "The workspace has no active chat model with an active account. Connect one or pass model_id."
    raise ValidationFailed(errors={"model_id": [message]})


def _parse(text: str) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """Return the draft in the model's reply and its problems, keyed like the save validator's."""
    cleaned = text.strip()
    if cleaned.startswith("```"):
        cleaned = cleaned.strip("`").removeprefix("json").strip()
    try:
        draft = json.loads(cleaned)
    except ValueError:
        return None, {"reply": ["The reply is not JSON. Reply with the JSON object only."]}
    if not isinstance(draft, dict):
        return None, {"reply": ["The reply must be a JSON object with name, description, nodes and edges."]}

    nodes, edges, errors = validate_graph(draft.get("nodes"), draft.get("edges"))
    errors = dict(errors)
    for node in nodes:
        kind = node_types().get(node["type"])
        if kind is not None and kind.side_effect and node.get("sample_output") is None:
            errors[f"nodes.{node['id']}.sample_output"] = ["A node that calls out needs a sample_output."]
    for field in ("name", "description"):
        if draft.get(field) is not None and not isinstance(draft[field], str):
            errors[field] = ["Must be a string."]
    return {**draft, "nodes": nodes, "edges": edges}, errors


def workflow_generate(
    *, workspace: Any, user: Any, description: str, model_id: Any = None, save: bool = False
) -> dict[str, Any]:
    """Ask a model for a workflow, send invalid drafts back with their errors, and test-run the valid one.

    Returns `{"draft", "attempts", "execution", "workflow"}`: the draft's name, description,
    nodes, edges and sample input, the number of model replies, the test execution on the
    sample input (not live, so nodes that call out return their sample outputs) and the saved
    workflow when `save`, else None.
    Raises ValidationFailed (422) when no usable model exists, GenerationFailed (502) with the
    remaining errors after MAX_REPAIRS repairs, and the gateway's LLMError subclasses.
    """
    from providers import llm
    from providers.models import Capability

    model, account = _pick_model(workspace.pk, model_id)
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": _system_prompt(model)},
        {"role": "user", "content": description},
    ]
    response_format = {"type": "json_object"} if model.has_capability(Capability.JSON_OUTPUT) else None

    draft, errors = None, {}
    attempts = 0
    for attempts in range(1, MAX_REPAIRS + 2):
        result = llm.chat(model=model, account=account, messages=messages, response_format=response_format)
        draft, errors = _parse(result.text)
        if not errors:
            break
        logger.warning(
            "Generated workflow was invalid",
            extra={"attempt": attempts, "workspace_id": str(workspace.pk), "problems": len(errors)},
        )
        messages.append({"role": "assistant", "content": result.text})
        messages.append(
            {
                "role": "user",
                "content": "The workflow is invalid. Fix these problems and reply with the whole JSON object "
                "again:\n" + json.dumps(errors, indent=1),
            }
        )
    if errors:
        raise GenerationFailed(f"The model did not return a valid workflow after {MAX_REPAIRS} repairs.", errors=errors)

    name = (draft.get("name") or description).strip()[:MAX_NAME_CHARS] or "Generated workflow"
    summary = str(draft.get("description") or "")[:10_000]
    sample_input = draft.get("sample_input")
    execution: WorkflowExecution = workflow_test_run(
        workspace=workspace, user=user, nodes=draft["nodes"], edges=draft["edges"], trigger={"body": sample_input}
    )
    workflow: Workflow | None = None
    if save:
        workflow = workflow_create(
            workspace=workspace,
            user=user,
            data={"name": name, "description": summary, "nodes": draft["nodes"], "edges": draft["edges"]},
        )
    logger.info(
        "Workflow generated",
        extra={"workspace_id": str(workspace.pk), "attempt": attempts, "execution_id": str(execution.pk)},
    )
    return {
        "draft": {
            "name": name,
            "description": summary,
            "nodes": draft["nodes"],
            "edges": draft["edges"],
            "sample_input": sample_input,
        },
        "attempts": attempts,
        "execution": execution,
        "workflow": workflow,
    }
