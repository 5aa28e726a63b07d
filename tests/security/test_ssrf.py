"""Server-side request forgery: every path that makes outbound calls refuses internal destinations.

Each test runs in a network jail. The guard's resolver reads a stub table, the system resolver
accepts only numeric hosts, and a socket may connect only to the loopback ports of the server
started here, the database and Redis. The allowlist is empty, so even the loopback server must
be refused; it counts the requests it receives, and every test asserts it received none. A
guard bug therefore fails a test and sends no packet anywhere.
"""

import http.server
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
import requests
from django.test import Client
from rest_framework.test import APIClient

from athena_site.http import OutboundRequestBlocked, guarded_httpx_client, guarded_session
from providers import oauth
from providers.errors import OAuthRefreshFailed, OutboundDestinationBlocked
from providers.llm import gateway
from tests.factories import UserFactory, WorkspaceFactory
from tests.providers.factories import AccountFactory, LargeLanguageModelFactory, ProviderFactory
from tests.security.conftest import NetworkJail, service_ports
from tests.workspaces.conftest import client_for

pytestmark = pytest.mark.timeout(30)

# Stub DNS: names that resolve to internal addresses.
STUB_NAMES = {
    "localhost": ["127.0.0.1"],
    "private.example.test": ["10.0.0.7"],
    "metadata.example.test": ["169.254.169.254"],
    "mapped.example.test": ["::ffff:10.0.0.1"],
    "ula.example.test": ["fd12:3456::1"],
}

# (label, host and port); `{port}` is the loopback server's port, so a guard failure would reach
# that server (which counts it) rather than anything else.
ADDRESS_TABLE = [
    ("loopback", "127.0.0.1:{port}"),
    ("loopback name", "localhost:{port}"),
    ("loopback 127.0.0.2", "127.0.0.2:{port}"),
    ("unspecified", "0.0.0.0:{port}"),
    ("private 10/8", "10.0.0.5"),
    ("private 172.16/12", "172.16.3.4"),
    ("private 192.168/16", "192.168.1.10"),
    ("carrier-grade NAT", "100.64.0.1"),
    ("link-local", "169.254.10.1"),
    ("cloud metadata", "169.254.169.254"),
    ("cloud metadata, other vendor", "100.100.100.200"),
    ("IPv6 loopback", "[::1]:{port}"),
    ("IPv4-mapped loopback", "[::ffff:127.0.0.1]:{port}"),
    ("IPv4-mapped metadata", "[::ffff:169.254.169.254]"),
    ("IPv6 unique-local", "[fd00::1]"),
    ("IPv6 link-local", "[fe80::1]"),
    ("IPv6 metadata", "[fd00:ec2::254]"),
    ("NAT64 loopback", "[64:ff9b::7f00:1]"),
    ("decimal loopback", "2130706433:{port}"),
    ("octal loopback", "0177.0.0.1:{port}"),
    ("hex loopback", "0x7f.0.0.1:{port}"),
    ("short loopback", "127.1:{port}"),
    ("decimal metadata", "2852039166"),
    ("octal private", "012.0.0.1"),
    ("name resolving to private", "private.example.test"),
    ("name resolving to metadata", "metadata.example.test"),
    ("name resolving to mapped private", "mapped.example.test"),
    ("name resolving to unique-local", "ula.example.test"),
]

# Destinations that the allowed first hop redirects to.
REDIRECT_TARGETS = [
    ("redirect to metadata", "http://169.254.169.254/latest/meta-data/"),
    ("redirect to private", "http://10.0.0.5/admin"),
    ("redirect to name resolving to private", "http://private.example.test/"),
    ("redirect to mapped private", "http://[::ffff:10.0.0.1]/"),
]


class CountingHandler(http.server.BaseHTTPRequestHandler):
    """Request handler that counts every request; `/redirect?to=` redirects with 302, any other path gets 200."""

    server: "CountingServer"

    def _handle(self) -> None:
        with self.server.lock:
            self.server.hits += 1
        parts = urlsplit(self.path)
        if parts.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", parse_qs(parts.query)["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b'{"data": [], "access_token": "leaked", "id": "1", "email": "a@example.com"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


class CountingServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.hits = 0
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), CountingHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can be a DNS query.
        http.server.socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = self.server_address[1]


@pytest.fixture
def server() -> Iterator[CountingServer]:
    httpd = CountingServer()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def jail(network_jail: NetworkJail, server: CountingServer, settings: Any, db: None) -> NetworkJail:
    network_jail.names.update(STUB_NAMES)
    network_jail.loopback_ports = {server.server_address[1], *service_ports()}
    settings.ATHENA_OUTBOUND_ALLOWLIST = []
    settings.ATHENA_OUTBOUND_TIMEOUT_SECONDS = 3.0
    return network_jail


@pytest.fixture(autouse=True)
def eager_tasks(settings: Any) -> None:
    # Workflow runs are queued as Celery tasks, so they run inline here and the test can check the outcome.
    settings.CELERY_TASK_ALWAYS_EAGER = True


def url_for(host: str, server: CountingServer, path: str = "/") -> str:
    return f"http://{host.format(port=server.server_address[1])}{path}"


TABLE = [pytest.param(host, id=label) for label, host in ADDRESS_TABLE]
REDIRECTS = [pytest.param(target, id=label) for label, target in REDIRECT_TARGETS]


@pytest.fixture
def owner(db: None) -> Any:
    return UserFactory()


@pytest.fixture
def workspace(owner: Any) -> Any:
    return WorkspaceFactory(owner=owner, name="SSRF team")


# --- the guarded clients ------------------------------------------------------------------------


@pytest.mark.parametrize("host", TABLE)
def test_ssrf_guarded_clients_refuse_internal_addresses(jail, server, host):
    # given an internal destination
    url = url_for(host, server, "/probe")

    # when the requests and httpx2 clients are asked to reach it, then both refuse before connecting
    with pytest.raises(OutboundRequestBlocked), guarded_session() as session:
        session.get(url)
    # httpx2 refuses some legacy IPv4 spellings while parsing the URL, which is a refusal too.
    refused = (OutboundRequestBlocked, httpx2.ConnectError, httpx2.InvalidURL)
    with pytest.raises(refused), guarded_httpx_client() as client:
        client.get(url)
    assert server.hits == 0


@pytest.mark.parametrize("target", REDIRECTS)
def test_ssrf_guarded_client_refuses_redirect_to_internal_address(jail, server, settings, target):
    # given an allowed first hop (only the loopback server itself) that redirects inside
    settings.ATHENA_OUTBOUND_ALLOWLIST = ["127.0.0.1/32"]
    location = target.format(port=server.server_address[1])
    url = f"http://127.0.0.1:{server.server_address[1]}/redirect?to={location}"

    # when the redirect is followed, then the second hop is refused
    with pytest.raises(OutboundRequestBlocked), guarded_session() as session:
        session.get(url)
    assert server.hits == 1


# --- workflow http_request nodes ----------------------------------------------------------------


def _run_http_workflow(workspace: Any, owner: Any, url: str) -> Any:
    from workflows.services.workflows import workflow_create, workflow_run

    workflow = workflow_create(
        workspace=workspace,
        user=owner,
        data={
            "name": "Probe",
            "nodes": [
                {"id": "start", "type": "trigger.manual", "parameters": {}},
                {"id": "fetch", "type": "http_request", "parameters": {"method": "GET", "url": url}},
            ],
            "edges": [{"id": "start-fetch", "source": "start", "target": "fetch", "source_handle": "main"}],
        },
    )
    execution = workflow_run(workflow=workflow, user=owner, body={})
    execution.refresh_from_db()
    return execution


@pytest.mark.parametrize("host", TABLE)
def test_ssrf_workflow_http_node_is_refused(jail, server, workspace, owner, django_capture_on_commit_callbacks, host):
    # given a workflow whose HTTP node targets an internal address
    url = url_for(host, server, "/probe")

    # when it runs
    with django_capture_on_commit_callbacks(execute=True):
        execution = _run_http_workflow(workspace, owner, url)
    execution.refresh_from_db()

    # then the node fails with the refusal and nothing was reached
    assert execution.status == "failed", execution.error
    node_run = execution.node_runs.get(node_id="fetch", item_index=-1)
    assert "refused" in str(node_run.error) or "blocked" in str(node_run.error), node_run.error
    assert server.hits == 0


@pytest.mark.parametrize("target", REDIRECTS)
def test_ssrf_workflow_http_node_redirect_is_refused(
    jail, server, settings, workspace, owner, django_capture_on_commit_callbacks, target
):
    settings.ATHENA_OUTBOUND_ALLOWLIST = ["127.0.0.1/32"]
    location = target.format(port=server.server_address[1])
    url = f"http://127.0.0.1:{server.server_address[1]}/redirect?to={location}"

    with django_capture_on_commit_callbacks(execute=True):
        execution = _run_http_workflow(workspace, owner, url)
    execution.refresh_from_db()

    assert execution.status == "failed", execution.error
    assert server.hits == 1


# --- provider base URLs: account test, model sync and the LLM gateway ---------------------------


@pytest.mark.parametrize("host", TABLE)
def test_ssrf_service_account_test_is_refused(jail, server, workspace, owner, host):
    # given a service provider whose base URL is internal, and an account of it
    provider = ProviderFactory(workspace=workspace, base_url=url_for(host, server, ""), test_path="/me")
    account = AccountFactory(workspace=workspace, provider=provider)

    # when the account is tested
    response = client_for(owner).post(f"/api/v1/accounts/{account.pk}/test")

    # then the test reports the refusal, and nothing was reached
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["ok"] is False
    assert data["code"] == "outbound_request_blocked", data
    assert server.hits == 0


@pytest.mark.parametrize("host", TABLE)
def test_ssrf_llm_account_test_and_sync_are_refused(jail, server, workspace, owner, host):
    # given an OpenAI-compatible provider whose base URL is internal
    provider = ProviderFactory(
        workspace=workspace, kind="llm", llm_protocol="openai", base_url=url_for(host, server, "/v1")
    )
    account = AccountFactory(workspace=workspace, provider=provider)
    client = client_for(owner)

    # when the account is tested and its models are synced
    tested = client.post(f"/api/v1/accounts/{account.pk}/test")
    synced = client.post(f"/api/v1/providers/{provider.pk}/sync-models", {"account_id": str(account.pk)}, format="json")

    # then both report the refusal, and nothing was reached
    assert tested.status_code == 200, tested.content
    assert tested.json()["data"]["code"] == "outbound_request_blocked", tested.content
    assert synced.status_code == 422, synced.content
    assert synced.json()["code"] == "outbound_request_blocked"
    assert server.hits == 0


@pytest.mark.parametrize("host", TABLE)
@pytest.mark.parametrize("protocol", ["openai", "anthropic"])
def test_ssrf_llm_gateway_chat_is_refused(jail, server, workspace, host, protocol):
    # given a model of a provider whose base URL is internal
    provider = ProviderFactory(
        workspace=workspace, kind="llm", llm_protocol=protocol, base_url=url_for(host, server, "/v1")
    )
    account = AccountFactory(workspace=workspace, provider=provider)
    llm = LargeLanguageModelFactory(provider=provider, workspace=workspace)

    # when a chat is sent, then the gateway refuses without retrying
    started = time.monotonic()
    with pytest.raises(OutboundDestinationBlocked) as refused:
        gateway.chat(model=llm, account=account, messages=[{"role": "user", "content": "hello"}])

    assert refused.value.code == "outbound_request_blocked", refused.value.code
    assert time.monotonic() - started < 5
    assert server.hits == 0


# --- OAuth2 token URLs --------------------------------------------------------------------------


def _oauth_provider(workspace: Any, token_url: str) -> Any:
    return ProviderFactory(
        workspace=workspace,
        key="crm",
        base_url="https://crm.example.test",
        authentication_config={
            "strategy": "oauth2",
            "authorize_url": "https://crm.example.test/authorize",
            "token_url": token_url,
            "scopes": ["read"],
            "client_id": "athena-client",
            "client_secret": "client-secret-for-ssrf-tests",
            "pkce": True,
        },
    )


@pytest.mark.parametrize("host", TABLE)
def test_ssrf_oauth_token_exchange_is_refused(jail, server, settings, workspace, owner, host):
    # given an OAuth2 provider whose token URL is internal, and a browser that started connecting
    settings.ATHENA_PUBLIC_URL = "https://athena.example.com"
    provider = _oauth_provider(workspace, url_for(host, server, "/token"))
    browser = Client()
    browser.force_login(owner)
    started = browser.get(f"/api/v1/providers/{provider.pk}/oauth/authorize?account_name=CRM&workspace={workspace.pk}")
    assert started.status_code == 302, started.content
    state = parse_qs(urlsplit(started["Location"]).query)["state"][0]

    # when the provider sends the browser back with a code
    response = browser.get("/api/v1/providers/oauth/callback", {"state": state, "code": "authorization-code"})

    # then the exchange is refused, no account is stored and nothing was reached
    assert response.status_code == 302, response.content
    assert parse_qs(urlsplit(response["Location"]).query)["error"] == ["blocked_destination"]
    assert not provider.accounts.exists()
    assert server.hits == 0


@pytest.mark.parametrize("host", TABLE)
def test_ssrf_oauth_refresh_is_refused(jail, server, workspace, host):
    # given a connected account whose access token expired and whose token URL is internal
    provider = _oauth_provider(workspace, url_for(host, server, "/token"))
    account = AccountFactory(
        workspace=workspace,
        provider=provider,
        credentials={"access_token": "expired-token", "refresh_token": "refresh-token", "expires_at": 1},
    )

    # when a fresh token is needed, then the refresh is refused
    with pytest.raises(OAuthRefreshFailed):
        oauth.account_ensure_fresh_token(account=account)
    assert server.hits == 0


# --- agent tools: HTTP and MCP -------------------------------------------------------------------


def _agent_tool(workspace: Any, owner: Any, entry: dict[str, Any]) -> list[Any]:
    """Save an agent with one tool entry, then build that entry's tools as a run does."""
    from agents import services
    from agents.tools.registry import ToolContext, tool_type

    agent = services.agent_create(workspace=workspace, user=owner, data={"name": "Probe", "tools": [entry]})
    (stored,) = agent.tools
    context = ToolContext(workspace_id=workspace.pk, agent=agent, user=owner)
    return tool_type(stored["type"]).build(stored, context)


def _call_http_tool(workspace: Any, owner: Any, url: str) -> str:
    from agents.errors import ToolError

    (tool,) = _agent_tool(workspace, owner, {"type": "http", "name": "probe", "method": "GET", "url": url})
    with pytest.raises(ToolError) as refused:
        tool.execute({})
    return str(refused.value)


def _mcp_tools_unavailable_reason(workspace: Any, owner: Any, url: str) -> str:
    """Build an MCP entry's tools and return the stand-in tool's description, which explains the failure."""
    tools = _agent_tool(workspace, owner, {"type": "mcp", "name": "probe", "url": url})
    assert [tool.name for tool in tools] == ["probe"], [tool.name for tool in tools]
    return tools[0].description


@pytest.mark.parametrize("host", TABLE)
def test_ssrf_agent_http_tool_is_refused(jail, server, workspace, owner, host):
    # given an agent's HTTP tool aimed at an internal address
    url = url_for(host, server, "/probe")

    # when the model calls it, then the call fails with a message for the model and nothing was reached
    message = _call_http_tool(workspace, owner, url)

    assert "blocked" in message or "failed" in message, message
    assert server.hits == 0


@pytest.mark.parametrize("target", REDIRECTS)
def test_ssrf_agent_http_tool_redirect_is_refused(jail, server, settings, workspace, owner, target):
    settings.ATHENA_OUTBOUND_ALLOWLIST = ["127.0.0.1/32"]
    location = target.format(port=server.server_address[1])
    url = f"http://127.0.0.1:{server.server_address[1]}/redirect?to={location}"

    message = _call_http_tool(workspace, owner, url)

    assert "blocked" in message, message
    assert server.hits == 1


@pytest.mark.parametrize("host", TABLE)
def test_ssrf_agent_mcp_tool_is_refused(jail, server, workspace, owner, host):
    # given an agent's MCP server at an internal address
    url = url_for(host, server, "/mcp")

    # when a run lists the server's tools, then the listing is refused before connecting
    reason = _mcp_tools_unavailable_reason(workspace, owner, url)

    assert "unavailable" in reason, reason
    assert server.hits == 0


@pytest.mark.parametrize("target", REDIRECTS)
def test_ssrf_agent_mcp_tool_redirect_is_refused(jail, server, settings, workspace, owner, target):
    # given an allowed MCP endpoint that redirects inside
    settings.ATHENA_OUTBOUND_ALLOWLIST = ["127.0.0.1/32"]
    location = target.format(port=server.server_address[1])
    url = f"http://127.0.0.1:{server.server_address[1]}/redirect?to={location}"

    # when a run lists the server's tools
    reason = _mcp_tools_unavailable_reason(workspace, owner, url)

    # then only the first hop was reached: the SDK follows no redirect to another origin, so the
    # target's name was never even resolved (the fallback from discovery to the initialize
    # handshake asks the first hop twice)
    assert "not followed" in reason, reason
    assert server.hits >= 1
    assert jail.lookups == []


# --- Multiplai ----------------------------------------------------------------------------------


@pytest.mark.parametrize("host", TABLE)
def test_ssrf_multiplai_validation_is_refused(jail, server, settings, host):
    # given MULTIPLAI_API_URL pointing inside
    settings.MULTIPLAI_API_URL = url_for(host, server, "")

    # when a request carries a Multiplai token
    response = APIClient().get("/api/v1/user", HTTP_X_MULTIPLAI_AUTHORIZATION="Bearer multiplai-token")

    # then Multiplai counts as unreachable and nothing was reached
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "multiplai_unavailable"
    assert server.hits == 0


def test_ssrf_table_holds_no_public_address() -> None:
    # The table must never name a host outside this machine that the jail would have to stop.
    import ipaddress

    from athena_site.http import _parse_literal_address, _translated_ipv4

    for _label, host in ADDRESS_TABLE:
        name = host.format(port=1).rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0][1:]
        address = _parse_literal_address(name)
        addresses = [address] if address else [ipaddress.ip_address(item) for item in STUB_NAMES[name]]
        # A NAT64 address counts as global, but it reaches the IPv4 address inside it.
        reached = [_translated_ipv4(item) or item for item in addresses]
        assert all(not item.is_global for item in reached), host


def test_ssrf_requests_library_is_not_reached_unguarded(jail, server) -> None:
    # A plain requests call outside the guard is stopped by the jail, proving the jail itself works.
    with pytest.raises(requests.ConnectionError):
        requests.get("http://10.0.0.5/", timeout=1)
    assert jail.violations
    jail.violations.clear()
