"""OpenAPI examples of workflow sharing, versions, export, import and the public run link."""

from drf_spectacular.utils import OpenApiExample

WORKFLOW_ID = "7e1d2c3b-4a59-4f68-8e7d-6c5b4a392817"
SHARE_ID = "3f2e1d0c-9b8a-4765-a4f3-e2d1c0b9a876"

SHARE_USER = OpenApiExample(
    "Share with a user", request_only=True, value={"user_email": "dana@example.com", "permission": "run"}
)
SHARE_PUBLIC = OpenApiExample(
    "Create a public run link", request_only=True, value={"public": True, "permission": "run"}
)
SHARE = OpenApiExample(
    "Public link",
    response_only=True,
    value={
        "id": SHARE_ID,
        "target_type": "workflow",
        "target_id": WORKFLOW_ID,
        "permission": "run",
        "public": True,
        "user": None,
        "token_prefix": "q7Xc2L",
        "url": "https://athena.example.com/api/v1/public/workflows/q7Xc2L...rest-of-the-token/run",
        "created_at": "2026-03-02T09:15:00Z",
    },
)
DIFF = OpenApiExample(
    "Version 1 to 2",
    response_only=True,
    value={
        "from_version": 1,
        "to_version": 2,
        "nodes": {
            "added": [
                {
                    "id": "notify",
                    "type": "http_request",
                    "name": "Notify",
                    "position": {"x": 600, "y": 0},
                    "parameters": {"method": "POST", "url": "https://hooks.example.com/notify"},
                    "disabled": False,
                    "notes": "",
                    "retry": None,
                    "timeout_seconds": None,
                    "on_error": "stop",
                    "sample_output": None,
                }
            ],
            "removed": [],
            "changed": [
                {
                    "id": "greet",
                    "name": "Greet",
                    "fields": {},
                    "parameters": {"values": {"from": {"text": "Hi"}, "to": {"text": "Hello {{ input.name }}"}}},
                }
            ],
        },
        "edges": {
            "added": [
                {"id": "e2", "source": "greet", "target": "notify", "source_handle": "main", "target_handle": "main"}
            ],
            "removed": [],
        },
        "variables": {"added": [], "removed": [], "changed": []},
    },
)
EXPORT = OpenApiExample(
    "Export",
    response_only=True,
    value={
        "format": "athena.workflow",
        "format_version": 1,
        "exported_at": "2026-03-02T09:15:00Z",
        "workflow": {
            "name": "Order alerts",
            "description": "",
            "active": True,
            "webhook_rate_limit": 60,
            "version": 3,
            "nodes": [
                {"id": "start", "type": "trigger.webhook", "name": "Order placed", "parameters": {}},
                {
                    "id": "post",
                    "type": "http_request",
                    "name": "Post to CRM",
                    "parameters": {
                        "method": "POST",
                        "url": "https://crm.example.com/orders",
                        "account": "ref:account_1",
                    },
                },
            ],
            "edges": [
                {"id": "e1", "source": "start", "target": "post", "source_handle": "main", "target_handle": "main"}
            ],
            "variables": {"region": "eu"},
            "settings": {
                "timeout_seconds": None,
                "max_concurrency": 0,
                "save_execution_data": "all",
                "error_workflow": None,
            },
        },
        "references": {
            "accounts": [{"ref": "ref:account_1", "provider": "crm", "name": "CRM production"}],
            "models": [],
            "prompts": [],
            "agents": [],
            "workflows": [],
        },
    },
)
IMPORT_N8N = OpenApiExample(
    "n8n workflow",
    request_only=True,
    value={
        "name": "Greeter",
        "nodes": [
            {
                "parameters": {"httpMethod": "POST", "path": "greet", "responseMode": "responseNode"},
                "name": "Webhook",
                "type": "n8n-nodes-base.webhook",
                "typeVersion": 2,
                "position": [0, 0],
            },
            {
                "parameters": {"respondWith": "json", "responseBody": '={ "hello": "{{ $json.body.name }}" }'},
                "name": "Respond to Webhook",
                "type": "n8n-nodes-base.respondToWebhook",
                "typeVersion": 1.1,
                "position": [220, 0],
            },
        ],
        "connections": {"Webhook": {"main": [[{"node": "Respond to Webhook", "type": "main", "index": 0}]]}},
    },
)
IMPORT_RESULT = OpenApiExample(
    "Import report",
    response_only=True,
    value={
        "workflow": {"id": WORKFLOW_ID, "name": "Greeter", "version": 1},
        "report": {
            "source": "n8n",
            "summary": {"mapped": 1, "approximated": 1, "unsupported": 0, "skipped": 0},
            "nodes": [
                {
                    "name": "Webhook",
                    "node_id": "webhook",
                    "n8n_type": "n8n-nodes-base.webhook",
                    "type": "trigger.webhook",
                    "status": "mapped",
                    "runs_once_instead_of_per_item": False,
                    "notes": ["Athena's webhook has its own URL (`webhook_url`) and accepts every method."],
                },
                {
                    "name": "Respond to Webhook",
                    "node_id": "respond_to_webhook",
                    "n8n_type": "n8n-nodes-base.respondToWebhook",
                    "type": "respond_to_webhook",
                    "status": "mapped",
                    "runs_once_instead_of_per_item": False,
                    "notes": [],
                },
            ],
            "references": {
                "accounts": {"matched": [], "unmatched": []},
                "models": {"matched": [], "unmatched": []},
                "prompts": {"matched": [], "unmatched": []},
                "agents": {"matched": [], "unmatched": []},
                "workflows": {"matched": [], "unmatched": []},
            },
            "warnings": [],
        },
    },
)
PUBLIC_RUN = OpenApiExample("Run input", request_only=True, value={"input": {"email": "dana@example.com"}})
PUBLIC_RUN_RESULT = OpenApiExample(
    "Finished run",
    response_only=True,
    value={
        "execution_id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
        "status": "succeeded",
        "output": {"greeting": "Hello Dana"},
        "error": None,
    },
)
