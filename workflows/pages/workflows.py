"""Browser pages of workflows: the searchable list and the canvas editor.

The editor is one page whose script calls the REST API with the browser session. This module
adds what no endpoint returns: the node catalogue with each type's JSON schema and output
handles, and a validation call for unsaved graphs. It also generates the webhook signing
secret, which is shown once and never again.
"""

import json
import secrets
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from athena_site.api.errors import ApplicationError
from workflows import selectors
from workflows.api.serializers import WorkflowSerializer
from workflows.models import Workflow
from workflows.nodes import node_types
from workflows.services import workflows as workflow_services
from workflows.validation import validate_graph
from workspaces.models import Workspace
from workspaces.pages import no_store, page_allows, page_check, show_error, workspace_page

PER_PAGE = 20
# Maximum body of a validation request. A graph of 500 nodes (the validator's maximum) with
# typical parameters fits well under it.
MAX_VALIDATE_BYTES = 2 * 1024 * 1024
WEBHOOK_SECRET_BYTES = 32
# Palette groups, in the order the editor lists them; unknown types go under "Other".
PALETTE_GROUPS = {
    "Triggers": ("trigger.manual", "trigger.webhook", "trigger.schedule"),
    "AI": ("llm", "agent", "prompt"),
    "Flow": ("condition", "switch", "loop", "merge", "delay", "approval", "sub_workflow", "noop"),
    "Data": ("set", "template", "transform"),
    "Actions": ("http_request", "respond_to_webhook"),
}


def new_webhook_secret() -> str:
    """Return a random URL-safe webhook signing secret."""
    return secrets.token_urlsafe(WEBHOOK_SECRET_BYTES)


class WorkflowCreateForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="You can rename it later in the editor.")
    description = forms.CharField(max_length=10_000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


def _workflow(workspace: Workspace, workflow_id: Any) -> Workflow:
    workflow = selectors.workflow_list(workspace_ids=[workspace.pk]).filter(pk=workflow_id).first()
    if workflow is None:
        raise Http404
    return workflow


def node_catalogue() -> list[dict[str, Any]]:
    """List every node type with its group, description, JSON schema and default output handles."""
    group_of = {name: group for group, names in PALETTE_GROUPS.items() for name in names}
    catalogue = []
    for name, kind in node_types().items():
        catalogue.append(
            {
                "type": name,
                "group": group_of.get(name, "Other"),
                "description": kind.description,
                "schema": kind.schema,
                "handles": list(kind.output_handles),
                "is_trigger": kind.is_trigger,
                "side_effect": kind.side_effect,
            }
        )
    order = [*PALETTE_GROUPS, "Other"]
    catalogue.sort(key=lambda item: (order.index(item["group"]), item["type"]))
    return catalogue


# --- list, create, delete --------------------------------------------------------


def _list_page(
    request: HttpRequest, workspace: Workspace, form: WorkflowCreateForm | None = None, status: int = 200
) -> HttpResponse:
    page_check(request, workspace, "workflows:read")
    search = request.GET.get("search", "").strip()[:200]
    workflows = selectors.workflow_list(workspace_ids=[workspace.pk])
    workflows = selectors.workflow_filter(workflows=workflows, search=search)
    page = Paginator(workflows.order_by("-updated_at"), PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "workspace": workspace,
        "page": page,
        "search": search,
        "form": form or WorkflowCreateForm(),
        "can_write": page_allows(request, workspace, "workflows:write"),
        "can_delete": page_allows(request, workspace, "workflows:delete"),
    }
    return render(request, "workflows/workflow_list.html", context, status=status)


@workspace_page
def workflow_list(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    return _list_page(request, workspace)


@require_POST
@workspace_page
def workflow_create(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    """Create a workflow holding one manual trigger and open it in the editor."""
    page_check(request, workspace, "workflows:write")
    form = WorkflowCreateForm(request.POST)
    if not form.is_valid():
        return _list_page(request, workspace, form=form, status=422)

    start = {"id": "start", "type": "trigger.manual", "name": "Start", "position": {"x": 80, "y": 160}}
    try:
        workflow = workflow_services.workflow_create(
            workspace=workspace, user=request.user, data={**form.cleaned_data, "nodes": [start], "edges": []}
        )
    except ApplicationError as exc:
        show_error(request, exc, form)
        return _list_page(request, workspace, form=form, status=422)
    messages.success(request, f"{workflow.name} was created. Add nodes from the palette, then save.")
    return HttpResponseRedirect(reverse("workflow_pages:editor", args=[workflow.pk]))


@require_POST
@workspace_page
def workflow_delete(request: HttpRequest, workspace: Workspace, workflow_id: Any) -> HttpResponse:
    page_check(request, workspace, "workflows:delete")
    workflow = _workflow(workspace, workflow_id)
    workflow_services.workflow_delete(workflow=workflow)
    messages.success(request, f"{workflow.name} was deleted. Its past executions stay in the history.")
    return HttpResponseRedirect(reverse("workflow_pages:list"))


# --- editor ------------------------------------------------------------------------


def _editor_context(request: HttpRequest, workspace: Workspace, workflow: Workflow) -> dict[str, Any]:
    can_write = page_allows(request, workspace, "workflows:write")
    return {
        "workspace": workspace,
        "workflow": workflow,
        "editor_data": {
            "workflow": WorkflowSerializer(workflow).data,
            "workspace_id": str(workspace.pk),
            "catalogue": node_catalogue(),
            "can_write": can_write,
            "can_run": page_allows(request, workspace, "workflows:run"),
            "urls": {
                "api": "/api/v1/",
                "validate": reverse("workflow_pages:validate"),
                "executions": reverse("execution_pages:list"),
                "list": reverse("workflow_pages:list"),
            },
        },
        "webhook_url": f"{settings.ATHENA_PUBLIC_URL}/api/v1/hooks/{workflow.webhook_token}",
        "webhook_signed": bool(workflow.webhook_secret is not None and workflow.webhook_secret.reveal()),
        "can_write": can_write,
    }


@workspace_page
def workflow_editor(request: HttpRequest, workspace: Workspace, workflow_id: Any) -> HttpResponse:
    page_check(request, workspace, "workflows:read")
    workflow = _workflow(workspace, workflow_id)
    return render(request, "workflows/workflow_editor.html", _editor_context(request, workspace, workflow))


@require_POST
@workspace_page
def workflow_validate(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    """Validate an unsaved graph with the rules of a save; return `{"errors": {...}}`, empty when valid."""
    page_check(request, workspace, "workflows:read")
    try:
        body = request.body
    except RequestDataTooBig:
        body = None
    if body is None or len(body) > MAX_VALIDATE_BYTES:
        message = f"The graph is larger than {MAX_VALIDATE_BYTES // (1024 * 1024)} MiB; remove large parameter values."
        return JsonResponse({"message": message, "code": "payload_too_large"}, status=413)
    try:
        graph = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"message": "The body is not valid JSON.", "code": "malformed_json"}, status=400)
    if not isinstance(graph, dict):
        return JsonResponse({"message": "Send an object with nodes and edges.", "code": "validation_error"}, status=422)

    _nodes, _edges, errors = validate_graph(graph.get("nodes", []), graph.get("edges", []))
    return JsonResponse({"errors": errors})


@require_POST
@workspace_page
def workflow_webhook_secret(request: HttpRequest, workspace: Workspace, workflow_id: Any) -> HttpResponse:
    """Generate a new webhook signing secret and show it once, or remove the secret."""
    page_check(request, workspace, "workflows:write")
    workflow = _workflow(workspace, workflow_id)
    editor_url = reverse("workflow_pages:editor", args=[workflow.pk])
    if request.POST.get("action") == "remove":
        workflow_services.workflow_update(workflow=workflow, user=request.user, data={"webhook_secret": ""})
        messages.success(request, "The signing secret was removed; the webhook now accepts unsigned requests.")
        return HttpResponseRedirect(editor_url)

    secret = new_webhook_secret()
    workflow_services.workflow_update(workflow=workflow, user=request.user, data={"webhook_secret": secret})
    context = {"workspace": workspace, "workflow": workflow, "secret": secret, "editor_url": editor_url}
    return no_store(render(request, "workflows/webhook_secret.html", context))
