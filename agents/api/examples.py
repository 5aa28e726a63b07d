"""OpenAPI examples of the agents API."""

from drf_spectacular.utils import OpenApiExample

AGENT_ID = "5b0f3c52-8a7e-4d43-9f6e-0d7f1f2f6c11"
MODEL_ID = "9d7c2a10-1b6e-4f0e-8b7d-3a2c1e4f5a60"
ACCOUNT_ID = "2c4e6a80-3d5f-4b1a-9c8e-7f6d5e4c3b20"

AGENT_BODY = {
    "name": "Support triage",
    "instructions": "You answer customer questions for {{ company }}. Be brief.",
    "model_id": MODEL_ID,
    "account_id": ACCOUNT_ID,
    "temperature": 0.2,
    "tools": [
        {"type": "memory_search"},
        {
            "type": "http",
            "name": "order_status",
            "description": "Look up an order by its number.",
            "method": "GET",
            "url": "https://shop.example.com/api/orders/{order_id}",
            "parameters": {
                "type": "object",
                "properties": {"order_id": {"type": "string"}},
                "required": ["order_id"],
            },
        },
        {
            "type": "mcp",
            "name": "tracker",
            "url": "https://mcp.tracker.example.com/mcp",
            "account_id": "4f1d2e3c-5b6a-4c7d-8e9f-0a1b2c3d4e5f",
            "allowed_tools": ["search_issues", "get_issue"],
        },
    ],
    "limits": {"max_steps": 6, "max_cost": "0.20"},
}

AGENT = OpenApiExample(
    "Agent",
    response_only=True,
    value={
        "id": AGENT_ID,
        "workspace_id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "slug": "support-triage",
        "description": "",
        "avatar": None,
        "top_p": None,
        "max_output_tokens": None,
        "response_format": {},
        "memory_enabled": True,
        "memory_limit": None,
        "visibility": "workspace",
        "created_by": "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b",
        "created_at": "2025-05-01T09:00:00.000000Z",
        "updated_at": "2025-05-01T09:00:00.000000Z",
        **AGENT_BODY,
        "limits": {"max_steps": 6, "max_tokens": 50000, "max_cost": "0.20", "max_seconds": 120.0},
    },
)
AGENT_CREATE = OpenApiExample("Create an agent", request_only=True, value=AGENT_BODY)
AGENT_PATCH = OpenApiExample("Change the instructions", request_only=True, value={"instructions": "Answer in French."})

RUN_REQUEST = OpenApiExample(
    "Run with prior messages",
    request_only=True,
    value={
        "input": "Where is order 1042?",
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello! How can I help?"},
        ],
        "variables": {"company": "Acme"},
    },
)
RUN_RESULT = OpenApiExample(
    "Succeeded run",
    response_only=True,
    value={
        "run_id": "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f",
        "status": "succeeded",
        "output": "Order 1042 shipped yesterday.",
        "steps": [
            {
                "tool": "order_status",
                "arguments": {"order_id": "1042"},
                "result": {"status": 200, "body": {"state": "shipped"}},
                "error": None,
                "duration_ms": 112,
            }
        ],
        "usage": {"input_tokens": 412, "output_tokens": 38},
        "cost": "0.00112800",
        "latency_ms": 1840,
        "finish_reason": "stop",
        "error": None,
    },
)
RUN_FAILED = OpenApiExample(
    "Run stopped by a limit",
    response_only=True,
    value={
        "run_id": "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70",
        "status": "failed",
        "output": "",
        "steps": [],
        "usage": {"input_tokens": 900, "output_tokens": 120},
        "cost": "0.00276000",
        "latency_ms": 5230,
        "finish_reason": "tool_calls",
        "error": {
            "code": "agent_limit_exceeded",
            "message": "The run needed more than 6 model calls.",
            "limit": "max_steps",
        },
    },
)
SHARE_USER = OpenApiExample(
    "Share with a user", request_only=True, value={"user_email": "dana@example.com", "permission": "run"}
)
SHARE_PUBLIC = OpenApiExample("Create a public link", request_only=True, value={"public": True, "permission": "run"})
SHARE = OpenApiExample(
    "Public link",
    response_only=True,
    value={
        "id": "e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a80",
        "target_type": "agent",
        "target_id": AGENT_ID,
        "permission": "run",
        "public": True,
        "user": None,
        "token_prefix": "Xy3k9Q",
        "url": "https://athena.example.com/api/v1/public/agents/Xy3k9Q...rest-of-token/run",
        "created_at": "2025-05-01T09:00:00.000000Z",
    },
)
TRAIN = OpenApiExample(
    "Train with an example and a document",
    request_only=True,
    value={
        "examples": [{"input": "Can I return shoes?", "output": "Yes, within 30 days, unworn."}],
        "documents": [{"title": "Returns policy", "content": "Items can be returned within 30 days..."}],
        "feedback": [{"run_id": "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f", "rating": 2, "correction": "It is 30 days."}],
    },
)
TRAINING_JOB = OpenApiExample(
    "Finished training job",
    response_only=True,
    value={
        "id": "f6a7b8c9-d0e1-4f2a-8b3c-4d5e6f7a8b90",
        "agent_id": AGENT_ID,
        "status": "succeeded",
        "counts": {"examples": 1, "chunks": 3, "corrections": 1, "ratings": 1},
        "errors": [],
        "created_at": "2025-05-01T09:00:00.000000Z",
        "started_at": "2025-05-01T09:00:01.000000Z",
        "finished_at": "2025-05-01T09:00:02.000000Z",
    },
)
GENERATE = OpenApiExample(
    "Generate and save",
    request_only=True,
    value={"description": "An agent that drafts polite replies to refund requests.", "save": True},
)
LEADERBOARD = OpenApiExample(
    "Leaderboard row",
    response_only=True,
    value={
        "agent": {"id": AGENT_ID, "name": "Support triage", "slug": "support-triage"},
        "runs": 120,
        "success_rate": 0.95,
        "average_rating": 4.4,
        "p50_latency_ms": 1800,
        "average_cost": "0.00210000",
        "score": 84.21,
    },
)
RATING = OpenApiExample("Rate a run", request_only=True, value={"rating": 5, "comment": "Exactly right."})
MEMORY_CREATE = OpenApiExample(
    "Remember a fact",
    request_only=True,
    value={"agent_id": AGENT_ID, "kind": "fact", "content": "Refunds take 5 business days.", "importance": 0.8},
)
MEMORY = OpenApiExample(
    "Memory",
    response_only=True,
    value={
        "id": "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
        "workspace_id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "agent_id": AGENT_ID,
        "user_id": None,
        "thread_id": None,
        "kind": "fact",
        "content": "Refunds take 5 business days.",
        "metadata": {},
        "importance": 0.8,
        "source": "manual",
        "has_embedding": False,
        "created_at": "2025-05-01T09:00:00.000000Z",
        "updated_at": "2025-05-01T09:00:00.000000Z",
    },
)
PROMPT_CREATE = OpenApiExample(
    "Create a prompt",
    request_only=True,
    value={
        "name": "Summarize ticket",
        "template": "Summarize this ticket in {{ words }} words:\n{{ ticket }}",
        "variables": [
            {"name": "ticket", "type": "string", "required": True},
            {"name": "words", "type": "integer", "required": False, "default": 50},
        ],
        "model_id": MODEL_ID,
        "account_id": ACCOUNT_ID,
    },
)
PROMPT_RUN = OpenApiExample(
    "Run a prompt", request_only=True, value={"variables": {"ticket": "My parcel arrived damaged."}}
)
PROMPT_RUN_RESULT = OpenApiExample(
    "Prompt result",
    response_only=True,
    value={
        "output": "The customer's parcel arrived damaged.",
        "rendered": "Summarize this ticket in 50 words:\nMy parcel arrived damaged.",
        "version": 2,
        "usage": {"input_tokens": 21, "output_tokens": 9},
        "cost": "0.00011400",
        "latency_ms": 640,
        "finish_reason": "stop",
    },
)
