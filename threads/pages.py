"""Browser pages of chat: an agent's threads and the conversation view.

With JavaScript, `static/js/chat.js` uploads attachments through `POST /api/v1/attachments`,
streams the reply from the thread run endpoint's Server-Sent Events, then reloads the message
list from this module's partial. Without it, the composer posts to `thread_send`, which runs the
same services without streaming. Renaming, archiving and rating are plain form posts (htmx swaps
the rating in place).
"""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from agents.models import Agent
from agents.pages import visible_agent
from athena_site.api.errors import ApplicationError
from threads import selectors, services
from threads.api.serializers import MessageUpdateSerializer, ThreadRunRequestSerializer, ThreadWriteSerializer
from threads.models import MessageRole, Thread
from workspaces.models import Workspace
from workspaces.pages import page_allows, page_check, workspace_page

THREAD_LIST_SIZE = 50
MAX_FILES_PER_MESSAGE = 10


def _threads(request: HttpRequest, workspace: Workspace, agent: Agent, archived: bool) -> list[Thread]:
    threads = selectors.thread_list(workspace_ids=[workspace.pk], user=request.user).filter(
        agent=agent, archived=archived
    )
    return list(threads.order_by("-last_activity_at", "-created_at")[:THREAD_LIST_SIZE])


def _thread(request: HttpRequest, workspace: Workspace, thread_id: Any) -> Thread:
    thread = (
        selectors.thread_list(workspace_ids=[workspace.pk], user=request.user)
        .filter(pk=thread_id)
        .select_related("agent", "agent__model")
        .first()
    )
    if thread is None:
        raise Http404
    return thread


def conversation(thread: Thread) -> list[dict[str, Any]]:
    """Return the thread's messages as the page shows them: tool results attached to the call that asked for them."""
    items: list[dict[str, Any]] = []
    calls: dict[str, dict[str, Any]] = {}
    for message in selectors.message_list(thread=thread):
        if message.role == MessageRole.TOOL:
            step = calls.get(message.tool_call_id)
            if step is not None:
                step["result"] = message.content
                continue
            items.append({"message": message, "steps": [{"name": "tool", "arguments": "", "result": message.content}]})
            continue
        steps = []
        for call in message.tool_calls or []:
            function = call.get("function") or {}
            step = {"name": function.get("name", "tool"), "arguments": function.get("arguments", ""), "result": None}
            calls[call.get("id", "")] = step
            steps.append(step)
        items.append({"message": message, "steps": steps})
    return items


def _chat_context(request: HttpRequest, workspace: Workspace, agent: Agent, thread: Thread | None) -> dict[str, Any]:
    show_archived = request.GET.get("archived") == "1"
    return {
        "workspace": workspace,
        "agent": agent,
        "thread": thread,
        "threads": _threads(request, workspace, agent, archived=show_archived),
        "show_archived": show_archived,
        "items": conversation(thread) if thread else [],
        "can_write": page_allows(request, workspace, "threads:write"),
        "can_run": page_allows(request, workspace, "threads:run"),
        "configured": agent.model_id is not None and agent.account_id is not None,
    }


@workspace_page
def agent_chat(request: HttpRequest, workspace: Workspace, agent_id: str) -> HttpResponse:
    """Open the agent's latest conversation, or offer to start one."""
    page_check(request, workspace, "threads:read")
    agent = visible_agent(request, workspace, agent_id)
    if request.GET.get("archived") != "1":
        latest = _threads(request, workspace, agent, archived=False)
        if latest:
            return HttpResponseRedirect(reverse("chat_pages:thread", args=[latest[0].pk]))
    return render(request, "threads/chat.html", _chat_context(request, workspace, agent, None))


@require_POST
@workspace_page
def thread_new(request: HttpRequest, workspace: Workspace, agent_id: str) -> HttpResponse:
    page_check(request, workspace, "threads:write")
    agent = visible_agent(request, workspace, agent_id)
    thread = services.thread_create(workspace=workspace, user=request.user, agent=agent, data={})
    return HttpResponseRedirect(reverse("chat_pages:thread", args=[thread.pk]))


@workspace_page
def thread_detail(request: HttpRequest, workspace: Workspace, thread_id: str) -> HttpResponse:
    page_check(request, workspace, "threads:read")
    thread = _thread(request, workspace, thread_id)
    return render(request, "threads/chat.html", _chat_context(request, workspace, thread.agent, thread))


@workspace_page
def thread_messages(request: HttpRequest, workspace: Workspace, thread_id: str) -> HttpResponse:
    """Return the message list alone, which the chat script swaps in after a streamed reply."""
    page_check(request, workspace, "threads:read")
    thread = _thread(request, workspace, thread_id)
    context = {
        "thread": thread,
        "items": conversation(thread),
        "can_write": page_allows(request, workspace, "threads:write"),
    }
    return render(request, "threads/messages.html", context)


@require_POST
@workspace_page
def thread_send(request: HttpRequest, workspace: Workspace, thread_id: str) -> HttpResponse:
    """Add the message with its files and run the agent without streaming (the composer without JavaScript)."""
    page_check(request, workspace, "threads:run")
    thread = _thread(request, workspace, thread_id)
    back = HttpResponseRedirect(reverse("chat_pages:thread", args=[thread.pk]) + "#composer")
    query = ThreadRunRequestSerializer(data={"content": request.POST.get("content", "")})
    if not query.is_valid():
        messages.error(request, f"The message was not sent: {' '.join(query.errors.get('content', []))}")
        return back
    content = query.validated_data["content"]
    files = request.FILES.getlist("files")
    if len(files) > MAX_FILES_PER_MESSAGE:
        messages.error(request, f"Attach at most {MAX_FILES_PER_MESSAGE} files to one message.")
        return back
    try:
        attachments = [
            services.attachment_create(workspace=workspace, user=request.user, upload=file) for file in files
        ]
        result = services.thread_run(thread=thread, user=request.user, content=content, attachments=attachments)
    except ApplicationError as exc:
        details = " ".join(" ".join(items) for items in (exc.errors or {}).values())
        messages.error(request, f"{exc.message} {details}".strip())
        return back
    if result.summary.get("status") == "failed":
        messages.error(request, "The reply failed; the reason is shown under it. Send the message again to retry.")
    return back


@require_POST
@workspace_page
def thread_rename(request: HttpRequest, workspace: Workspace, thread_id: str) -> HttpResponse:
    page_check(request, workspace, "threads:write")
    thread = _thread(request, workspace, thread_id)
    serializer = ThreadWriteSerializer(data={"name": request.POST.get("name", "").strip()}, partial=True)
    if not serializer.is_valid():
        messages.error(request, f"The name was not saved: {' '.join(serializer.errors.get('name', []))}")
    else:
        services.thread_update(thread=thread, data=serializer.validated_data)
        messages.success(request, "The conversation was renamed.")
    return HttpResponseRedirect(reverse("chat_pages:thread", args=[thread.pk]))


@require_POST
@workspace_page
def thread_archive(request: HttpRequest, workspace: Workspace, thread_id: str) -> HttpResponse:
    """Archive the thread (hidden from the list, kept with its messages) or restore it."""
    page_check(request, workspace, "threads:write")
    thread = _thread(request, workspace, thread_id)
    archived = request.POST.get("archived", "1") == "1"
    services.thread_update(thread=thread, data={"archived": archived})
    if archived:
        messages.success(request, "The conversation was archived. Find it under Archived conversations.")
        return HttpResponseRedirect(reverse("chat_pages:agent", args=[thread.agent_id]))
    messages.success(request, "The conversation was restored.")
    return HttpResponseRedirect(reverse("chat_pages:thread", args=[thread.pk]))


@require_POST
@workspace_page
def message_rate(request: HttpRequest, workspace: Workspace, thread_id: str, message_id: str) -> HttpResponse:
    """Rate a reply from 1 to 5, which also rates the agent run behind it."""
    page_check(request, workspace, "threads:write")
    thread = _thread(request, workspace, thread_id)
    message = selectors.message_get(thread=thread, message_id=message_id)
    serializer = MessageUpdateSerializer(data={"rating": request.POST.get("rating")}, partial=True)
    error = ""
    if message.role != MessageRole.ASSISTANT:
        error = "Only replies of the agent can be rated."
    elif not serializer.is_valid() or serializer.validated_data.get("rating") is None:
        error = "Choose a rating from 1 to 5."
    else:
        message = services.message_update(message=message, data={"rating": serializer.validated_data["rating"]})
    if request.headers.get("HX-Request"):
        context = {"thread": thread, "message": message, "can_write": True, "rating_error": error}
        # htmx swaps only successful responses, so a refused rating is shown with status 200.
        return render(request, "threads/rating.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"You rated the reply {message.rating} out of 5.")
    return HttpResponseRedirect(reverse("chat_pages:thread", args=[thread.pk]) + f"#message-{message.pk}")
