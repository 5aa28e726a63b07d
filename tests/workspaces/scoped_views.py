"""A stand-in domain viewset built on WorkspaceScopedViewSet, with sharing, for the base-class tests.

Command-room tasks play the shared objects: a task whose title is `shared:<email>` is shared
with that user, with the permission written in its note (`view`, `run` or `edit`).
"""

from django.urls import include, path
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from athena_site.api.routers import ApiRouter
from workspaces.api.base import WorkspaceScopedViewSet
from workspaces.api.serializers import CommandRoomTaskSerializer
from workspaces.models import CommandRoomTask


class SharedThingViewSet(WorkspaceScopedViewSet):
    serializer_class = CommandRoomTaskSerializer
    queryset = CommandRoomTask.objects.none()
    required_abilities = {
        "list": "agents:read",
        "retrieve": "agents:read",
        "partial_update": "agents:write",
        "destroy": "agents:delete",
        "run": "agents:run",
    }

    def get_scoped_queryset(self, *, workspace_ids):
        return CommandRoomTask.objects.filter(workspace_id__in=workspace_ids)

    def get_shared_queryset(self):
        return CommandRoomTask.objects.filter(title=f"shared:{self.request.user.email}")

    def get_share_permission(self, obj):
        return obj.note if obj.title == f"shared:{self.request.user.email}" else None

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(CommandRoomTaskSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(CommandRoomTaskSerializer(self.get_object()).data)

    def partial_update(self, request, pk=None):
        task = self.get_object()
        return Response(CommandRoomTaskSerializer(task).data)

    def destroy(self, request, pk=None):
        self.get_object()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        self.get_object()
        return Response({"ran": True})


router = ApiRouter()
router.register("things", SharedThingViewSet, basename="thing")

urlpatterns = [path("api/v1/", include(router.urls)), path("", include("athena_site.urls"))]
