"""Isolation matrix cases of the threads, messages and attachments routes (collected by tests/isolation).

The OpenAI-compatible routes answer in OpenAI's error shape, which the matrix cannot read; their
401, 404, 403 and success cases are in test_openai.py.
"""

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.agents.factories import agent_in
from tests.isolation.harness import EndpointCase
from threads import services
from workspaces.models import Role

EDITOR = Role.EDITOR


def _thread(world):
    return services.thread_create(workspace=world.workspace, user=world.owner, agent=agent_in(world.workspace), data={})


def _thread_url(world, thread):
    return f"/api/v1/threads/{thread.pk}"


def _message(world):
    thread = _thread(world)
    message = services.message_create(thread=thread, user=world.owner, role="user", content="Hello")
    return {"thread": thread, "message": message}


def _message_url(world, objects):
    return f"/api/v1/threads/{objects['thread'].pk}/messages/{objects['message'].pk}"


def _attachment(world):
    upload = SimpleUploadedFile("notes.txt", b"Quarterly notes", content_type="text/plain")
    return services.attachment_create(workspace=world.workspace, user=world.owner, upload=upload)


def _attachment_url(world, attachment):
    return f"/api/v1/attachments/{attachment.pk}"


THREAD_BODY = {"name": "Renamed"}

CASES = [
    # Threads
    EndpointCase("threads", "GET", lambda w, o: "/api/v1/threads", "threads:read", scope="context"),
    EndpointCase(
        "threads",
        "POST",
        lambda w, o: "/api/v1/threads",
        "threads:write",
        min_role=EDITOR,
        scope="context",
        factory=lambda w: agent_in(w.workspace),
        body=lambda w, o: {"agent_id": str(o.pk)},
    ),
    EndpointCase("threads/{pk}", "GET", _thread_url, "threads:read", factory=_thread),
    EndpointCase(
        "threads/{pk}",
        "PUT",
        _thread_url,
        "threads:write",
        min_role=EDITOR,
        factory=_thread,
        body=lambda w, o: {"agent_id": str(o.agent_id), "name": "Renamed"},
    ),
    EndpointCase(
        "threads/{pk}", "PATCH", _thread_url, "threads:write", min_role=EDITOR, factory=_thread, body=THREAD_BODY
    ),
    EndpointCase("threads/{pk}", "DELETE", _thread_url, "threads:delete", min_role=EDITOR, factory=_thread),
    EndpointCase(
        "threads/{pk}/run",
        "POST",
        lambda w, o: f"{_thread_url(w, o)}/run",
        "threads:run",
        min_role=EDITOR,
        factory=_thread,
        body={"content": "Hi"},
    ),
    EndpointCase(
        "threads/{pk}/generate-name",
        "POST",
        lambda w, o: f"{_thread_url(w, o)}/generate-name",
        "threads:write",
        min_role=EDITOR,
        factory=_thread,
    ),
    # Messages
    EndpointCase(
        "threads/{pk}/messages", "GET", lambda w, o: f"{_thread_url(w, o)}/messages", "threads:read", factory=_thread
    ),
    EndpointCase(
        "threads/{pk}/messages",
        "POST",
        lambda w, o: f"{_thread_url(w, o)}/messages",
        "threads:write",
        min_role=EDITOR,
        factory=_thread,
        body={"content": "Injected"},
    ),
    EndpointCase("threads/{pk}/messages/{message_id}", "GET", _message_url, "threads:read", factory=_message),
    EndpointCase(
        "threads/{pk}/messages/{message_id}",
        "PUT",
        _message_url,
        "threads:write",
        min_role=EDITOR,
        factory=_message,
        body={"content": "Tampered"},
    ),
    EndpointCase(
        "threads/{pk}/messages/{message_id}",
        "PATCH",
        _message_url,
        "threads:write",
        min_role=EDITOR,
        factory=_message,
        body={"content": "Tampered"},
    ),
    EndpointCase(
        "threads/{pk}/messages/{message_id}",
        "DELETE",
        _message_url,
        "threads:delete",
        min_role=EDITOR,
        factory=_message,
    ),
    # Attachments
    EndpointCase(
        "attachments",
        "POST",
        lambda w, o: "/api/v1/attachments",
        "threads:write",
        min_role=EDITOR,
        scope="context",
        body={"file": "not a file"},
    ),
    EndpointCase("attachments/{pk}", "GET", _attachment_url, "threads:read", factory=_attachment),
    EndpointCase("attachments/{pk}", "DELETE", _attachment_url, "threads:delete", min_role=EDITOR, factory=_attachment),
    EndpointCase(
        "attachments/{pk}/download",
        "GET",
        lambda w, o: f"{_attachment_url(w, o)}/download",
        "threads:read",
        factory=_attachment,
    ),
]
