"""The OpenAI-compatible endpoint: agents as models, answering in OpenAI's Chat Completions formats.

Bodies, streamed chunks and errors follow OpenAI's shapes rather than Athena's envelope, so that
OpenAI's own client libraries work against Athena unchanged.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from django.http import StreamingHttpResponse
from django.utils.functional import classproperty
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents import services as agent_services
from agents.api.streaming import EventStreamRenderer
from agents.models import Agent, RunSource
from agents.runtime import RunEvent
from athena_site.api.errors import ApplicationError, NotFound
from athena_site.api.exceptions import exception_handler
from athena_site.api.schema import AthenaAutoSchema
from threads import selectors, services
from threads.api.streaming import background_events
from threads.conf import thread_setting
from threads.errors import VisionUnsupported
from threads.models import Thread
from workspaces.permissions import check_permission
from workspaces.resolution import workspace_resolve_for_request

THREAD_HEADER = "HTTP_X_ATHENA_THREAD"
RUN_ID_HEADER = "X-Athena-Run-Id"
CHAT_ROLES = ("system", "developer", "user", "assistant", "tool")
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


def openai_error_body(message: str, code: str, status_code: int, param: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": _ERROR_TYPES.get(status_code, "api_error"),
            "param": param,
            "code": code,
        }
    }


class ChatMessageSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=CHAT_ROLES)
    content = serializers.JSONField(required=False, allow_null=True)

    def validate_content(self, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value or ""
        if not isinstance(value, list) or not all(isinstance(part, dict) for part in value):
            raise serializers.ValidationError("Send a string or a list of content parts.")
        for part in value:
            if part.get("type") not in ("text", "image_url"):
                raise serializers.ValidationError("Content parts must be of type text or image_url.")
        return value


class ChatCompletionRequestSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=200, help_text="The id or slug of an agent of the workspace.")
    messages = ChatMessageSerializer(many=True, allow_empty=False)
    stream = serializers.BooleanField(required=False, default=False)
    stream_options = serializers.DictField(required=False, allow_null=True)

    def validate_messages(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        limit = int(thread_setting("ATHENA_THREAD_MAX_CONTENT_CHARS"))
        if sum(len(json.dumps(message.get("content") or "")) for message in value) > limit * 4:
            raise serializers.ValidationError("The messages are too long.")
        return value


class ChatCompletionMessageSerializer(serializers.Serializer):
    role = serializers.CharField()
    content = serializers.CharField(allow_null=True)


class ChatCompletionChoiceSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    message = ChatCompletionMessageSerializer()
    finish_reason = serializers.CharField(allow_null=True)


class ChatCompletionUsageSerializer(serializers.Serializer):
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()


class ChatCompletionSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField()
    created = serializers.IntegerField()
    model = serializers.CharField()
    choices = ChatCompletionChoiceSerializer(many=True)
    usage = ChatCompletionUsageSerializer()


class OpenAIModelSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField()
    created = serializers.IntegerField()
    owned_by = serializers.CharField()


class OpenAIModelListSerializer(serializers.Serializer):
    object = serializers.CharField()
    data = OpenAIModelSerializer(many=True)


class OpenAIErrorDetailSerializer(serializers.Serializer):
    message = serializers.CharField()
    type = serializers.CharField()
    param = serializers.CharField(allow_null=True)
    code = serializers.CharField(allow_null=True)


class OpenAIErrorSerializer(serializers.Serializer):
    error = OpenAIErrorDetailSerializer()


class OpenAISchema(AthenaAutoSchema):
    envelope = False

    def get_operation(self, *args: Any, **kwargs: Any) -> Any:
        operation = super().get_operation(*args, **kwargs)
        # Errors here use OpenAI's `{error: {...}}` shape, not Athena's.
        error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAIError"}}}}
        for status_code, response in operation.get("responses", {}).items():
            if not str(status_code).startswith("2"):
                response.update(error)
        return operation


_ERROR_RESPONSES = dict.fromkeys((400, 401, 403, 404, 409, 502), OpenAIErrorSerializer)


class OpenAIView(APIView):
    """Base of the OpenAI-compatible views: plain JSON bodies and OpenAI-shaped errors."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer, EventStreamRenderer]
    schema = OpenAISchema()

    def handle_exception(self, exc: Exception) -> Response:
        response = exception_handler(exc, self.get_exception_handler_context())
        body = response.data if isinstance(response.data, dict) else {}
        param = None
        if isinstance(exc, exceptions.ValidationError) and isinstance(body.get("errors"), dict) and body["errors"]:
            param = next(iter(body["errors"]))
            first = body["errors"][param]
            body["message"] = f"{param}: {first[0] if isinstance(first, list) and first else first}"
        status_code = 400 if response.status_code == 422 else response.status_code
        headers = {key: value for key, value in response.items() if key in ("WWW-Authenticate", "Retry-After")}
        return Response(
            openai_error_body(body.get("message", "Error."), body.get("code", "error"), status_code, param),
            status=status_code,
            headers=headers,
        )

    def check_workspace_permission(self, request: Request, required: str) -> Any:
        workspace = workspace_resolve_for_request(request=request)
        check_permission(request=request, workspace=workspace, required=required)
        return workspace


class OpenAIModelsView(OpenAIView):
    @extend_schema(
        tags=["OpenAI-compatible"],
        summary="List the workspace's agents as OpenAI models",
        operation_id="openai_models_list",
        responses={200: OpenAIModelListSerializer, **_ERROR_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        workspace = self.check_workspace_permission(request, "agents:read")
        agents = selectors.agents_as_models(workspace_id=workspace.pk, user=request.user)
        data = [
            {
                "id": agent.slug,
                "object": "model",
                "created": int(agent.created_at.timestamp()),
                "owned_by": workspace.slug,
            }
            for agent in agents
        ]
        return Response({"object": "list", "data": data})


class ChatCompletionsView(OpenAIView):
    @classproperty
    def max_body_size(cls) -> int:
        # Images arrive inline as base64 data URLs, a third larger than the files themselves.
        return int(thread_setting("ATHENA_ATTACHMENT_MAX_BYTES")) * 4 // 3 + 1024 * 1024

    @extend_schema(
        tags=["OpenAI-compatible"],
        summary="Chat with an agent in OpenAI's Chat Completions format",
        description="`model` is an agent's id or slug. The agent's instructions, model, tools and limits "
        "apply; sampling parameters in the request are ignored. With `X-Athena-Thread`, the last user "
        "message continues that thread and the thread's stored history replaces the request's earlier "
        "messages. A failed run is a 502 error in OpenAI's shape.",
        operation_id="openai_chat_completions_create",
        parameters=[
            OpenApiParameter(
                "X-Athena-Thread", OpenApiTypes.UUID, OpenApiParameter.HEADER, description="A thread to continue."
            ),
            OpenApiParameter(
                "X-Workspace", OpenApiTypes.STR, OpenApiParameter.HEADER, description="Workspace id or slug."
            ),
        ],
        request=ChatCompletionRequestSerializer,
        responses={
            200: ChatCompletionSerializer,
            (200, "text/event-stream"): OpenApiResponse(
                response=OpenApiTypes.STR, description="`data: {chat.completion.chunk}` lines, then `data: [DONE]`."
            ),
            **_ERROR_RESPONSES,
        },
    )
    def post(self, request: Request) -> Any:
        workspace = self.check_workspace_permission(request, "agents:run")
        serializer = ChatCompletionRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        agent = selectors.agent_for_model_name(workspace_id=workspace.pk, user=request.user, name=data["model"])
        if agent is None:
            raise NotFound(
                f"The model '{data['model']}' does not exist: use an agent's id or slug.", code="model_not_found"
            )
        thread = self._thread(request, agent)

        run_id, events = _start(
            request=request, agent=agent, thread=thread, messages=data["messages"], stream=data["stream"]
        )
        completion_id = f"chatcmpl-{run_id.hex}"
        if data["stream"]:
            include_usage = bool((data.get("stream_options") or {}).get("include_usage"))
            response = StreamingHttpResponse(
                _chunks(events, completion_id=completion_id, model=data["model"], include_usage=include_usage),
                content_type="text/event-stream; charset=utf-8",
            )
            response["Cache-Control"] = "no-cache"
            response["X-Accel-Buffering"] = "no"
            response[RUN_ID_HEADER] = str(run_id)
            return response

        summary = _summary(list(events)[-1].data)
        if summary["status"] != "succeeded":
            error = summary.get("error") or {}
            raise ApplicationError(
                error.get("message", "The run failed."),
                code=error.get("code", "run_failed"),
                status_code=502,
                headers={RUN_ID_HEADER: str(run_id)},
            )
        body = _completion(summary, completion_id=completion_id, model=data["model"])
        return Response(body, headers={RUN_ID_HEADER: str(run_id)})

    def _thread(self, request: Request, agent: Agent) -> Thread | None:
        thread_id = request.META.get(THREAD_HEADER, "").strip()
        if not thread_id:
            return None
        thread = selectors.thread_find(workspace_id=agent.workspace_id, thread_id=thread_id)
        if thread is None or thread.agent_id != agent.pk:
            raise NotFound("The thread does not exist or belongs to another agent.", code="thread_not_found")
        check_permission(request=request, workspace=agent.workspace, required="threads:run", object_id=thread.pk)
        return thread


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if part.get("type") == "text")
    return content or ""


def _has_image(chat: list[dict[str, Any]]) -> bool:
    return any(
        part.get("type") == "image_url"
        for message in chat
        if isinstance(message["content"], list)
        for part in message["content"]
    )


def _start(
    *, request: Request, agent: Agent, thread: Thread | None, messages: list[dict[str, Any]], stream: bool
) -> tuple[Any, Iterator[RunEvent]]:
    """Prepare the run and return its id and its events (streamed in a worker thread when `stream`)."""
    if thread is not None:
        last_user = next((message for message in reversed(messages) if message["role"] == "user"), None)
        content = _text(last_user["content"]) if last_user else ""
        turn = services.thread_run_prepare(thread=thread, user=request.user, content=content, source=RunSource.OPENAI)
        produce = lambda: services.thread_run_execute(turn=turn, stream=stream)  # noqa: E731 (a deferred call)
        prepared = turn.prepared
    else:
        chat = [
            {"role": "system" if message["role"] == "developer" else message["role"], "content": message["content"]}
            for message in messages
            # The agent runs its own tools, so results of the client's tools have no call to answer.
            if message["role"] != "tool"
        ]
        if _has_image(chat) and not (agent.model and agent.model.has_capability("vision")):
            raise VisionUnsupported()
        query = (
            _text(chat[-1]["content"])
            if chat and chat[-1]["role"] == "user" and isinstance(chat[-1]["content"], str)
            else ""
        )
        prior = chat[:-1] if query else chat
        prepared = agent_services.agent_run_prepare(
            agent=agent, input=query, messages=prior or None, source=RunSource.OPENAI, user=request.user
        )
        produce = lambda: agent_services.agent_run_execute(prepared=prepared, stream=stream)  # noqa: E731
    if not stream:
        return prepared.run.pk, produce()
    events = background_events(produce, cancel=prepared.cancel, name=f"openai-run-{prepared.run.pk}")
    return prepared.run.pk, events


def _summary(data: Any) -> dict[str, Any]:
    """Return the run summary from a `done` event of an agent run or a thread run."""
    return data.summary if isinstance(data, services.ThreadRunResult) else data


def _usage(summary: dict[str, Any]) -> dict[str, int]:
    usage = summary.get("usage") or {}
    prompt, completion = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _completion(summary: dict[str, Any], *, completion_id: str, model: str) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": summary.get("output") or "", "refusal": None},
                "finish_reason": summary.get("finish_reason") or "stop",
                "logprobs": None,
            }
        ],
        "usage": _usage(summary),
        "system_fingerprint": None,
    }


def _chunk(
    completion_id: str,
    model: str,
    created: int,
    *,
    delta: dict[str, Any] | None,
    finish: str | None = None,
    usage: Any = None,
) -> bytes:
    chunk: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }
    if usage is not None:
        chunk["usage"] = usage
    return f"data: {json.dumps(chunk)}\n\n".encode()


def _chunks(
    events: Iterator[RunEvent | None], *, completion_id: str, model: str, include_usage: bool
) -> Iterator[bytes]:
    """Translate run events into OpenAI's chunks. Tool steps stay inside Athena and are not sent."""
    created = int(time.time())
    yield _chunk(completion_id, model, created, delta={"role": "assistant", "content": ""})
    error: dict[str, Any] | None = None
    for event in events:
        if event is None:
            yield b": heartbeat\n\n"
        elif event.type == "delta":
            yield _chunk(completion_id, model, created, delta={"content": event.data["text"]})
        elif event.type == "error":
            error = event.data
        elif event.type == "done":
            summary = _summary(event.data)
            if error is not None or summary.get("status") != "succeeded":
                error = error or summary.get("error") or {"code": "run_failed", "message": "The run failed."}
                body = openai_error_body(error.get("message", "The run failed."), error.get("code", "run_failed"), 502)
                yield f"data: {json.dumps(body)}\n\n".encode()
            else:
                yield _chunk(completion_id, model, created, delta={}, finish=summary.get("finish_reason") or "stop")
                if include_usage:
                    yield _chunk(completion_id, model, created, delta=None, usage=_usage(summary))
    yield b"data: [DONE]\n\n"
