"""Export a workflow as a self-contained JSON document, and import such a document or an n8n export.

The export names the workspace objects a graph refers to in a way that survives a move to
another workspace or server: accounts by provider key and account name, models by provider key
and vendor model string, prompts and workflows by name, agents by slug. It never contains
credentials, the webhook secret or workspace secrets. The import maps each reference to the
target workspace's object and reports the ones it could not match.
"""

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from athena_site.api.errors import ValidationFailed
from workflows import n8n
from workflows.models import Workflow
from workflows.services.workflows import workflow_create

logger = logging.getLogger(__name__)

EXPORT_FORMAT = "athena.workflow"
EXPORT_FORMAT_VERSION = 1
REFERENCE_PREFIX = "ref:"
# (node type, parameter) -> the kind of object the parameter refers to.
REFERENCE_PARAMETERS: dict[tuple[str, str], str] = {
    ("http_request", "account"): "accounts",
    ("llm", "account"): "accounts",
    ("prompt", "account"): "accounts",
    ("llm", "model_id"): "models",
    ("prompt", "model_id"): "models",
    ("prompt", "prompt"): "prompts",
    ("agent", "agent"): "agents",
    ("sub_workflow", "workflow_id"): "workflows",
}
REFERENCE_KINDS = ("accounts", "models", "prompts", "agents", "workflows")
_WORKFLOW_FIELDS = ("name", "description", "active", "webhook_rate_limit")


@dataclass
class ImportResult:
    workflow: Workflow
    report: dict[str, Any]


def _parse_uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# --- export -------------------------------------------------------------------------------------


class _Exporter:
    """Replace workspace object ids in a graph with `ref:<kind>_<n>` and describe each reference."""

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self.references: dict[str, list[dict[str, Any]]] = {kind: [] for kind in REFERENCE_KINDS}
        self.refs_by_id: dict[tuple[str, str], str] = {}

    def describe(self, kind: str, object_id: uuid.UUID) -> dict[str, Any] | None:
        from agents.models import Agent, Prompt
        from providers.models import Account, LargeLanguageModel

        workspace_id = self.workflow.workspace_id
        if kind == "accounts":
            account = Account.objects.filter(pk=object_id, workspace_id=workspace_id).select_related("provider").first()
            return {"provider": account.provider.key, "name": account.name} if account else None
        if kind == "models":
            model = LargeLanguageModel.objects.filter(pk=object_id).select_related("provider").first()
            visible = model is not None and model.workspace_id in (None, workspace_id)
            return {"provider": model.provider.key, "model": model.model} if visible else None
        if kind == "prompts":
            prompt = Prompt.objects.filter(pk=object_id, workspace_id=workspace_id).first()
            return {"name": prompt.name} if prompt else None
        if kind == "agents":
            agent = Agent.objects.filter(pk=object_id, workspace_id=workspace_id).first()
            return {"slug": agent.slug} if agent else None
        workflow = Workflow.objects.filter(pk=object_id, workspace_id=workspace_id).first()
        return {"name": workflow.name} if workflow else None

    def reference(self, kind: str, value: Any) -> Any:
        """Return the portable form of `value`, or `value` itself (an expression, a slug, a dangling id)."""
        object_id = _parse_uuid(value) if isinstance(value, str) else None
        if object_id is None:
            return value
        key = (kind, str(object_id))
        if key in self.refs_by_id:
            return self.refs_by_id[key]
        description = self.describe(kind, object_id)
        if description is None:
            return value
        if kind == "agents":
            # The agent node accepts a slug, which is already portable.
            self.refs_by_id[key] = description["slug"]
            return description["slug"]
        ref = f"{REFERENCE_PREFIX}{kind.removesuffix('s')}_{len(self.references[kind]) + 1}"
        self.references[kind].append({"ref": ref, **description})
        self.refs_by_id[key] = ref
        return ref

    def nodes(self) -> list[dict[str, Any]]:
        exported = []
        for node in self.workflow.nodes:
            parameters = dict(node.get("parameters") or {})
            for (node_type, name), kind in REFERENCE_PARAMETERS.items():
                if node["type"] == node_type and name in parameters:
                    parameters[name] = self.reference(kind, parameters[name])
            exported.append({**node, "parameters": parameters})
        return exported

    def settings(self) -> dict[str, Any]:
        settings = dict(self.workflow.settings or {})
        if settings.get("error_workflow"):
            settings["error_workflow"] = self.reference("workflows", settings["error_workflow"])
        return settings


def workflow_export(*, workflow: Workflow) -> dict[str, Any]:
    """Return the workflow as a self-contained document that `workflow_import` accepts.

    The document contains the format version, the graph, variables and settings, and the
    references by name described in the module docstring. It never contains a credential or secret.
    """
    exporter = _Exporter(workflow)
    document = {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "workflow": {
            **{field: getattr(workflow, field) for field in _WORKFLOW_FIELDS},
            "version": workflow.version,
            "nodes": exporter.nodes(),
            "edges": workflow.edges,
            "variables": workflow.variables,
            "settings": exporter.settings(),
        },
        "references": exporter.references,
    }
    logger.info(
        "Workflow exported", extra={"workflow_id": str(workflow.pk), "workspace_id": str(workflow.workspace_id)}
    )
    return document


# --- import -------------------------------------------------------------------------------------


class WorkspaceLookups:
    """Find a workspace's accounts, models, prompts, agents and workflows by their portable names."""

    def __init__(self, workspace: Any) -> None:
        self.workspace = workspace

    def account(self, name: str, provider: str | None = None) -> str | None:
        from providers.selectors import account_list

        accounts = account_list(workspace_ids=[self.workspace.pk]).filter(name=name)
        if provider is not None:
            accounts = accounts.filter(provider__key=provider)
        found = accounts.first()
        return str(found.pk) if found else None

    def model(self, model: str, provider: str | None = None) -> str | None:
        from providers.selectors import llm_list

        models = llm_list(workspace_ids=[self.workspace.pk]).filter(model=model)
        if provider is not None:
            models = models.filter(provider__key=provider)
        found = models.order_by("workspace_id", "id").first()
        return str(found.pk) if found else None

    def prompt(self, name: str) -> str | None:
        from agents.selectors import prompt_list

        found = prompt_list(workspace_ids=[self.workspace.pk]).filter(name=name).first()
        return str(found.pk) if found else None

    def agent(self, slug: str) -> str | None:
        from agents.selectors import agent_list

        found = agent_list(workspace_ids=[self.workspace.pk]).filter(slug=slug).first()
        return found.slug if found else None

    def workflow(self, name: str) -> str | None:
        found = Workflow.objects.filter(workspace=self.workspace, name=name).order_by("created_at").first()
        return str(found.pk) if found else None


def _unwrap(document: Any) -> Any:
    """Accept the export as returned by the API (inside `data`) as well as the bare document."""
    if isinstance(document, dict) and set(document) == {"data"} and isinstance(document["data"], dict):
        return document["data"]
    return document


def _empty_references() -> dict[str, dict[str, list]]:
    return {kind: {"matched": [], "unmatched": []} for kind in REFERENCE_KINDS}


def _resolve_athena_references(
    document: dict[str, Any], lookups: WorkspaceLookups
) -> tuple[dict[str, str | None], dict[str, dict[str, list]]]:
    """Map each `ref:` of the document to an id of the workspace (None when nothing matches)."""
    resolved: dict[str, str | None] = {}
    report = _empty_references()
    references = document.get("references") if isinstance(document.get("references"), dict) else {}
    for kind in REFERENCE_KINDS:
        entries = references.get(kind) or []
        if not isinstance(entries, list):
            raise ValidationFailed(errors={f"references.{kind}": ["Must be a list."]})
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("ref"), str):
                raise ValidationFailed(errors={f"references.{kind}[{index}]": ["Must be an object with a `ref`."]})
            matched = _match(kind, entry, lookups)
            resolved[entry["ref"]] = matched
            description = {key: value for key, value in entry.items() if key != "ref"}
            if matched is None:
                report[kind]["unmatched"].append(description)
            else:
                report[kind]["matched"].append({**description, "id": matched})
    return resolved, report


def _match(kind: str, entry: dict[str, Any], lookups: WorkspaceLookups) -> str | None:
    text = {key: str(value) for key, value in entry.items() if isinstance(value, str)}
    if kind == "accounts" and "name" in text:
        return lookups.account(text["name"], provider=text.get("provider"))
    if kind == "models" and "model" in text:
        return lookups.model(text["model"], provider=text.get("provider"))
    if kind == "prompts" and "name" in text:
        return lookups.prompt(text["name"])
    if kind == "workflows" and "name" in text:
        return lookups.workflow(text["name"])
    return None


def _apply_references(
    nodes: list[Any], resolved: dict[str, str | None], report: dict[str, dict[str, list]], lookups: WorkspaceLookups
) -> list[Any]:
    """Put the matched ids into the nodes; drop unmatched accounts, keep other unmatched references visible."""
    applied = []
    for node in nodes:
        if not isinstance(node, dict) or not isinstance(node.get("parameters"), dict):
            applied.append(node)
            continue
        parameters = dict(node["parameters"])
        for (node_type, name), kind in REFERENCE_PARAMETERS.items():
            value = parameters.get(name)
            if node.get("type") != node_type or not isinstance(value, str):
                continue
            if kind == "agents" and _parse_uuid(value) is None and "{{" not in value:
                if lookups.agent(value) is None:
                    report["agents"]["unmatched"].append({"slug": value, "node": node.get("id")})
                else:
                    report["agents"]["matched"].append({"slug": value, "node": node.get("id")})
                continue
            if not value.startswith(REFERENCE_PREFIX):
                continue
            if resolved.get(value):
                parameters[name] = resolved[value]
            elif kind == "accounts":
                # Without the account, http_request sends no credentials and llm uses the
                # workspace's first account of the model's provider: both still validate.
                del parameters[name]
            else:
                parameters[name] = value
        applied.append({**node, "parameters": parameters})
    return applied


def _import_athena(document: dict[str, Any], lookups: WorkspaceLookups) -> tuple[dict[str, Any], dict[str, Any]]:
    version = document.get("format_version")
    if version != EXPORT_FORMAT_VERSION:
        raise ValidationFailed(
            errors={"format_version": [f"Format version {version!r} is not supported; use {EXPORT_FORMAT_VERSION}."]}
        )
    workflow = document.get("workflow")
    if not isinstance(workflow, dict):
        raise ValidationFailed(errors={"workflow": ["Must be an object with the workflow's nodes and edges."]})
    resolved, references = _resolve_athena_references(document, lookups)
    nodes = workflow.get("nodes", [])
    if isinstance(nodes, list):
        nodes = _apply_references(nodes, resolved, references, lookups)
    warnings = []
    settings = workflow.get("settings") if isinstance(workflow.get("settings"), dict) else {}
    error_workflow = settings.get("error_workflow")
    if isinstance(error_workflow, str) and error_workflow:
        mapped = resolved.get(error_workflow) if error_workflow.startswith(REFERENCE_PREFIX) else None
        settings = {**settings, "error_workflow": mapped}
        if mapped is None:
            warnings.append("The error workflow was not found in this workspace, so none is set.")
    for kind in REFERENCE_KINDS:
        for entry in references[kind]["unmatched"]:
            warnings.append(_unmatched_message(kind, entry))
    data = {
        "name": workflow.get("name") or "Imported workflow",
        "description": workflow.get("description") or "",
        "nodes": nodes,
        "edges": workflow.get("edges", []),
        "variables": workflow.get("variables") or {},
        "settings": settings,
    }
    for field in ("active", "webhook_rate_limit"):
        if field in workflow:
            data[field] = workflow[field]
    return data, {"source": "athena", "references": references, "warnings": warnings}


def _unmatched_message(kind: str, entry: dict[str, Any]) -> str:
    if kind == "accounts":
        return (
            f"No account named '{entry.get('name')}' of provider '{entry.get('provider')}' is in this workspace; "
            "the nodes that used it have no account now."
        )
    if kind == "models":
        return f"No model '{entry.get('model')}' of provider '{entry.get('provider')}' is available; set `model_id`."
    if kind == "agents":
        return f"No agent with the slug '{entry.get('slug')}' is in this workspace."
    if kind == "prompts":
        return f"No prompt named '{entry.get('name')}' is in this workspace; set the node's `prompt`."
    return f"No workflow named '{entry.get('name')}' is in this workspace; set the node's `workflow_id`."


class _N8nLookups:
    """The lookups that the n8n converter calls, over the workspace's objects."""

    def __init__(self, lookups: WorkspaceLookups) -> None:
        self.lookups = lookups

    def account(self, name: str) -> str | None:
        return self.lookups.account(name)

    def model(self, model: str) -> str | None:
        return self.lookups.model(model)

    def workflow(self, name: str) -> str | None:
        return self.lookups.workflow(name)


def _import_n8n(document: Any, lookups: WorkspaceLookups) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        conversion = n8n.convert(document, lookups=_N8nLookups(lookups))
    except n8n.NotAnN8nWorkflow as exc:
        raise ValidationFailed(errors={"nodes": [str(exc)]}) from None
    references = _empty_references()
    kinds = {"account": "accounts", "model": "models", "workflow": "workflows"}
    seen: set[tuple[str, str]] = set()
    for reference in conversion.references:
        kind = kinds[reference.kind]
        if (kind, reference.name) in seen:
            continue
        seen.add((kind, reference.name))
        description: dict[str, Any] = {"name": reference.name}
        if reference.kind == "model":
            description = {"model": reference.name}
        if reference.credential_type:
            description["n8n_credential_type"] = reference.credential_type
        if reference.matched_id is None:
            references[kind]["unmatched"].append(description)
        else:
            references[kind]["matched"].append({**description, "id": reference.matched_id})
    data = {
        "name": conversion.name,
        "description": "Imported from n8n.",
        "nodes": conversion.nodes,
        "edges": conversion.edges,
        "variables": {},
        "settings": conversion.settings,
    }
    report = {**conversion.report, "references": references}
    # n8n exports are usually inactive drafts, and an imported workflow starts active like a new
    # one, except when a schedule would start running it before anyone reviewed the conversion.
    if any(node.get("type") == "trigger.schedule" for node in conversion.nodes):
        data["active"] = False
        report["warnings"] = [
            *report.get("warnings", []),
            "The workflow has a schedule, so it was imported inactive: review it, then activate it.",
        ]
    return data, report


def workflow_import_prepare(*, workspace: Any, document: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Turn an Athena export or an n8n workflow export (detected from its shape) into workflow data.

    Returns `(data, report)`: `data` has the fields of a workflow create (validate them like
    one), `report` the references matched and unmatched and, for n8n, what happened to each
    node. Raises ValidationFailed (422) for a document of neither format.
    """
    document = _unwrap(document)
    lookups = WorkspaceLookups(workspace)
    if isinstance(document, dict) and document.get("format") == EXPORT_FORMAT:
        data, report = _import_athena(document, lookups)
    elif n8n.looks_like_n8n(document):
        data, report = _import_n8n(document, lookups)
    else:
        raise ValidationFailed(
            "The document is neither an Athena workflow export nor an n8n workflow.",
            errors={"format": [f'Send a document with "format": "{EXPORT_FORMAT}" or an n8n workflow export.']},
        )
    data["version_note"] = f"Imported from {report['source']}."
    return data, report


def workflow_import(*, workspace: Any, user: Any, data: dict[str, Any], report: dict[str, Any]) -> ImportResult:
    """Create the workflow prepared by `workflow_import_prepare`; nothing is created when the graph is invalid.

    Raises ValidationFailed (422) listing every problem of the graph.
    """
    with transaction.atomic():
        workflow = workflow_create(workspace=workspace, user=user, data=data)
    logger.info(
        "Workflow imported",
        extra={"workflow_id": str(workflow.pk), "workspace_id": str(workspace.pk), "source": report["source"]},
    )
    return ImportResult(workflow=workflow, report=report)
