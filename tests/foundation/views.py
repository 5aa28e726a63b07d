"""Small views that exercise the API conventions without depending on any domain app."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

ITEMS = [{"number": number} for number in range(1, 43)]


class ItemSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=20)
    count = serializers.IntegerField(min_value=0)


class NumberSerializer(serializers.Serializer):
    number = serializers.IntegerField()


class ItemViewSet(viewsets.GenericViewSet):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    serializer_class = ItemSerializer

    def get_queryset(self):
        return ITEMS

    @extend_schema(responses=NumberSerializer(many=True))
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(page)

    def create(self, request):
        serializer = ItemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=NumberSerializer)
    def retrieve(self, request, pk=None):
        if pk != "1":
            raise NotFound()
        return Response(ITEMS[0])

    def destroy(self, request, pk=None):
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=False, methods=["get"])
    def boom(self, request):
        raise RuntimeError("secret internal detail")

    @action(detail=False, methods=["get"])
    def forbidden(self, request):
        raise PermissionDenied()

    @action(detail=False, methods=["get"])
    def throttled(self, request):
        raise Throttled(wait=7)


class EchoView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=ItemSerializer, responses=ItemSerializer)
    def post(self, request):
        return Response({"received": request.data})


class SmallEchoView(EchoView):
    max_body_size = 100


class PrivateView(APIView):
    @extend_schema(responses=NumberSerializer)
    def get(self, request):
        return Response({"ok": True})
