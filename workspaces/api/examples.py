"""OpenAPI examples of the workspaces API."""

from drf_spectacular.utils import OpenApiExample

WORKSPACE_ID = "3f0b6a52-8f3e-4c43-9a51-0f2f7b9c1d11"
USER_ID = "9b2d3c4e-5f60-4a71-8b92-a3b4c5d6e7f8"

WORKSPACE = OpenApiExample(
    "Workspace",
    value={
        "id": WORKSPACE_ID,
        "name": "Support team",
        "slug": "support-team",
        "description": "Agents and workflows of the support team.",
        "timezone": "Europe/Paris",
        "settings": {},
        "role": "owner",
        "is_personal": False,
        "external_id": None,
        "owner_id": USER_ID,
        "created_at": "2025-01-31T09:30:00.000000Z",
        "updated_at": "2025-01-31T09:30:00.000000Z",
    },
    response_only=True,
)
WORKSPACE_CREATE = OpenApiExample(
    "Create a workspace",
    value={"name": "Support team", "timezone": "Europe/Paris"},
    request_only=True,
)
WORKSPACE_UPDATE = OpenApiExample(
    "Rename a workspace",
    value={"name": "Customer support"},
    request_only=True,
)
WORKSPACE_METRICS = OpenApiExample(
    "Workspace metrics",
    value=[
        {
            "workspace": {"id": WORKSPACE_ID, "name": "Support team", "slug": "support-team"},
            "metrics": {"members": 4},
        }
    ],
    response_only=True,
)
TRANSFER_OWNERSHIP = OpenApiExample("Transfer ownership", value={"user_id": USER_ID}, request_only=True)
MEMBER = OpenApiExample(
    "Member",
    value={
        "user_id": USER_ID,
        "email": "ada@example.com",
        "name": "Ada",
        "role": "editor",
        "status": "active",
        "created_at": "2025-01-31T09:30:00.000000Z",
        "expires_at": None,
    },
    response_only=True,
)
MEMBER_INVITED = OpenApiExample(
    "Invited address",
    value={
        "user_id": None,
        "email": "grace@example.com",
        "name": "",
        "role": "viewer",
        "status": "invited",
        "created_at": "2025-01-31T09:30:00.000000Z",
        "expires_at": "2025-02-07T09:30:00.000000Z",
    },
    response_only=True,
)
MEMBER_CREATE = OpenApiExample("Add a member", value={"email": "ada@example.com", "role": "editor"}, request_only=True)
MEMBER_UPDATE = OpenApiExample("Change a role", value={"role": "admin"}, request_only=True)
VARIABLE = OpenApiExample(
    "Secret variable",
    value={
        "id": "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5",
        "key": "CRM_API_KEY",
        "value": None,
        "secret": True,
        "description": "Key of the CRM used by the ticket workflow.",
        "created_by": USER_ID,
        "created_at": "2025-01-31T09:30:00.000000Z",
        "updated_at": "2025-01-31T09:30:00.000000Z",
    },
    response_only=True,
)
VARIABLE_CREATE = OpenApiExample(
    "Create a secret",
    value={"key": "CRM_API_KEY", "value": "sk-live-example", "secret": True, "description": "CRM key."},
    request_only=True,
)
VARIABLE_UPDATE = OpenApiExample("Replace a value", value={"value": "sk-live-rotated"}, request_only=True)
COMMAND_ROOM_TASK = OpenApiExample(
    "Command room task",
    value={
        "id": "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
        "workspace_id": WORKSPACE_ID,
        "kind": "workflow",
        "reference_id": "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
        "title": "Nightly ticket triage",
        "note": "Watch the error rate after the prompt change.",
        "position": 0,
        "status": "in_progress",
        "created_by": USER_ID,
        "created_at": "2025-01-31T09:30:00.000000Z",
        "updated_at": "2025-01-31T09:30:00.000000Z",
    },
    response_only=True,
)
COMMAND_ROOM_TASK_STORE = OpenApiExample(
    "Pin a workflow",
    value={
        "kind": "workflow",
        "reference_id": "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
        "title": "Nightly ticket triage",
        "status": "in_progress",
    },
    request_only=True,
)
