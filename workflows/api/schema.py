"""Adds the public webhook, a plain Django view that drf-spectacular cannot see, to the OpenAPI schema."""

from typing import Any

_METHODS = ("get", "post", "put", "patch", "delete")


def add_public_webhook_path(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Document `/api/v1/hooks/{webhook_token}` for every method."""
    operation = {
        "tags": ["Workflow"],
        "summary": "Trigger a workflow through its public webhook",
        "description": (
            "No authentication. Any content type: JSON and form bodies are parsed, others are passed as text. "
            "With a webhook secret, send `X-Athena-Timestamp` (Unix seconds) and "
            '`X-Athena-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}.{raw body}">` (5-minute window). '
            "`Idempotency-Key` returns the earlier execution for a key seen within 24 hours. Answers 202 with "
            "the execution id, or the `respond_to_webhook` node's status, headers and body when the workflow "
            "answers within the synchronous timeout."
        ),
        "parameters": [
            {"name": "webhook_token", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"}},
            {"name": "X-Athena-Timestamp", "in": "header", "required": False, "schema": {"type": "string"}},
            {"name": "X-Athena-Signature", "in": "header", "required": False, "schema": {"type": "string"}},
        ],
        "requestBody": {"required": False, "content": {"*/*": {"schema": {}}}},
        "security": [],
        "responses": {
            "200": {"description": "The workflow's `respond_to_webhook` answer (any status it sets)."},
            "202": {
                "description": "Accepted: the execution is queued.",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "data": {
                                    "type": "object",
                                    "properties": {
                                        "execution_id": {"type": "string", "format": "uuid"},
                                        "status": {"type": "string"},
                                    },
                                }
                            },
                        }
                    }
                },
            },
            **{
                code: {
                    "description": text,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
                for code, text in (
                    ("401", "The signature is missing, wrong or expired."),
                    ("404", "No active workflow has this token."),
                    ("413", "The body is larger than the limit."),
                    ("429", "The workflow's webhook rate limit was reached; see `Retry-After`."),
                    ("503", "The database is unavailable and nothing was stored; retry after `Retry-After` seconds."),
                )
            },
        },
    }
    paths = result.setdefault("paths", {})
    paths["/api/v1/hooks/{webhook_token}"] = {
        method: {**operation, "operationId": f"workflow_public_webhook_{method}"} for method in _METHODS
    }
    return result
