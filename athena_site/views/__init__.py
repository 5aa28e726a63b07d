"""Pages that combine several apps: the landing page, the dashboard and its command room board."""

import uuid
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from athena_site.api.errors import ApplicationError
from athena_site.metrics import MetricQuery, metric_series, source_get
from athena_site.metrics_api import workspace_tzinfo
from workflows import selectors as workflow_selectors
from workspaces import selectors as workspace_selectors
from workspaces import services as workspace_services
from workspaces.models import CommandRoomTask, Workspace
from workspaces.pages import page_allows, page_check, show_error, workspace_page

RANGES = {"7": 7, "30": 30, "90": 90}
RECENT_EXECUTIONS = 8
DASHBOARD_URL = "/"
# Statuses drawn as their own line on the executions chart; the rest are summed as "other".
CHARTED_STATUSES = ("succeeded", "failed")


def home(request: HttpRequest) -> HttpResponse:
    """Show the dashboard to a signed-in user and the landing page to everyone else."""
    if not request.user.is_authenticated:
        return render(request, "home.html")
    return dashboard(request)


def _metrics(workspace: Workspace, days: int) -> dict[str, dict[str, Any]]:
    end = timezone.now()
    results = {}
    for name in ("agents", "workflows", "threads", "messages", "workflow-executions"):
        query = MetricQuery(
            workspace_id=workspace.pk,
            start=end - timedelta(days=days),
            end=end,
            interval="day",
            tzinfo=workspace_tzinfo(workspace),
            filters={},
        )
        results[name] = metric_series(source=source_get(name), query=query)
    return results


def _chart(metric: dict[str, Any], lines: list[tuple[str, str, Any]]) -> dict[str, Any]:
    return {
        "labels": [bucket["start"].isoformat() for bucket in metric["series"]],
        "series": [
            {"label": label, "color": color, "values": [pick(bucket) for bucket in metric["series"]]}
            for label, color, pick in lines
        ],
    }


def _charts(metrics: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    executions = metrics["workflow-executions"]
    other = [status for status in executions["by_status"] if status not in CHARTED_STATUSES]
    return {
        "executions": _chart(
            executions,
            [
                ("Succeeded", "#1a7f37", lambda bucket: bucket["by_status"]["succeeded"]),
                ("Failed", "#b42318", lambda bucket: bucket["by_status"]["failed"]),
                ("Other", "#57606a", lambda bucket: sum(bucket["by_status"][status] for status in other)),
            ],
        ),
        "runs": _chart(
            metrics["agents"],
            [("Agent runs", "#0b5cad", lambda bucket: bucket["count"])],
        ),
        "usage": _chart(
            metrics["agents"],
            [
                ("Tokens", "#6f42c1", lambda bucket: bucket["tokens"]),
                ("Cost (USD)", "#b7791f", lambda bucket: float(bucket["cost"])),
            ],
        ),
    }


def _cards(metrics: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    executions = metrics["workflow-executions"]
    agents = metrics["agents"]
    rows = [
        ("Workflow executions", executions["total"], executions),
        ("Failed executions", executions["by_status"]["failed"], None),
        ("Agent runs", agents["total"], agents),
        ("Threads", metrics["threads"]["total"], metrics["threads"]),
        ("Messages", metrics["messages"]["total"], metrics["messages"]),
        ("Tokens", agents["tokens"] + metrics["messages"]["tokens"], None),
        ("Cost (USD)", f"{agents['cost'] + metrics['messages']['cost']:.4f}", None),
        ("Workflows created", metrics["workflows"]["total"], metrics["workflows"]),
    ]
    return [
        {
            "label": label,
            "value": value,
            "previous": metric["previous_total"] if metric else None,
            "change": metric["change_percent"] if metric else None,
        }
        for label, value, metric in rows
    ]


class NoteForm(forms.Form):
    title = forms.CharField(max_length=200, label="Note title")
    note = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


def _board(workspace: Workspace) -> list[CommandRoomTask]:
    return list(
        workspace_selectors.command_room_task_list(workspace_ids=[workspace.pk]).order_by("position", "created_at")
    )


def _dashboard_page(request: HttpRequest, workspace: Workspace, note_form: NoteForm | None = None) -> HttpResponse:
    page_check(request, workspace, "workspaces:read")
    days = RANGES.get(request.GET.get("days", ""), 30)
    metrics = _metrics(workspace, days)
    context = {
        "workspace": workspace,
        "days": days,
        "ranges": RANGES,
        "cards": _cards(metrics),
        "charts": _charts(metrics),
        "recent_executions": workflow_selectors.execution_list(workspace_ids=[workspace.pk]).order_by("-created_at")[
            :RECENT_EXECUTIONS
        ],
        "board": _board(workspace),
        "workflows": workflow_selectors.workflow_list(workspace_ids=[workspace.pk]).order_by("name")[:200],
        "note_form": note_form or NoteForm(),
        "can_pin": page_allows(request, workspace, "workspaces:write"),
    }
    return render(request, "dashboard.html", context, status=422 if note_form is not None else 200)


@workspace_page
def dashboard(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    return _dashboard_page(request, workspace)


@require_POST
@workspace_page
def board_pin(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    """Pin a note, a workflow or an execution to the command room."""
    page_check(request, workspace, "workspaces:write")
    kind = request.POST.get("kind", CommandRoomTask.Kind.NOTE)
    form = NoteForm(request.POST) if kind == CommandRoomTask.Kind.NOTE else None
    if form is not None and not form.is_valid():
        return _dashboard_page(request, workspace, note_form=form)
    reference_id = workspace_selectors.parse_uuid(request.POST.get("reference_id")) if form is None else None
    data = {"title": form.cleaned_data["title"], "note": form.cleaned_data["note"]} if form else {}
    if form is None and request.POST.get("title"):
        data["title"] = request.POST["title"][:200]
    elif kind == CommandRoomTask.Kind.WORKFLOW and reference_id is not None:
        pinned = workflow_selectors.workflow_list(workspace_ids=[workspace.pk]).filter(pk=reference_id).first()
        data["title"] = pinned.name if pinned else ""
    try:
        workspace_services.command_room_task_store(
            workspace=workspace, user=request.user, kind=kind, reference_id=reference_id, data=data
        )
    except ApplicationError as exc:
        if form is not None:
            show_error(request, exc, form)
            return _dashboard_page(request, workspace, note_form=form)
        messages.error(request, f"{exc.message} Pick an item from the list and pin it again.")
        return HttpResponseRedirect(_safe_next(request))
    messages.success(request, "Pinned to the command room.")
    return HttpResponseRedirect(_safe_next(request))


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else DASHBOARD_URL


def _task(workspace: Workspace, task_id: uuid.UUID) -> CommandRoomTask:
    task = workspace_selectors.command_room_task_list(workspace_ids=[workspace.pk]).filter(pk=task_id).first()
    if task is None:
        raise Http404
    return task


@require_POST
@workspace_page
def board_move(request: HttpRequest, workspace: Workspace, task_id: uuid.UUID) -> HttpResponse:
    """Move a pinned item one place up or down by giving it a position next to its neighbour."""
    page_check(request, workspace, "workspaces:write")
    task = _task(workspace, task_id)
    board = _board(workspace)
    index = next(position for position, item in enumerate(board) if item.pk == task.pk)
    step = -1 if request.POST.get("direction") == "up" else 1
    if not 0 <= index + step < len(board):
        return HttpResponseRedirect(DASHBOARD_URL)
    neighbour = board[index + step]
    if task.kind == CommandRoomTask.Kind.NOTE:
        # NOTE: storing a note again creates a new one, so notes keep their place until
        # workspaces offers an update service for tasks.
        messages.error(request, "Notes keep their place on the board; move the pinned items around them.")
        return HttpResponseRedirect(DASHBOARD_URL)
    # Only the moved item changes: just past its neighbour's position in the direction of travel.
    workspace_services.command_room_task_store(
        workspace=workspace,
        user=request.user,
        kind=task.kind,
        reference_id=task.reference_id,
        data={"position": neighbour.position + step},
    )
    return HttpResponseRedirect(DASHBOARD_URL)


@require_POST
@workspace_page
def board_remove(request: HttpRequest, workspace: Workspace, task_id: uuid.UUID) -> HttpResponse:
    page_check(request, workspace, "workspaces:write")
    task = _task(workspace, task_id)
    workspace_services.command_room_task_remove(task=task)
    messages.success(request, "Removed from the command room; the item itself is unchanged.")
    return HttpResponseRedirect(DASHBOARD_URL)
