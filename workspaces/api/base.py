"""Base viewsets every workspace-owned resource builds on.

`WorkspaceScopedViewSet` is for resources that live in a workspace (agents, workflows,
command-room tasks...). Lists and creates act in the workspace the request resolves to
(`X-Workspace`, `?workspace=`, current workspace). Retrieve, update, delete and actions on one
object find it in any of the caller's workspaces, or among objects shared with the caller, and
check the caller's role in that object's workspace.

`WorkspaceNestedViewSet` is for resources addressed under `workspaces/{workspace_id}/`, whose
workspace is named by the URL.
"""

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import viewsets
from rest_framework.exceptions import MethodNotAllowed, ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated

from athena_site.api.schema import AthenaAutoSchema
from workspaces.models import Workspace
from workspaces.permissions import WorkspacePermission
from workspaces.resolution import WORKSPACE_QUERY_PARAMETER, workspace_resolve_for_request
from workspaces.selectors import workspace_get_for_user, workspace_ids_for_request

SHARED_QUERY_PARAMETER = "shared"
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}

WORKSPACE_CONTEXT_PARAMETERS = [
    OpenApiParameter(
        "X-Workspace",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description="Workspace id or slug to act in; takes precedence over `?workspace=`.",
    ),
    OpenApiParameter(
        WORKSPACE_QUERY_PARAMETER,
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        description="Workspace id or slug to act in when no `X-Workspace` header is sent; "
        "without either, your current workspace is used.",
    ),
]
SHARED_PARAMETER = OpenApiParameter(
    SHARED_QUERY_PARAMETER,
    OpenApiTypes.BOOL,
    OpenApiParameter.QUERY,
    description="List the objects other workspaces shared with you instead of the workspace's own.",
)


class WorkspaceScopedAutoSchema(AthenaAutoSchema):
    """Document the workspace context parameters on list and create, and `shared` on list."""

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self._is_detail_action():
            return parameters
        parameters.extend(WORKSPACE_CONTEXT_PARAMETERS)
        if getattr(self.view, "action", None) == "list" and self.view.supports_shared:
            parameters.append(SHARED_PARAMETER)
        return parameters

    def _is_detail_action(self) -> bool:
        return bool(getattr(self.view, "detail", False))


class RequiredAbilityMixin:
    """Read the ability an action needs from `required_abilities`, failing closed when unlisted."""

    required_abilities: dict[str, str] = {}

    def get_required_ability(self) -> str:
        action = getattr(self, "action", None)
        if action in (None, "metadata"):
            # DRF leaves `action` unset for a method the router does not map (TRACE, PROPFIND) and
            # names OPTIONS `metadata`. Neither is part of the API, and a client's unusual method
            # must not look like a configuration error.
            raise MethodNotAllowed(self.request.method)
        try:
            return self.required_abilities[action]
        except KeyError:
            raise ImproperlyConfigured(
                f"{type(self).__name__}.required_abilities has no entry for the action '{action}'."
            ) from None


class WorkspaceScopedViewSet(RequiredAbilityMixin, viewsets.GenericViewSet):
    """Scope every read to the caller's workspaces and check roles and token abilities per action.

    Subclasses set `required_abilities` (action -> `<group>:<action>`), implement
    `get_scoped_queryset(workspace_ids=...)` with a scoping selector, and may implement
    `get_shared_queryset()` and `get_share_permission(obj)` for objects shared with the caller.
    """

    permission_classes = [IsAuthenticated, WorkspacePermission]
    schema = WorkspaceScopedAutoSchema()
    # Name of the object attribute that refers to its workspace.
    workspace_field = "workspace"

    def get_scoped_queryset(self, *, workspace_ids: list[Any]) -> QuerySet:
        raise NotImplementedError(f"{type(self).__name__} must implement get_scoped_queryset().")

    def get_shared_queryset(self) -> QuerySet | None:
        """Return the objects shared with the caller from any workspace, or None when nothing is shareable."""
        return None

    def get_share_permission(self, obj: Model) -> str | None:
        """Return the caller's share permission (`view`, `run` or `edit`) on `obj`, or None."""
        return None

    def get_ability_object_id(self, obj: Model) -> Any:
        """Return the id that an object-limited ability (`<group>:<action>:<id>`) must name to act on `obj`."""
        return obj.pk

    @property
    def supports_shared(self) -> bool:
        return type(self).get_shared_queryset is not WorkspaceScopedViewSet.get_shared_queryset

    def is_shared_list(self) -> bool:
        # Only the list reads `?shared=`. A create or another collection action acts in the
        # resolved workspace, whatever the query string contains.
        if getattr(self, "detail", False) or getattr(self, "action", None) != "list":
            return False
        raw = self.request.query_params.get(SHARED_QUERY_PARAMETER, "").strip().lower()
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        raise ValidationError({SHARED_QUERY_PARAMETER: ["Use true or false."]})

    def get_permission_workspace(self) -> Workspace | None:
        """Return the workspace that list, create and other collection actions act in.

        None for actions on one object (checked against the object's workspace) and for the
        list of shared objects, which belong to other workspaces.
        """
        if getattr(self, "detail", False) or self.is_shared_list():
            return None
        return workspace_resolve_for_request(request=self.request)

    def get_object_workspace(self, obj: Model) -> Workspace:
        return getattr(obj, self.workspace_field)

    def get_object(self) -> Model:
        """Find the object in the caller's workspaces, then among the objects shared with them.

        Two plain lookups instead of one over the union: the common case, an object of one of
        the caller's workspaces, needs one query, which also loads its workspace.
        """
        lookup = {self.lookup_field: self.kwargs[self.lookup_url_kwarg or self.lookup_field]}
        scoped = self.get_scoped_queryset(workspace_ids=workspace_ids_for_request(request=self.request))
        try:
            obj = get_object_or_404(self.filter_queryset(scoped.select_related(self.workspace_field)), **lookup)
        except Http404:
            shared = self.get_shared_queryset()
            if shared is None:
                raise
            obj = get_object_or_404(self.filter_queryset(shared), **lookup)
        self.check_object_permissions(self.request, obj)
        return obj

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset.none()

        if getattr(self, "detail", False):
            queryset = self.get_scoped_queryset(workspace_ids=workspace_ids_for_request(request=self.request))
            shared = self.get_shared_queryset()
            return queryset if shared is None else (queryset | shared).distinct()

        if self.is_shared_list():
            shared = self.get_shared_queryset()
            return shared if shared is not None else self.get_scoped_queryset(workspace_ids=[])

        return self.get_scoped_queryset(workspace_ids=[self.get_permission_workspace().pk])


class WorkspaceNestedViewSet(RequiredAbilityMixin, viewsets.GenericViewSet):
    """A resource under `workspaces/{workspace_id}/`: the URL names the workspace for every action.

    A workspace the caller does not belong to is 404 `not_found`, like any object they may not see.
    """

    permission_classes = [IsAuthenticated, WorkspacePermission]
    workspace_url_kwarg = "workspace_id"

    def get_permission_workspace(self) -> Workspace:
        if not hasattr(self, "_workspace"):
            self._workspace = workspace_get_for_user(
                workspace_id=self.kwargs[self.workspace_url_kwarg], user=self.request.user
            )
        return self._workspace

    def get_object_workspace(self, obj: Model) -> Workspace:
        return self.get_permission_workspace()
