"""Resolution of the workspace a request acts in when it lists or creates objects.

In order: the `X-Workspace` header (id or slug), else the `?workspace=` query parameter (id or
slug), else the user's current workspace. A workspace that does not exist, is being deleted,
or that the user does not belong to is 404 `workspace_not_found`. The response is the same
in every case, so that other tenants' ids and slugs do not leak.
"""

from typing import Any

from athena_site.api.errors import NotFound
from workspaces.models import Workspace
from workspaces.selectors import WORKSPACE_NOT_FOUND, membership_role_remember, workspace_find_for_user

WORKSPACE_HEADER = "HTTP_X_WORKSPACE"
WORKSPACE_QUERY_PARAMETER = "workspace"
# Longer than any id or slug, so a longer value cannot name a workspace.
MAX_IDENTIFIER_LENGTH = 80
_RESOLVED_ATTRIBUTE = "_resolved_workspace"


class WorkspaceNotFound(NotFound):
    code = WORKSPACE_NOT_FOUND
    message = "Workspace not found, or you are not a member of it."


def workspace_identifier_from_request(request: Any) -> str | None:
    """Return the workspace id or slug the request names, header first, or None."""
    header = request.META.get(WORKSPACE_HEADER, "").strip()
    if header:
        return header
    query = getattr(request, "query_params", request.GET).get(WORKSPACE_QUERY_PARAMETER, "").strip()
    return query or None


def workspace_resolve_for_request(*, request: Any) -> Workspace:
    """Return the workspace the request acts in, resolved once per request.

    Raises WorkspaceNotFound (404 `workspace_not_found`) when the named workspace is not one of
    the caller's, or when nothing names one and the caller has no current workspace.
    """
    cached = getattr(request, _RESOLVED_ATTRIBUTE, None)
    if cached is not None:
        return cached

    user = request.user
    identifier = workspace_identifier_from_request(request)
    if identifier is not None:
        workspace = None
        if len(identifier) <= MAX_IDENTIFIER_LENGTH:
            workspace = workspace_find_for_user(identifier=identifier, user=user)
    elif user.current_workspace_id is not None:
        workspace = workspace_find_for_user(identifier=str(user.current_workspace_id), user=user)
        if workspace is None:
            raise WorkspaceNotFound(
                "Your current workspace is no longer available: pass the X-Workspace header "
                "(workspace id or slug) or the ?workspace= parameter."
            )
    else:
        raise WorkspaceNotFound(
            "No workspace given and you have no current workspace: pass the X-Workspace header "
            "(workspace id or slug) or the ?workspace= parameter."
        )

    if workspace is None:
        raise WorkspaceNotFound()
    setattr(request, _RESOLVED_ATTRIBUTE, workspace)
    membership_role_remember(request=request, workspace=workspace)
    return workspace
