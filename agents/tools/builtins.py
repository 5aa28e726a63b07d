"""Built-in tool types: `memory_search`, `memory_save` and `http`."""

from __future__ import annotations

import json
import logging
import re
import string
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from agents.conf import agent_setting
from agents.errors import ToolError
from agents.tools.registry import TOOL_NAME_PATTERN, BoundTool, ToolContext, register_tool_type
from providers.redaction import redact_values

logger = logging.getLogger(__name__)

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_MEMORY_KINDS_SAVED_BY_AGENTS = ["fact", "preference", "summary"]
_PLACEHOLDER = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")


# --- memory ---------------------------------------------------------------------------


def _memory_search_build(config: dict[str, Any], context: ToolContext) -> list[BoundTool]:
    from agents.selectors import memory_retrieve

    def search(arguments: dict[str, Any]) -> Any:
        memories = memory_retrieve(
            workspace_id=context.workspace_id,
            agent_id=context.agent.pk,
            query=arguments["query"],
            limit=arguments.get("limit", 5),
        )
        return [{"id": str(memory.pk), "kind": memory.kind, "content": memory.content} for memory in memories]

    parameters = {
        "type": "object",
        "properties": {
            "query": {"type": "string", "minLength": 1, "maxLength": 1000, "description": "What to look for."},
            "limit": {"type": "integer", "minimum": 1, "maximum": 20, "description": "How many memories to return."},
        },
        "required": ["query"],
        "additionalProperties": False,
    }
    description = "Search the agent's memories (facts, preferences, documents) by relevance to a query."
    return [BoundTool("memory_search", description, parameters, search)]


def _memory_save_build(config: dict[str, Any], context: ToolContext) -> list[BoundTool]:
    from agents.services import memory_create

    def save(arguments: dict[str, Any]) -> Any:
        memory = memory_create(
            workspace_id=context.workspace_id,
            data={
                "agent": context.agent,
                "user": context.user,
                "kind": arguments.get("kind", "fact"),
                "content": arguments["content"],
                "source": "agent",
                "metadata": {"run_id": str(context.run_id)} if context.run_id else {},
            },
        )
        return {"id": str(memory.pk), "saved": True}

    parameters = {
        "type": "object",
        "properties": {
            "content": {"type": "string", "minLength": 1, "maxLength": 5000, "description": "The fact to remember."},
            "kind": {"type": "string", "enum": _MEMORY_KINDS_SAVED_BY_AGENTS},
        },
        "required": ["content"],
        "additionalProperties": False,
    }
    description = "Save a fact, preference or summary so that later runs of this agent can retrieve it."
    return [BoundTool("memory_save", description, parameters, save)]


# --- HTTP -------------------------------------------------------------------------------


def validate_http_config(config: dict[str, Any], workspace_id: Any) -> dict[str, Any]:
    """Check an HTTP tool entry and return it normalised; raises ValueError naming the bad key."""
    from providers.selectors import account_get

    name = config.get("name")
    if not isinstance(name, str) or not TOOL_NAME_PATTERN.match(name):
        raise ValueError("name: use 1 to 64 letters, digits, underscores or hyphens.")
    method = str(config.get("method", "GET")).upper()
    if method not in HTTP_METHODS:
        raise ValueError(f"method: use one of {', '.join(HTTP_METHODS)}.")
    url = config.get("url")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise ValueError("url: use an absolute http or https URL; {name} placeholders take arguments.")
    try:
        fields = [item[1] for item in string.Formatter().parse(url) if item[1] is not None]
    except ValueError:
        raise ValueError("url: the {placeholders} are not balanced.") from None
    if any(not _PLACEHOLDER.fullmatch("{" + field + "}") for field in fields):
        raise ValueError("url: placeholders must be plain names such as {order_id}.")
    parameters = config.get("parameters") or {"type": "object", "properties": {}}
    if not isinstance(parameters, dict) or parameters.get("type") != "object":
        raise ValueError("parameters: use a JSON schema of type object.")
    try:
        Draft202012Validator.check_schema(parameters)
    except SchemaError as exc:
        raise ValueError(f"parameters: not a valid JSON schema ({exc.message}).") from None
    headers = config.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ValueError("headers: use an object of header names and string values.")
    account_id = config.get("account_id")
    if account_id is not None and account_get(account_id=account_id, workspace_ids=[workspace_id]) is None:
        raise ValueError("account_id: no such account in this workspace.")
    return {
        "type": "http",
        "name": name,
        "description": str(config.get("description", ""))[:1000],
        "method": method,
        "url": url,
        "parameters": parameters,
        "headers": headers,
        "account_id": str(account_id) if account_id else None,
    }


def _http_session(config: dict[str, Any], context: ToolContext, timeout: float) -> tuple[requests.Session, list[str]]:
    """Return the session of the tool's account, or a guarded one, and the account's secret values."""
    from athena_site.http import guarded_session
    from providers.authentication import secret_values
    from providers.http import account_session
    from providers.selectors import account_get

    if not config.get("account_id"):
        return guarded_session(timeout=timeout), []
    account = account_get(account_id=config["account_id"], workspace_ids=[context.workspace_id])
    if account is None:
        raise ToolError("The tool's account no longer exists.")
    secrets = secret_values(account.credentials.reveal() if account.credentials else None)
    return account_session(account=account, timeout=timeout, max_retries=1), secrets


def http_request(config: dict[str, Any], arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
    """Send the HTTP tool's request with the model's arguments and return `{status, body}`.

    Arguments named in the URL fill its placeholders; the rest go in the query string of GET and
    DELETE requests and in the JSON body of the others. Raises ToolError on a transport failure.
    """
    from athena_site.http import OutboundRequestBlocked

    path_names = set(_PLACEHOLDER.findall(config["url"]))
    missing = sorted(name for name in path_names if name not in arguments)
    if missing:
        raise ToolError(f"Missing arguments for the URL: {', '.join(missing)}.")
    url = _PLACEHOLDER.sub(lambda match: quote(str(arguments[match.group(1)]), safe=""), config["url"])
    rest = {key: value for key, value in arguments.items() if key not in path_names}
    method = config["method"]
    timeout = float(agent_setting("ATHENA_AGENT_HTTP_TOOL_TIMEOUT_SECONDS"))
    options: dict[str, Any] = {"headers": dict(config.get("headers") or {}), "timeout": timeout}
    if method in ("GET", "DELETE"):
        options["params"] = {key: _query_value(value) for key, value in rest.items()}
    else:
        options["json"] = rest

    session, account_secrets = _http_session(config, context, timeout)
    try:
        with session:
            response = session.request(method, url, **options)
    except OutboundRequestBlocked as exc:
        raise ToolError(f"The request was blocked: {exc}") from None
    except requests.RequestException as exc:
        logger.warning(
            "HTTP tool request failed", extra={"agent_id": str(context.agent.pk), "error": type(exc).__name__}
        )
        raise ToolError(f"The request failed: {type(exc).__name__}.") from None

    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    # The result goes to the model and into the run's stored steps, so a key the server echoes
    # (one placed in the query string comes back in URLs) is replaced first.
    return {"status": response.status_code, "body": redact_values(body, account_secrets)}


def _query_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _http_build(config: dict[str, Any], context: ToolContext) -> list[BoundTool]:
    description = config.get("description") or f"{config['method']} {config['url']}"
    return [
        BoundTool(
            config["name"],
            description,
            config["parameters"],
            lambda arguments: http_request(config, arguments, context),
        )
    ]


def register_builtin_tool_types() -> None:
    register_tool_type(
        "memory_search", build=_memory_search_build, description="Search the agent's memories by relevance."
    )
    register_tool_type("memory_save", build=_memory_save_build, description="Save a memory for later runs.")
    register_tool_type(
        "http",
        build=_http_build,
        validate=validate_http_config,
        description="Call an HTTP API, optionally with an account's credentials.",
    )
