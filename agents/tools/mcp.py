"""The `mcp` tool type: the tools of a Model Context Protocol server reached over streamable HTTP.

An entry `{"type": "mcp", "name": "<prefix>", "url": "<endpoint>", "account_id": <uuid or null>,
"allowed_tools": [...]}` gives the model the server's tools, named `<prefix>_<tool>`. Each run lists
the tools once, when the run starts, and every call opens its own connection. Both go through the
official `mcp` SDK on an httpx2 client over the guarded async transport, so the outbound guard
rejects internal addresses before a connection is made. The account's credentials travel in
headers only.

A server that cannot be listed, a call that times out and an error the server returns all reach
the model as an error message and do not fail the run.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio
import httpx2
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, Implementation

from agents.conf import agent_setting
from agents.errors import ToolError
from agents.tools.registry import TOOL_NAME_PATTERN, BoundTool, ToolContext, register_tool_type

logger = logging.getLogger(__name__)

MAX_URL_LENGTH = 2000
MAX_ALLOWED_TOOLS = 100
MAX_SERVER_TOOL_NAME_LENGTH = 128
# OpenAI and Anthropic accept function names of at most 64 characters.
MAX_MODEL_TOOL_NAME_LENGTH = 64
# Tools given to the model from one server; a larger listing is cut, so that one server cannot
# fill the model's context with tool definitions.
MAX_TOOLS_PER_SERVER = 64
# Pages of tools/list read from one server; a cursor that never ends stops here.
MAX_LIST_PAGES = 10
MAX_DESCRIPTION_CHARS = 1000
MAX_ERROR_CHARS = 500

_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9_-]")
_CLIENT_INFO = Implementation(name="athena", version="1")

T = TypeVar("T")


@dataclass(frozen=True)
class _Endpoint:
    """The URL and headers of one connection, with the secret values to keep out of error text."""

    url: str
    headers: dict[str, str]
    secrets: tuple[str, ...]


# --- validation on save ---------------------------------------------------------------------


def validate_mcp_config(config: dict[str, Any], workspace_id: Any) -> dict[str, Any]:
    """Check an MCP tool entry and return it normalised; raises ValueError naming the bad key.

    The URL must be an absolute http or https URL without user information (credentials belong
    in an account). The account, when given, must belong to the workspace and send its
    credential in a header. Whether the address is allowed is checked when
    a run connects, because its DNS answer can change after saving.
    """
    from providers.selectors import account_get

    name = config.get("name")
    if not isinstance(name, str) or not TOOL_NAME_PATTERN.match(name):
        raise ValueError("name: use 1 to 64 letters, digits, underscores or hyphens; it prefixes the tool names.")
    url = _validated_url(config.get("url"))
    allowed_tools = _validated_allowed_tools(config.get("allowed_tools"))

    account_id = config.get("account_id")
    if account_id is not None:
        account = account_get(account_id=account_id, workspace_ids=[workspace_id])
        if account is None:
            raise ValueError("account_id: no such account in this workspace.")
        problem = _unsupported_placement(account)
        if problem:
            raise ValueError(f"account_id: {problem}")

    return {
        "type": "mcp",
        "name": name,
        "url": url,
        "account_id": str(account_id) if account_id else None,
        "allowed_tools": allowed_tools,
    }


def _unsupported_placement(account: Any) -> str | None:
    """Return why the account's credential cannot reach an MCP server, or None when it can.

    A credential in the body cannot be sent because the SDK writes the body. One in the query
    string is rejected too, because the SDK and httpx2 log request URLs.
    """
    placement = (account.provider.authentication_config or {}).get("placement", "header")
    if placement == "header":
        return None
    location = "request body" if placement == "body" else "query string"
    return (
        f"the account's provider places its credential in the {location}, which MCP tools do not support. "
        "Use a provider that sends it in a header."
    )


def _validated_url(url: Any) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ValueError("url: use the absolute http or https URL of the MCP server's streamable HTTP endpoint.")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"url: use at most {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (reading the port raises ValueError for a port out of range)
    except ValueError:
        raise ValueError("url: the URL is invalid.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("url: use the absolute http or https URL of the MCP server's streamable HTTP endpoint.")
    if parts.username is not None or parts.password is not None:
        raise ValueError("url: remove the user name and password from the URL; put credentials in an account.")
    if parts.fragment:
        raise ValueError("url: remove the #fragment from the URL.")
    return url


def _validated_allowed_tools(value: Any) -> list[str]:
    """Return the allowed tool names; an empty list allows every tool the server lists."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("allowed_tools: use a list of the server's tool names, or leave it out to allow every tool.")
    if len(value) > MAX_ALLOWED_TOOLS:
        raise ValueError(f"allowed_tools: list at most {MAX_ALLOWED_TOOLS} tools.")
    names: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip() or len(item) > MAX_SERVER_TOOL_NAME_LENGTH:
            raise ValueError(
                f"allowed_tools: each entry must be a tool name of 1 to {MAX_SERVER_TOOL_NAME_LENGTH} characters."
            )
        if item.strip() not in names:
            names.append(item.strip())
    return names


# --- connections ----------------------------------------------------------------------------


def _timeout_seconds() -> float:
    return float(agent_setting("ATHENA_AGENT_MCP_TIMEOUT_SECONDS"))


def _endpoint(config: dict[str, Any], context: ToolContext) -> _Endpoint:
    """Return the URL and headers of a connection, with the account's credentials applied.

    Raises ToolError when the account is gone or its credentials cannot be used.
    """
    from providers.authentication import secret_values
    from providers.errors import AccountNeedsReconnect, OAuthRefreshFailed
    from providers.http import account_request_credentials
    from providers.selectors import account_get

    if not config.get("account_id"):
        return _Endpoint(url=config["url"], headers={}, secrets=())
    account = account_get(account_id=config["account_id"], workspace_ids=[context.workspace_id])
    if account is None:
        raise ToolError("The MCP server's account no longer exists.")
    problem = _unsupported_placement(account)
    if problem:
        raise ToolError(f"The MCP server's account cannot be used: {problem}")
    try:
        url, headers = account_request_credentials(account=account, url=config["url"])
    except (AccountNeedsReconnect, OAuthRefreshFailed) as exc:
        raise ToolError(f"The MCP server's account cannot authenticate: {exc.message}") from None
    except ValueError as exc:
        raise ToolError(f"The MCP server's account cannot authenticate: {exc}") from None
    credentials = account.credentials.reveal() if account.credentials else {}
    return _Endpoint(url=url, headers=headers, secrets=tuple(secret_values(credentials)))


def _run_bounded(operation: Callable[[Client], Awaitable[T]], *, endpoint: _Endpoint, cancel: threading.Event) -> T:
    """Connect to the server, run `operation` on the session and return its result.

    The whole exchange, connecting included, is bounded by ATHENA_AGENT_MCP_TIMEOUT_SECONDS and
    stops early when the run's cancel event is set. Raises ToolError with a message for the model.
    """
    from athena_site.http import guarded_async_httpx_client

    timeout = _timeout_seconds()
    outcome: dict[str, Any] = {}

    async def exchange() -> None:
        async with guarded_async_httpx_client(headers=endpoint.headers, timeout=timeout) as http:
            transport = streamable_http_client(endpoint.url, http_client=http)
            async with Client(transport, read_timeout_seconds=timeout, client_info=_CLIENT_INFO) as client:
                outcome["result"] = await operation(client)

    async def watch_cancel(scope: anyio.CancelScope) -> None:
        while not cancel.is_set():
            await anyio.sleep(0.1)
        scope.cancel()

    async def main() -> None:
        with anyio.fail_after(timeout):
            async with anyio.create_task_group() as group:
                group.start_soon(watch_cancel, group.cancel_scope)
                try:
                    await exchange()
                finally:
                    group.cancel_scope.cancel()

    try:
        anyio.run(main)
    except BaseException as exc:
        # anyio wraps failures in exception groups, which _failure_message unwraps.
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise ToolError(_failure_message(exc, endpoint=endpoint, timeout=timeout)) from None
    if "result" not in outcome:
        raise ToolError("The run was stopped before the MCP server responded.")
    return outcome["result"]


def _leaf_exceptions(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaf_exceptions(inner)]
    return [exc]


def _failure_message(exc: BaseException, *, endpoint: _Endpoint, timeout: float) -> str:
    """Describe a failed exchange for the model, without the account's secrets."""
    from athena_site.http import OutboundRequestBlocked
    from providers.redaction import redact

    leaves = _leaf_exceptions(exc)
    # The most specific failure comes first: a refusal by the guard explains the connection
    # errors that follow it.
    order = (OutboundRequestBlocked, TimeoutError, MCPError, httpx2.HTTPStatusError, httpx2.HTTPError)
    leaves.sort(key=lambda leaf: next((i for i, kind in enumerate(order) if isinstance(leaf, kind)), len(order)))
    first = leaves[0]

    if isinstance(first, OutboundRequestBlocked):
        message = f"The request to the MCP server was blocked: {first}"
    elif isinstance(first, TimeoutError):
        message = f"The MCP server did not respond within {timeout:g} seconds."
    elif isinstance(first, MCPError):
        message = f"The MCP server returned an error: {first.message}"
    elif isinstance(first, httpx2.HTTPStatusError):
        message = f"The MCP server responded with HTTP status {first.response.status_code}."
    elif isinstance(first, httpx2.ConnectError):
        message = "The MCP server could not be reached: the connection failed."
    elif isinstance(first, httpx2.HTTPError):
        message = f"The MCP server could not be reached ({type(first).__name__})."
    else:
        message = f"The MCP server's response was invalid ({type(first).__name__})."
    message = redact(message, endpoint.secrets, max_length=MAX_ERROR_CHARS)

    # Only an unexpected kind of failure carries its trace, which an operator may need.
    expected = isinstance(first, order)
    logger.warning("MCP exchange failed: %s", message, exc_info=None if expected else first)
    return message


# --- listing and calling ----------------------------------------------------------------------


async def _list_all_tools(client: Client) -> list[Any]:
    tools: list[Any] = []
    cursor: str | None = None
    for _page in range(MAX_LIST_PAGES):
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            break
    return tools


def _model_tool_name(prefix: str, server_name: str) -> str:
    """Return `<prefix>_<tool>` in the characters models accept, shortened with a hash when too long."""
    name = f"{prefix}_{_UNSAFE_NAME_CHARACTERS.sub('_', server_name)}"
    if len(name) <= MAX_MODEL_TOOL_NAME_LENGTH:
        return name
    digest = hashlib.sha256(server_name.encode()).hexdigest()[:8]
    return f"{name[: MAX_MODEL_TOOL_NAME_LENGTH - 9]}_{digest}"


def _parameters(schema: Any) -> dict[str, Any] | None:
    """Return a tool's input schema as the model's parameters, or None when it is not a valid object schema."""
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        return None
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError:
        return None
    return {"type": "object", "properties": {}, **schema}


def _content_block(block: Any) -> Any:
    """Return one content block of a tool result as JSON, with binary data replaced by its size."""
    data = block.model_dump(mode="json", by_alias=True, exclude_none=True)
    if data.get("type") == "text":
        return data.get("text", "")
    if "data" in data:
        data["data"] = f"[{len(data['data'])} base64 characters omitted]"
    resource = data.get("resource")
    if isinstance(resource, dict) and "blob" in resource:
        resource["blob"] = f"[{len(resource['blob'])} base64 characters omitted]"
    return data


def _result_value(result: CallToolResult) -> Any:
    """Return what the model reads of a successful call: the structured content, else the content blocks."""
    if result.structured_content is not None:
        return result.structured_content
    blocks = [_content_block(block) for block in result.content]
    if len(blocks) == 1:
        return blocks[0]
    return blocks


def _error_text(result: CallToolResult) -> str:
    texts = [getattr(block, "text", "") for block in result.content if getattr(block, "type", "") == "text"]
    return " ".join(text for text in texts if text) or "The tool reported an error without a message."


def call_mcp_tool(config: dict[str, Any], tool_name: str, arguments: dict[str, Any], context: ToolContext) -> Any:
    """Call one tool of the entry's server with the model's arguments and return the result.

    Raises ToolError when the server cannot be reached, returns an error, or the tool
    reports a failure (`isError`); the message is what the model reads.
    """
    endpoint = _endpoint(config, context)
    result: CallToolResult = _run_bounded(
        lambda client: client.call_tool(tool_name, arguments), endpoint=endpoint, cancel=context.cancel
    )
    if result.is_error:
        from providers.redaction import redact

        raise ToolError(redact(f"The tool failed: {_error_text(result)}", endpoint.secrets, max_length=2000))
    return _result_value(result)


def _unavailable_tool(config: dict[str, Any], reason: str) -> BoundTool:
    """Return a stand-in tool whose description explains why the server's tools are missing from this run."""
    description = f"The tools of the MCP server '{config['name']}' are unavailable in this run: {reason}"

    def explain(arguments: dict[str, Any]) -> Any:
        raise ToolError(description)

    return BoundTool(config["name"], description[:MAX_DESCRIPTION_CHARS], {"type": "object", "properties": {}}, explain)


def _mcp_build(config: dict[str, Any], context: ToolContext) -> list[BoundTool]:
    """List the server's tools once for this run and bind those the entry allows."""
    extra = {"agent_id": str(getattr(context.agent, "pk", "")), "run_id": str(context.run_id)}
    try:
        endpoint = _endpoint(config, context)
        listed = _run_bounded(_list_all_tools, endpoint=endpoint, cancel=context.cancel)
    except ToolError as exc:
        logger.warning("MCP server tools could not be listed: %s", exc, extra=extra)
        return [_unavailable_tool(config, str(exc))]

    allowed = set(config.get("allowed_tools") or [])
    tools: list[BoundTool] = []
    names: set[str] = set()
    for tool in listed:
        if allowed and tool.name not in allowed:
            continue
        parameters = _parameters(tool.input_schema)
        model_name = _model_tool_name(config["name"], tool.name)
        if parameters is None or model_name in names:
            logger.warning("MCP tool skipped: invalid input schema or duplicate name", extra=extra)
            continue
        if len(tools) >= MAX_TOOLS_PER_SERVER:
            logger.warning("MCP server lists more than %d tools; the rest are left out", MAX_TOOLS_PER_SERVER)
            break
        names.add(model_name)
        description = (tool.description or tool.title or tool.name)[:MAX_DESCRIPTION_CHARS]
        tools.append(BoundTool(model_name, description, parameters, _caller(config, tool.name, context)))
    return tools


def _caller(config: dict[str, Any], tool_name: str, context: ToolContext) -> Callable[[dict[str, Any]], Any]:
    return lambda arguments: call_mcp_tool(config, tool_name, arguments, context)


def register_mcp_tool_type() -> None:
    register_tool_type(
        "mcp",
        build=_mcp_build,
        validate=validate_mcp_config,
        description="Call the tools of an MCP server (streamable HTTP), optionally with an account's credentials.",
    )
