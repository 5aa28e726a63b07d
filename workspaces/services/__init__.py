"""Writes of the workspaces app: every create, update and delete goes through a function here.

The functions live in one module per subdomain and are re-exported here, so callers import
them from `workspaces.services`.
"""

from workspaces.services.command_room import command_room_task_remove, command_room_task_store
from workspaces.services.members import (
    invitation_accept,
    invitation_accept_pending,
    invitation_create,
    member_add,
    membership_remove,
    membership_set_role,
)
from workspaces.services.multiplai import (
    MULTIPLAI_ROLE_MAP,
    multiplai_role_to_workspace_role,
    workspace_sync_multiplai_organizations,
)
from workspaces.services.variables import variable_create, variable_delete, variable_update
from workspaces.services.workspaces import (
    workspace_create,
    workspace_create_personal,
    workspace_delete_data,
    workspace_request_deletion,
    workspace_set_current,
    workspace_slug_generate,
    workspace_transfer_ownership,
    workspace_update,
)

__all__ = [
    "MULTIPLAI_ROLE_MAP",
    "command_room_task_remove",
    "command_room_task_store",
    "invitation_accept",
    "invitation_accept_pending",
    "invitation_create",
    "member_add",
    "membership_remove",
    "membership_set_role",
    "multiplai_role_to_workspace_role",
    "variable_create",
    "variable_delete",
    "variable_update",
    "workspace_create",
    "workspace_create_personal",
    "workspace_delete_data",
    "workspace_request_deletion",
    "workspace_set_current",
    "workspace_slug_generate",
    "workspace_sync_multiplai_organizations",
    "workspace_transfer_ownership",
    "workspace_update",
]
