"""Workspace roles, the abilities each grants, and the checks every workspace API view applies.

A role grants a set of `<group>:<action>` abilities drawn from `ABILITY_GROUPS`. A request is
allowed when the caller's role in the object's workspace grants the ability and the
credentials used for the request (`request.auth.abilities`) grant it too.

Features without an ability group of their own use the `workspaces` and `members` groups.
`workspaces:write` covers workspace settings, variables, secrets and the command room.
`workspaces:delete` covers deleting the workspace and transferring its ownership.
`members:*` covers members, invitations and service accounts.
"""

from typing import Any

from rest_framework.permissions import BasePermission

from athena_site.api.abilities import ABILITY_GROUPS, ability_allows
from athena_site.api.auth import request_abilities
from athena_site.api.errors import Forbidden
from workspaces.models import Role

# Groups whose objects live in a workspace and which editors create, edit, run and delete.
CONTENT_GROUPS = ("agents", "prompts", "memories", "threads", "workflows", "executions", "providers", "accounts")
# Groups managed by admins. `tokens` is absent on purpose: tokens belong to a user, not a workspace.
ADMIN_GROUPS = ("workspaces", "members")


def _abilities(groups: tuple[str, ...], actions: tuple[str, ...]) -> set[str]:
    return {f"{group}:{action}" for group in groups for action in ABILITY_GROUPS[group] if action in actions}


_VIEWER = frozenset(_abilities(CONTENT_GROUPS + ADMIN_GROUPS, ("read",)))
_EDITOR = _VIEWER | _abilities(CONTENT_GROUPS, ("write", "run", "delete"))
_ADMIN = _EDITOR | {"workspaces:write"} | _abilities(("members",), ("write", "delete"))
_OWNER = _ADMIN | {"workspaces:delete"}

ROLE_ABILITIES: dict[str, frozenset[str]] = {
    Role.VIEWER: frozenset(_VIEWER),
    Role.EDITOR: frozenset(_EDITOR),
    Role.ADMIN: frozenset(_ADMIN),
    Role.OWNER: frozenset(_OWNER),
}

# Roles from least to most powerful, for rules such as "an admin may not grant owner".
ROLE_ORDER: tuple[str, ...] = (Role.VIEWER, Role.EDITOR, Role.ADMIN, Role.OWNER)

# Share permission -> the actions it grants on the shared object. No share grants `delete`,
# and no share grants re-sharing, which is an action of its own.
SHARE_ACTIONS: dict[str, frozenset[str]] = {
    "view": frozenset({"read"}),
    "run": frozenset({"read", "run"}),
    "edit": frozenset({"read", "run", "write"}),
}


def role_allows(role: str | None, required: str) -> bool:
    """Tell whether `role` grants the `<group>:<action>` ability `required`."""
    if role is None:
        return False
    return required in ROLE_ABILITIES.get(role, frozenset())


def share_allows(permission: str | None, required: str) -> bool:
    """Tell whether a share with `permission` (`view`, `run` or `edit`) grants `required`."""
    if permission is None:
        return False
    _, _, action = required.partition(":")
    return action in SHARE_ACTIONS.get(permission, frozenset())


def check_ability(*, request: Any, required: str, object_id: object = None) -> None:
    """Raise 403 `insufficient_ability` unless the request's credentials grant `required`."""
    if not ability_allows(request_abilities(request), required, object_id=object_id):
        raise Forbidden(
            f"The credentials used for this request lack the '{required}' ability.", code="insufficient_ability"
        )


def check_permission(
    *,
    request: Any,
    workspace: Any,
    required: str,
    object_id: object = None,
    share_permission: str | None = None,
) -> None:
    """Raise 403 unless the caller's role in `workspace` and the request's credentials grant `required`.

    The role is read from the caller's memberships once per request. `share_permission` is the
    permission of a share of the object with the caller, if any, and counts like a role.
    Raises `forbidden` when neither role nor share allows it, then `insufficient_ability`
    when the credentials do not.
    """
    from workspaces.selectors import membership_role_for_request

    role = membership_role_for_request(request=request, workspace_id=workspace.pk)
    if not (role_allows(role, required) or share_allows(share_permission, required)):
        raise Forbidden(f"Your role in this workspace does not allow '{required}'.", code="forbidden")

    check_ability(request=request, required=required, object_id=object_id)


class WorkspacePermission(BasePermission):
    """Apply the view's per-action ability to the workspace the request or the object belongs to.

    The view provides `get_required_ability()`, `get_permission_workspace()` (the workspace
    that actions without an object act in, or None when that is decided per object) and
    `get_object_workspace(obj)`. Views may add `get_share_permission(obj)`.
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False

        required = view.get_required_ability()
        workspace = view.get_permission_workspace()
        if workspace is not None:
            check_permission(request=request, workspace=workspace, required=required)
        elif not getattr(view, "detail", False):
            check_ability(request=request, required=required)
        return True

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        if view.get_permission_workspace() is not None:
            # Already checked against the workspace in has_permission.
            return True

        from workspaces.selectors import membership_role_for_request

        workspace = view.get_object_workspace(obj)
        required = view.get_required_ability()
        share_getter = getattr(view, "get_share_permission", None)
        share_permission = None
        # A share only matters when the caller's role does not already allow the action.
        if share_getter and not role_allows(
            membership_role_for_request(request=request, workspace_id=workspace.pk), required
        ):
            share_permission = share_getter(obj)
        ability_object_id = getattr(view, "get_ability_object_id", None)
        check_permission(
            request=request,
            workspace=workspace,
            required=required,
            object_id=ability_object_id(obj) if ability_object_id else obj.pk,
            share_permission=share_permission,
        )
        return True
