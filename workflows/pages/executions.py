"""Browser pages of workflow executions: the filtered list and the live detail page.

The detail page draws the graph the execution ran over, each node coloured by the status of
its run, and polls a partial every second (htmx) until the execution finishes. Cancel,
approve or reject, and retry call the executions services with the API's role checks.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from athena_site.api.errors import ApplicationError
from workflows import selectors
from workflows.models import ExecutionMode, ExecutionStatus, NodeRunStatus, WorkflowExecution
from workflows.services import executions as execution_services
from workspaces.models import Workspace
from workspaces.pages import page_allows, page_check, workspace_page

PER_PAGE = 25
NODE_WIDTH = 170
NODE_HEIGHT = 56
LAYER_GAP = 70
ROW_GAP = 30
MARGIN = 20


class ExecutionFilterForm(forms.Form):
    workflow = forms.ChoiceField(required=False)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *ExecutionStatus.choices])
    mode = forms.ChoiceField(required=False, choices=[("", "Any trigger"), *ExecutionMode.choices])

    def __init__(self, *args: Any, workflows: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["workflow"].choices = [("", "Any workflow")] + [(str(item.pk), item.name) for item in workflows]


@workspace_page
def execution_list(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    page_check(request, workspace, "executions:read")
    workflows = list(selectors.workflow_list(workspace_ids=[workspace.pk]).order_by("name"))
    form = ExecutionFilterForm(request.GET or None, workflows=workflows)
    executions = selectors.execution_list(workspace_ids=[workspace.pk]).order_by("-created_at")
    if form.is_bound and form.is_valid():
        for name, lookup in (("workflow", "workflow_id"), ("status", "status"), ("mode", "mode")):
            if form.cleaned_data[name]:
                executions = executions.filter(**{lookup: form.cleaned_data[name]})

    page = Paginator(executions, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "workspace": workspace,
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "invalid_filters": form.is_bound and not form.is_valid(),
    }
    return render(request, "workflows/execution_list.html", context)


# --- detail ----------------------------------------------------------------------


def _execution(workspace: Workspace, execution_id: str) -> WorkflowExecution:
    execution = selectors.execution_list(workspace_ids=[workspace.pk]).filter(pk=execution_id).first()
    if execution is None:
        raise Http404
    return execution


def _node_status(run: Any, execution: WorkflowExecution) -> str:
    if run is None:
        return "pending"
    if run.status == NodeRunStatus.RUNNING and (run.state or {}).get("waiting"):
        return "waiting"
    return run.status


def _layers(nodes: list[dict], edges: list[dict]) -> dict[str, int]:
    """Place each node one layer after its deepest predecessor, for graphs saved without positions."""
    ids = [node["id"] for node in nodes]
    incoming: dict[str, list[str]] = {node_id: [] for node_id in ids}
    for edge in edges:
        if edge.get("target") in incoming and edge.get("source") in incoming:
            incoming[edge["target"]].append(edge["source"])
    layers: dict[str, int] = {}

    def depth(node_id: str, seen: frozenset[str]) -> int:
        if node_id in layers:
            return layers[node_id]
        parents = [parent for parent in incoming[node_id] if parent not in seen]
        value = 1 + max((depth(parent, seen | {node_id}) for parent in parents), default=-1)
        layers[node_id] = value
        return value

    for node_id in ids:
        depth(node_id, frozenset())
    return layers


def execution_graph(*, execution: WorkflowExecution, runs: dict[str, Any]) -> dict[str, Any]:
    """Lay out the execution's graph as boxes and edge paths for the SVG drawing."""
    data = execution.workflow_data or {}
    nodes = [node for node in data.get("nodes", []) if isinstance(node, dict) and node.get("id")]
    edges = [edge for edge in data.get("edges", []) if isinstance(edge, dict)]
    layers = _layers(nodes, edges)
    rows: dict[int, int] = {}
    boxes: dict[str, dict[str, Any]] = {}
    for node in nodes:
        layer = layers.get(node["id"], 0)
        row = rows.get(layer, 0)
        rows[layer] = row + 1
        status = _node_status(runs.get(node["id"]), execution)
        boxes[node["id"]] = {
            "id": node["id"],
            "name": str(node.get("name") or node["id"])[:22],
            "type": str(node.get("type", ""))[:24],
            "status": status,
            "x": MARGIN + layer * (NODE_WIDTH + LAYER_GAP),
            "y": MARGIN + row * (NODE_HEIGHT + ROW_GAP),
        }

    paths = []
    for edge in edges:
        source, target = boxes.get(edge.get("source")), boxes.get(edge.get("target"))
        if source is None or target is None:
            continue
        x1, y1 = source["x"] + NODE_WIDTH, source["y"] + NODE_HEIGHT // 2
        x2, y2 = target["x"], target["y"] + NODE_HEIGHT // 2
        middle = (x1 + x2) // 2
        paths.append(f"M{x1},{y1} C{middle},{y1} {middle},{y2} {x2},{y2}")

    width = max((box["x"] for box in boxes.values()), default=0) + NODE_WIDTH + MARGIN
    height = max((box["y"] for box in boxes.values()), default=0) + NODE_HEIGHT + MARGIN
    return {
        "nodes": list(boxes.values()),
        "paths": paths,
        "width": width,
        "height": height,
        "node_width": NODE_WIDTH,
        "node_height": NODE_HEIGHT,
    }


def _detail_context(request: HttpRequest, workspace: Workspace, execution: WorkflowExecution) -> dict[str, Any]:
    runs = list(execution.node_runs.order_by("created_at", "item_index"))
    # The graph colours a node by its run outside loops; loop items are listed below it.
    by_node = {run.node_id: run for run in runs if run.item_index == -1}
    for run in runs:
        by_node.setdefault(run.node_id, run)
    waiting = [run for run in runs if run.node_type == "approval" and _node_status(run, execution) == "waiting"]
    node_ids = [node.get("id") for node in (execution.workflow_data or {}).get("nodes", []) if isinstance(node, dict)]
    return {
        "workspace": workspace,
        "execution": execution,
        "runs": runs,
        "graph": execution_graph(execution=execution, runs=by_node),
        "waiting_approvals": waiting if execution.status == ExecutionStatus.WAITING else [],
        "node_ids": [node_id for node_id in node_ids if node_id],
        "finished": execution.is_finished,
        "can_write": page_allows(request, workspace, "executions:write"),
        "can_run": page_allows(request, workspace, "workflows:run"),
        "can_pin": page_allows(request, workspace, "workspaces:write"),
    }


@workspace_page
def execution_detail(request: HttpRequest, workspace: Workspace, execution_id: str) -> HttpResponse:
    page_check(request, workspace, "executions:read")
    execution = _execution(workspace, execution_id)
    return render(request, "workflows/execution_detail.html", _detail_context(request, workspace, execution))


@workspace_page
def execution_live(request: HttpRequest, workspace: Workspace, execution_id: str) -> HttpResponse:
    """Return the live part of the detail page; it stops polling once the execution finished."""
    page_check(request, workspace, "executions:read")
    execution = _execution(workspace, execution_id)
    return render(request, "workflows/execution_live.html", _detail_context(request, workspace, execution))


def _back(execution: WorkflowExecution) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("execution_pages:detail", args=[execution.pk]))


@require_POST
@workspace_page
def execution_cancel(request: HttpRequest, workspace: Workspace, execution_id: str) -> HttpResponse:
    page_check(request, workspace, "executions:write")
    execution = _execution(workspace, execution_id)
    try:
        execution_services.execution_cancel(execution=execution)
        messages.success(request, "The execution was canceled; a running node finishes first.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(execution)


@require_POST
@workspace_page
def execution_resume(request: HttpRequest, workspace: Workspace, execution_id: str) -> HttpResponse:
    page_check(request, workspace, "executions:write")
    execution = _execution(workspace, execution_id)
    decision = request.POST.get("decision", "")
    if decision not in ("approve", "reject"):
        messages.error(request, "Choose Approve or Reject.")
        return _back(execution)
    try:
        execution_services.execution_resume(
            execution=execution,
            node_id=request.POST.get("node_id", "")[:100],
            decision=decision,
            data={"comment": request.POST.get("comment", "")[:2000]} if request.POST.get("comment") else None,
            user=request.user,
        )
        messages.success(request, "Your decision was recorded; the execution continues.")
    except ApplicationError as exc:
        messages.error(request, f"{exc.message} Reload the page to see its current state.")
    return _back(execution)


@require_POST
@workspace_page
def execution_retry(request: HttpRequest, workspace: Workspace, execution_id: str) -> HttpResponse:
    page_check(request, workspace, "workflows:run")
    execution = _execution(workspace, execution_id)
    from_node = request.POST.get("from_node", "").strip()[:100] or None
    try:
        retry = execution_services.execution_retry(execution=execution, user=request.user, from_node=from_node)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _back(execution)
    messages.success(request, "A retry started; it reuses the results of the nodes before the one you chose.")
    return _back(retry)
