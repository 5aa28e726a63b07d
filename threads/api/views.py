"""Viewsets of the threads API: threads with their messages, runs and names, and attachments."""

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from django.utils.functional import classproperty
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import filters, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from agents.api.streaming import EventStreamRenderer, wants_stream
from agents.models import Agent
from athena_site.api.errors import NotFound, ValidationFailed
from athena_site.api.renderers import EnvelopeJSONRenderer
from threads import selectors, services
from threads.api.serializers import (
    AttachmentSerializer,
    AttachmentUploadSerializer,
    DownloadQuerySerializer,
    MessageCreateSerializer,
    MessageSerializer,
    MessageUpdateSerializer,
    ThreadListQuerySerializer,
    ThreadRunRequestSerializer,
    ThreadRunResultSerializer,
    ThreadSerializer,
    ThreadWriteSerializer,
)
from threads.api.streaming import SSE_RESPONSE_DESCRIPTION, run_result_data, stream_thread_response
from threads.conf import thread_setting
from threads.models import Attachment, Thread
from workspaces.api.base import WorkspaceScopedViewSet

SSE_RESPONSE = OpenApiResponse(response=OpenApiTypes.STR, description=SSE_RESPONSE_DESCRIPTION)
MESSAGE_ID = OpenApiParameter("message_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
EDIT_NOTE = (
    "Editing or deleting a message changes that message only: replies stored after it are kept as they "
    "were written, and the next run sends the history as it now reads."
)
# Room in a multipart body for the boundary and headers around the file.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def _agent_for_thread(*, workspace_id: Any, user: Any, agent_id: Any) -> Agent:
    agent = (
        selectors.agent_for_model_name(workspace_id=workspace_id, user=user, name=str(agent_id)) if agent_id else None
    )
    if agent is None:
        raise ValidationFailed(errors={"agent_id": ["No agent of this workspace has this id."]})
    return agent


@extend_schema(tags=["Thread"])
@extend_schema_view(
    list=extend_schema(summary="List threads", parameters=[ThreadListQuerySerializer]),
    retrieve=extend_schema(summary="Get a thread"),
)
class ThreadViewSet(WorkspaceScopedViewSet):
    """Conversations with an agent: threads, their messages, runs and generated names."""

    serializer_class = ThreadSerializer
    queryset = Thread.objects.none()
    filter_backends = [filters.OrderingFilter]
    ordering_fields = ["last_activity_at", "created_at", "name"]
    ordering = ["-last_activity_at", "-created_at"]
    required_abilities = {
        "list": "threads:read",
        "retrieve": "threads:read",
        "create": "threads:write",
        "update": "threads:write",
        "partial_update": "threads:write",
        "destroy": "threads:delete",
        "run": "threads:run",
        "generate_name": "threads:write",
        "messages": "threads:read",
        "message_create": "threads:write",
        "message": "threads:read",
        "message_replace": "threads:write",
        "message_update": "threads:write",
        "message_delete": "threads:delete",
    }

    def get_scoped_queryset(self, *, workspace_ids: list[Any]) -> QuerySet:
        return selectors.thread_list(workspace_ids=workspace_ids, user=self.request.user)

    def get_renderers(self) -> list:
        if getattr(self, "action", None) == "run":
            return [EnvelopeJSONRenderer(), EventStreamRenderer()]
        return super().get_renderers()

    def list(self, request: Request) -> Response:
        query = ThreadListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        threads = self.filter_queryset(self.get_queryset())
        params = query.validated_data
        if params.get("agent"):
            threads = threads.filter(agent_id=params["agent"])
        if params.get("archived") is not None:
            threads = threads.filter(archived=params["archived"])
        if params.get("search"):
            threads = selectors.thread_search(threads=threads, text=params["search"])
        page = self.paginate_queryset(threads)
        return self.get_paginated_response(ThreadSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(ThreadSerializer(self.get_object()).data)

    @extend_schema(
        summary="Start a thread with an agent", request=ThreadWriteSerializer, responses={201: ThreadSerializer}
    )
    def create(self, request: Request) -> Response:
        serializer = ThreadWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        workspace = self.get_permission_workspace()
        data = serializer.validated_data
        agent = _agent_for_thread(workspace_id=workspace.pk, user=request.user, agent_id=data.get("agent_id"))
        thread = services.thread_create(workspace=workspace, user=request.user, agent=agent, data=data)
        return Response(ThreadSerializer(thread).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Replace a thread", request=ThreadWriteSerializer, responses=ThreadSerializer)
    def update(self, request: Request, pk: str | None = None, partial: bool = False) -> Response:
        thread = self.get_object()
        serializer = ThreadWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "agent_id" in data:
            data["agent"] = _agent_for_thread(
                workspace_id=thread.workspace_id, user=request.user, agent_id=data.pop("agent_id")
            )
        thread = services.thread_update(thread=thread, data=data)
        return Response(ThreadSerializer(thread).data)

    @extend_schema(summary="Update a thread", request=ThreadWriteSerializer, responses=ThreadSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return self.update(request, pk=pk, partial=True)

    @extend_schema(summary="Delete a thread with its messages", responses={204: None})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.thread_delete(thread=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Run the thread's agent",
        description="Adds the user message (when `content` or `attachment_ids` is given), runs the agent "
        "over the thread's history trimmed to the model's context window, and stores the reply with "
        "its tool calls. A failed run still answers 200 with `status: failed`; a second run while one "
        "is in progress is 409 `thread_busy`.",
        request=ThreadRunRequestSerializer,
        responses={200: ThreadRunResultSerializer, (200, "text/event-stream"): SSE_RESPONSE},
    )
    @action(detail=True, methods=["post"])
    def run(self, request: Request, pk: str | None = None) -> Any:
        thread = self.get_object()
        serializer = ThreadRunRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        attachments = selectors.attachments_for_run(
            workspace_id=thread.workspace_id, attachment_ids=data["attachment_ids"]
        )
        turn = services.thread_run_prepare(
            thread=thread, user=request.user, content=data["content"], attachments=attachments
        )
        if wants_stream(request, data["stream"]):
            return stream_thread_response(turn, context={"request": request})
        events = list(services.thread_run_execute(turn=turn))
        return Response(run_result_data(events[-1].data, context={"request": request}))

    @extend_schema(summary="Name the thread from its first messages", request=None, responses=ThreadSerializer)
    @action(detail=True, methods=["post"], url_path="generate-name")
    def generate_name(self, request: Request, pk: str | None = None) -> Response:
        thread = services.thread_generate_name(thread=self.get_object())
        return Response(ThreadSerializer(thread).data)

    @extend_schema(summary="List a thread's messages, oldest first", responses=MessageSerializer(many=True))
    @action(detail=True, methods=["get"])
    def messages(self, request: Request, pk: str | None = None) -> Response:
        page = self.paginate_queryset(selectors.message_list(thread=self.get_object()))
        return self.get_paginated_response(MessageSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        summary="Add a message without running the agent",
        request=MessageCreateSerializer,
        responses={201: MessageSerializer},
    )
    @messages.mapping.post
    def message_create(self, request: Request, pk: str | None = None) -> Response:
        thread = self.get_object()
        serializer = MessageCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        attachments = selectors.attachments_for_run(
            workspace_id=thread.workspace_id, attachment_ids=data["attachment_ids"]
        )
        message = services.message_create(
            thread=thread, user=request.user, role=data["role"], content=data["content"], attachments=attachments
        )
        return Response(MessageSerializer(message, context={"request": request}).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Get a message", parameters=[MESSAGE_ID], responses=MessageSerializer)
    @action(detail=True, methods=["get"], url_path=r"messages/(?P<message_id>[^/.]+)")
    def message(self, request: Request, pk: str | None = None, message_id: str | None = None) -> Response:
        message = selectors.message_get(thread=self.get_object(), message_id=message_id)
        return Response(MessageSerializer(message, context={"request": request}).data)

    @extend_schema(
        summary="Replace a message's content",
        description=EDIT_NOTE,
        parameters=[MESSAGE_ID],
        request=MessageUpdateSerializer,
        responses=MessageSerializer,
    )
    @message.mapping.put
    def message_replace(self, request: Request, pk: str | None = None, message_id: str | None = None) -> Response:
        return self._message_update(request, message_id, partial=False)

    @extend_schema(
        summary="Edit a message or rate a reply",
        description=EDIT_NOTE + " A `rating` (1-5) of an assistant message also rates the run that wrote it.",
        parameters=[MESSAGE_ID],
        request=MessageUpdateSerializer,
        responses=MessageSerializer,
    )
    @message.mapping.patch
    def message_update(self, request: Request, pk: str | None = None, message_id: str | None = None) -> Response:
        return self._message_update(request, message_id, partial=True)

    @extend_schema(summary="Delete a message", description=EDIT_NOTE, parameters=[MESSAGE_ID], responses={204: None})
    @message.mapping.delete
    def message_delete(self, request: Request, pk: str | None = None, message_id: str | None = None) -> Response:
        message = selectors.message_get(thread=self.get_object(), message_id=message_id)
        services.message_delete(message=message)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _message_update(self, request: Request, message_id: str | None, *, partial: bool) -> Response:
        message = selectors.message_get(thread=self.get_object(), message_id=message_id)
        serializer = MessageUpdateSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        if "rating" in serializer.validated_data and message.role != "assistant":
            raise ValidationFailed(errors={"rating": ["Only assistant replies can be rated."]})
        message = services.message_update(message=message, data=serializer.validated_data)
        return Response(MessageSerializer(message, context={"request": request}).data)


@extend_schema(tags=["Attachment"])
class AttachmentViewSet(WorkspaceScopedViewSet):
    """Files uploaded for messages: text the model reads, and images for models with vision."""

    serializer_class = AttachmentSerializer
    queryset = Attachment.objects.none()
    parser_classes = [MultiPartParser, FormParser]
    required_abilities = {
        "create": "threads:write",
        "retrieve": "threads:read",
        "destroy": "threads:delete",
        "download": "threads:read",
    }

    @classproperty
    def max_body_size(cls) -> int:
        # The body-size middleware reads this. The file itself is checked against the setting.
        return int(thread_setting("ATHENA_ATTACHMENT_MAX_BYTES")) + MULTIPART_OVERHEAD_BYTES

    def get_scoped_queryset(self, *, workspace_ids: list[Any]) -> QuerySet:
        return selectors.attachment_list(workspace_ids=workspace_ids)

    @extend_schema(
        summary="Upload an attachment",
        description="Multipart with one `file`. The type is detected from the content; a type outside "
        "the allowed list is 422 `unsupported_file_type`, a file above the size limit 413.",
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer},
    )
    def create(self, request: Request) -> Response:
        serializer = AttachmentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attachment = services.attachment_create(
            workspace=self.get_permission_workspace(), user=request.user, upload=serializer.validated_data["file"]
        )
        return Response(AttachmentSerializer(attachment, context={"request": request}).data, status=201)

    @extend_schema(summary="Get an attachment's metadata and download URL", responses=AttachmentSerializer)
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(AttachmentSerializer(self.get_object(), context={"request": request}).data)

    @extend_schema(summary="Delete an attachment", responses={204: None})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.attachment_delete(attachment=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Download an attachment or one of its variants",
        parameters=[DownloadQuerySerializer],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        attachment = self.get_object()
        query = DownloadQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        name, content_type, filename = attachment.file.name, attachment.content_type, attachment.filename
        variant = query.validated_data.get("variant")
        if variant:
            stored = (attachment.media.variants if attachment.media else {}).get(variant)
            if stored is None:
                raise NotFound("This attachment has no such variant.")
            name, content_type, filename = stored["path"], stored["content_type"], f"{variant}-{filename}.png"
        response = FileResponse(
            attachment.file.storage.open(name, "rb"), as_attachment=True, filename=filename, content_type=content_type
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response
