"""MCP tools: agents that list and call the tools of a real MCP server on 127.0.0.1.

The server is built with the `mcp` SDK's server side (tests/agents/fake_mcp.py); the model is the
fake LLM server, scripted to call the server's tools.
"""

import http.server
import socket
import threading
from collections.abc import Iterator

import pytest

from agents.models import AgentRun
from agents.tools.mcp import MAX_MODEL_TOOL_NAME_LENGTH, _model_tool_name
from tests.factories import WorkspaceFactory
from tests.providers.factories import AccountFactory, ProviderFactory

pytestmark = pytest.mark.django_db

CHAT = "/v1/chat/completions"
SERVER_TOOLS = ["calc_add", "calc_dots_name", "calc_fail", "calc_slow"]


def mcp_entry(url, **fields):
    return {"type": "mcp", "name": "calc", "url": url, **fields}


def run(client, agent, text="Use the tools."):
    response = client.post(f"/api/v1/agents/{agent.pk}/run", {"input": text}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["data"]


def tool_names_sent(fake_llm, index=0):
    return sorted(tool["function"]["name"] for tool in fake_llm.calls_to(CHAT)[index].body.get("tools", []))


def tool_message_sent(fake_llm):
    """Return the content of the tool message the model received in its second call."""
    messages = fake_llm.calls_to(CHAT)[1].body["messages"]
    return next(message["content"] for message in messages if message["role"] == "tool")


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _NotMCPHandler(http.server.BaseHTTPRequestHandler):
    """Respond to every request with 200 and an HTML page, as a misconfigured URL would."""

    def _respond(self) -> None:
        body = b"<html><body>Welcome</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _respond

    def log_message(self, format, *args):
        pass


@pytest.fixture
def not_mcp_url() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotMCPHandler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/mcp"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


# --- runs ---------------------------------------------------------------------------------------


def test_mcp_run_calls_tool_and_returns_result(owner_client, make_agent, fake_llm, fake_mcp):
    # given an agent with the MCP server's tools, and a model that calls `add`
    agent = make_agent(tools=[mcp_entry(fake_mcp.url)])
    fake_llm.reply(tool_calls=[{"name": "calc_add", "arguments": {"a": 2, "b": 3}}])
    fake_llm.reply("The sum is 5.")

    # when the agent runs
    data = run(owner_client, agent)

    # then the server's tool ran once and its result reached the model
    assert data["status"] == "succeeded", data
    assert data["output"] == "The sum is 5."
    assert data["steps"][0]["tool"] == "calc_add"
    assert data["steps"][0]["arguments"] == {"a": 2, "b": 3}
    assert data["steps"][0]["result"] == {"result": 5}
    assert data["steps"][0]["error"] is None
    assert fake_mcp.calls == {"add": 1}
    assert tool_names_sent(fake_llm) == SERVER_TOOLS
    assert tool_message_sent(fake_llm) == '{"result": 5}'
    assert AgentRun.objects.get(pk=data["run_id"]).steps[0]["result"] == {"result": 5}


def test_mcp_run_sends_input_schema_and_description(owner_client, make_agent, fake_llm, fake_mcp):
    agent = make_agent(tools=[mcp_entry(fake_mcp.url, allowed_tools=["add"])])

    run(owner_client, agent)

    (tool,) = fake_llm.calls_to(CHAT)[0].body["tools"]
    assert tool["function"]["description"] == "Add two whole numbers."
    parameters = tool["function"]["parameters"]
    assert parameters["type"] == "object"
    assert parameters["required"] == ["a", "b"]
    assert parameters["properties"]["a"]["type"] == "integer"


def test_mcp_allowed_tools_filters_listing(owner_client, make_agent, fake_llm, fake_mcp):
    # given an entry that allows only `add`, and a model that tries `fail` anyway
    agent = make_agent(tools=[mcp_entry(fake_mcp.url, allowed_tools=["add", "not_listed"])])
    fake_llm.reply(tool_calls=[{"name": "calc_fail", "arguments": {}}])
    fake_llm.reply("I could not.")

    # when the agent runs
    data = run(owner_client, agent)

    # then the model saw only `add`, and the call to `fail` never reached the server
    assert tool_names_sent(fake_llm) == ["calc_add"]
    assert "no tool named 'calc_fail'" in data["steps"][0]["error"]
    assert fake_mcp.calls["fail"] == 0


def test_mcp_schema_invalid_arguments_are_not_sent(owner_client, make_agent, fake_llm, fake_mcp):
    # given a model that sends a string where the tool's schema wants an integer
    agent = make_agent(tools=[mcp_entry(fake_mcp.url)])
    fake_llm.reply(tool_calls=[{"name": "calc_add", "arguments": {"a": "two", "b": 3}}])
    fake_llm.reply("Sorry.")

    # when the agent runs
    data = run(owner_client, agent)

    # then the model hears what is wrong and the tool did not run
    assert data["status"] == "succeeded"
    step = data["steps"][0]
    assert step["result"] is None
    assert "do not match the tool's schema" in step["error"]
    assert "a: 'two' is not of type 'integer'" in step["error"]
    assert fake_mcp.calls["add"] == 0
    assert "do not match" in tool_message_sent(fake_llm)


def test_mcp_failing_tool_error_reaches_model(owner_client, make_agent, fake_llm, fake_mcp):
    agent = make_agent(tools=[mcp_entry(fake_mcp.url)])
    fake_llm.reply(tool_calls=[{"name": "calc_fail", "arguments": {}}])
    fake_llm.reply("The warehouse is closed.")

    data = run(owner_client, agent)

    assert data["status"] == "succeeded"
    assert data["steps"][0]["error"].startswith("The tool failed:")
    assert "the warehouse is closed" in data["steps"][0]["error"]
    assert "the warehouse is closed" in tool_message_sent(fake_llm)
    assert fake_mcp.calls == {"fail": 1}


def test_mcp_dotted_tool_name_renamed(owner_client, make_agent, fake_llm, fake_mcp):
    agent = make_agent(tools=[mcp_entry(fake_mcp.url, allowed_tools=["dots.name"])])
    fake_llm.reply(tool_calls=[{"name": "calc_dots_name", "arguments": {}}])
    fake_llm.reply("Done.")

    data = run(owner_client, agent)

    assert data["steps"][0]["result"] == {"result": "dotted"}


def test_mcp_timeout_reaches_model(owner_client, make_agent, fake_llm, fake_mcp, settings):
    # given a call that takes longer than the MCP timeout
    settings.ATHENA_AGENT_MCP_TIMEOUT_SECONDS = 1.0
    agent = make_agent(tools=[mcp_entry(fake_mcp.url, allowed_tools=["slow"])])
    fake_llm.reply(tool_calls=[{"name": "calc_slow", "arguments": {"seconds": 3}}])
    fake_llm.reply("It was too slow.")

    # when the agent runs
    data = run(owner_client, agent)

    # then the step reports the timeout and the run goes on
    assert data["status"] == "succeeded", data
    assert data["steps"][0]["error"] == "The MCP server did not respond within 1 seconds."
    assert data["steps"][0]["duration_ms"] < 3000
    assert data["output"] == "It was too slow."


def test_mcp_unreachable_server_reaches_model(owner_client, make_agent, fake_llm, closed_port):
    # given a server URL where nothing listens
    agent = make_agent(tools=[mcp_entry(f"http://127.0.0.1:{closed_port}/mcp"), {"type": "memory_search"}])
    fake_llm.reply(tool_calls=[{"name": "calc", "arguments": {}}])
    fake_llm.reply("The calculator is down.")

    # when the agent runs
    data = run(owner_client, agent)

    # then the model gets a stand-in tool that explains the failure, and the run succeeds
    assert data["status"] == "succeeded", data
    assert tool_names_sent(fake_llm) == ["calc", "memory_search"]
    stand_in = next(tool for tool in fake_llm.calls_to(CHAT)[0].body["tools"] if tool["function"]["name"] == "calc")
    assert "could not be reached" in stand_in["function"]["description"]
    assert "could not be reached" in data["steps"][0]["error"]
    assert data["output"] == "The calculator is down."


def test_mcp_server_that_is_not_mcp_reaches_model(owner_client, make_agent, fake_llm, not_mcp_url):
    agent = make_agent(tools=[mcp_entry(not_mcp_url)])

    data = run(owner_client, agent)

    assert data["status"] == "succeeded", data
    (stand_in,) = fake_llm.calls_to(CHAT)[0].body["tools"]
    assert stand_in["function"]["name"] == "calc"
    assert "unavailable in this run" in stand_in["function"]["description"]


def test_mcp_server_error_status_reaches_model(owner_client, make_agent, fake_llm, fake_mcp):
    # given a URL on the MCP server's host whose path does not exist
    agent = make_agent(tools=[mcp_entry(fake_mcp.url.replace("/mcp", "/missing"))])

    data = run(owner_client, agent)

    assert data["status"] == "succeeded", data
    (stand_in,) = fake_llm.calls_to(CHAT)[0].body["tools"]
    assert "unavailable in this run" in stand_in["function"]["description"]


def test_mcp_account_header_reaches_server(owner_client, make_agent, fake_llm, fake_mcp, workspace):
    # given an account of a bearer-token provider
    provider = ProviderFactory(workspace=workspace, base_url=fake_mcp.url, authentication_config={"strategy": "bearer"})
    account = AccountFactory(workspace=workspace, provider=provider, credentials={"token": "mcp-secret-token-1234"})
    agent = make_agent(tools=[mcp_entry(fake_mcp.url, account_id=str(account.pk))])
    fake_llm.reply(tool_calls=[{"name": "calc_add", "arguments": {"a": 1, "b": 1}}])
    fake_llm.reply("Two.")

    # when the agent runs
    data = run(owner_client, agent)

    # then every request to the server, listing and calling, carried the token
    assert data["steps"][0]["result"] == {"result": 2}
    received = fake_mcp.headers_received("authorization")
    assert received
    assert len(received) == len(fake_mcp.requests)
    assert set(received) == {"Bearer mcp-secret-token-1234"}


def test_mcp_account_api_key_header_reaches_server(owner_client, make_agent, fake_llm, fake_mcp, workspace):
    provider = ProviderFactory(
        workspace=workspace,
        base_url=fake_mcp.url,
        authentication_config={"strategy": "api_key", "placement": "header", "name": "X-Api-Key"},
    )
    account = AccountFactory(workspace=workspace, provider=provider, credentials={"api_key": "mcp-key-98765"})
    agent = make_agent(tools=[mcp_entry(fake_mcp.url, account_id=str(account.pk))])

    run(owner_client, agent)

    assert set(fake_mcp.headers_received("x-api-key")) == {"mcp-key-98765"}


def test_mcp_deleted_account_reaches_model(owner_client, make_agent, fake_llm, fake_mcp, workspace):
    provider = ProviderFactory(workspace=workspace, base_url=fake_mcp.url)
    account = AccountFactory(workspace=workspace, provider=provider)
    agent = make_agent(tools=[mcp_entry(fake_mcp.url, account_id=str(account.pk))])
    account.delete()

    data = run(owner_client, agent)

    assert data["status"] == "succeeded", data
    (stand_in,) = fake_llm.calls_to(CHAT)[0].body["tools"]
    assert "account no longer exists" in stand_in["function"]["description"]
    assert fake_mcp.requests == []


@pytest.mark.django_db(transaction=True)
def test_mcp_streamed_run_sends_step_event(owner_client, make_agent, fake_llm, fake_mcp):
    agent = make_agent(tools=[mcp_entry(fake_mcp.url)])
    fake_llm.reply(tool_calls=[{"name": "calc_add", "arguments": {"a": 20, "b": 22}}])
    fake_llm.reply("42.")

    response = owner_client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Add.", "stream": True}, format="json")

    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert 'event: step\ndata: {"tool": "calc_add"' in body
    assert '"result": {"result": 42}' in body
    assert body.rstrip().split("\n")[-2] == "event: done"


# --- saving -------------------------------------------------------------------------------------


def test_mcp_entry_saved_normalised(owner_client, llm, fake_mcp, workspace):
    account, _model = llm
    entry = {"type": "mcp", "name": "calc", "url": f" {fake_mcp.url} ", "account_id": str(account.pk)}

    response = owner_client.post(
        "/api/v1/agents", {"name": "Calculator", "tools": [entry]}, format="json", HTTP_X_WORKSPACE=str(workspace.pk)
    )

    assert response.status_code == 201, response.content
    assert response.json()["data"]["tools"] == [
        {"type": "mcp", "name": "calc", "url": fake_mcp.url, "account_id": str(account.pk), "allowed_tools": []}
    ]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"url": "https://tools.example.com/mcp"}, "name:"),
        ({"name": "has space", "url": "https://tools.example.com/mcp"}, "name:"),
        ({"name": "x" * 65, "url": "https://tools.example.com/mcp"}, "name:"),
        ({"name": "calc"}, "url:"),
        ({"name": "calc", "url": "ftp://tools.example.com/mcp"}, "url:"),
        ({"name": "calc", "url": "/mcp"}, "url:"),
        ({"name": "calc", "url": "https://user:secret@tools.example.com/mcp"}, "url: remove the user name"),
        ({"name": "calc", "url": "https://tools.example.com:99999/mcp"}, "url: the URL is invalid"),
        ({"name": "calc", "url": "https://tools.example.com/mcp#part"}, "url: remove the #fragment"),
        ({"name": "calc", "url": "https://tools.example.com/" + "a" * 2000}, "url: use at most"),
        ({"name": "calc", "url": 42}, "url:"),
        ({"name": "calc", "url": "https://tools.example.com/mcp", "allowed_tools": "add"}, "allowed_tools:"),
        ({"name": "calc", "url": "https://tools.example.com/mcp", "allowed_tools": [""]}, "allowed_tools:"),
        ({"name": "calc", "url": "https://tools.example.com/mcp", "allowed_tools": [7]}, "allowed_tools:"),
        ({"name": "calc", "url": "https://tools.example.com/mcp", "allowed_tools": ["a"] * 101}, "allowed_tools:"),
        ({"name": "calc", "url": "https://tools.example.com/mcp", "account_id": "not-a-uuid"}, "account_id:"),
    ],
)
def test_mcp_entry_invalid_is_422(owner_client, workspace, entry, message):
    response = owner_client.post(
        "/api/v1/agents",
        {"name": "Calculator", "tools": [{"type": "mcp", **entry}]},
        format="json",
        HTTP_X_WORKSPACE=str(workspace.pk),
    )

    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"]["tools.0"][0].startswith(message), response.json()


def test_mcp_foreign_account_rejected(owner_client, workspace):
    foreign = AccountFactory(workspace=WorkspaceFactory())
    entry = {"type": "mcp", "name": "calc", "url": "https://tools.example.com/mcp", "account_id": str(foreign.pk)}

    response = owner_client.post(
        "/api/v1/agents", {"name": "Calculator", "tools": [entry]}, format="json", HTTP_X_WORKSPACE=str(workspace.pk)
    )

    assert response.status_code == 422, response.content
    assert response.json()["errors"] == {"tools.0": ["account_id: no such account in this workspace."]}


@pytest.mark.parametrize(("placement", "location"), [("body", "request body"), ("query", "query string")])
def test_mcp_entry_with_non_header_credential_is_422(owner_client, workspace, placement, location):
    # given an account whose provider sends its key outside the headers, where request URLs and
    # bodies written by the SDK would carry it
    provider = ProviderFactory(
        workspace=workspace, authentication_config={"strategy": "api_key", "placement": placement, "name": "key"}
    )
    account = AccountFactory(workspace=workspace, provider=provider, credentials={"api_key": "placed-key-123456"})
    entry = {"type": "mcp", "name": "calc", "url": "https://tools.example.com/mcp", "account_id": str(account.pk)}

    # when an agent is saved with it
    response = owner_client.post(
        "/api/v1/agents", {"name": "Calculator", "tools": [entry]}, format="json", HTTP_X_WORKSPACE=str(workspace.pk)
    )

    # then the entry is rejected, naming where the credential would go
    assert response.status_code == 422, response.content
    assert location in response.json()["errors"]["tools.0"][0]


def test_mcp_duplicate_name_rejected(owner_client, workspace):
    tools = [
        {"type": "mcp", "name": "calc", "url": "https://tools.example.com/mcp"},
        {"type": "http", "name": "calc", "url": "https://api.example.com/"},
    ]

    response = owner_client.post(
        "/api/v1/agents", {"name": "Calculator", "tools": tools}, format="json", HTTP_X_WORKSPACE=str(workspace.pk)
    )

    assert response.status_code == 422, response.content
    assert "tools.1" in response.json()["errors"]


# --- names --------------------------------------------------------------------------------------


def test_mcp_model_tool_name_fits_model_limits():
    long_name = "x" * 100

    name = _model_tool_name("calc", long_name)

    assert len(name) == MAX_MODEL_TOOL_NAME_LENGTH
    assert name != _model_tool_name("calc", long_name + "y")
    assert _model_tool_name("calc", "files/read.all") == "calc_files_read_all"
