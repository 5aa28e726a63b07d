"""Secret hygiene: planted secrets never reach logs, responses, stored data, exports, admin pages or streams.

The session-wide capture (tests/secret_capture.py) watches every test. The first tests here
prove that it detects a leak in each place it watches. The others plant each kind of secret and
exercise the responses most likely to leak it. Each of them runs inside `CAPTURE.expecting()`
and asserts that nothing was seen, so a leak fails the test that caused it.
"""

import hashlib
import hmac
import io
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.core.management import call_command
from django.http import HttpResponse, StreamingHttpResponse
from django.test import Client
from django.urls import path

from agents import services as agent_services
from tests.agents.factories import llm_setup
from tests.factories import UserFactory, VariableFactory, planted_secret
from tests.providers.factories import AccountFactory, ProviderFactory
from tests.secret_capture import CAPTURE, PLANTED_MARKER
from tests.workflows.conftest import CountingServer
from workflows.services.workflows import workflow_create, workflow_update
from workspaces.models import Variable

LEAKED = f"leaked-{PLANTED_MARKER}-in-a-test-view"


def _leaking_view(request: Any) -> HttpResponse:
    return HttpResponse(f"<p>{LEAKED}</p>")


def _leaking_stream_view(request: Any) -> StreamingHttpResponse:
    # The secret is split across two chunks, as an SSE event split by the network would be.
    half = len(LEAKED) // 2
    return StreamingHttpResponse(iter([b"data: ", LEAKED[:half].encode(), LEAKED[half:].encode(), b"\n\n"]))


def _clean_view(request: Any) -> HttpResponse:
    return HttpResponse("nothing to see")


# Used by the tests marked `pytest.mark.urls(__name__)`, so no test view is reachable elsewhere.
urlpatterns = [
    path("leak", _leaking_view),
    path("leak-stream", _leaking_stream_view),
    path("clean", _clean_view),
]


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """A context manager that runs the on-commit callbacks (queued tasks) registered inside it."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def sightings() -> Iterator[list]:
    """The sightings made during the test; each product test asserts the list is empty."""
    with CAPTURE.expecting() as collected:
        yield collected


def places(collected: list) -> list[str]:
    return [sighting.place for sighting in collected]


# --- the capture itself ---------------------------------------------------------------


@pytest.mark.urls(__name__)
def test_capture_detects_response_body(sightings):
    response = Client().get("/leak")

    assert response.status_code == 200
    assert places(sightings) == ["response GET /leak 200"]
    assert LEAKED not in sightings[0].excerpt


@pytest.mark.urls(__name__)
def test_capture_detects_secret_split_across_chunks(sightings):
    response = Client().get("/leak-stream")
    body = b"".join(response.streaming_content)

    assert LEAKED.encode() in body
    assert places(sightings) == ["response GET /leak-stream 200 (stream)"]


@pytest.mark.urls(__name__)
def test_capture_detects_live_server_response(sightings, live_server):
    leaked = requests.get(f"{live_server.url}/leak", timeout=10)
    clean = requests.get(f"{live_server.url}/clean", timeout=10)

    assert leaked.status_code == clean.status_code == 200
    assert places(sightings) == ["response GET /leak 200"]


def test_capture_detects_log_record(sightings):
    logging.getLogger("athena.test").warning("Calling with %s", LEAKED)

    assert places(sightings) == ["log athena.test WARNING"]


def test_capture_detects_plain_text_write(sightings, workspace):
    # given a workspace secret
    secret = planted_secret("workspace-secret")
    VariableFactory(workspace=workspace, key="API_KEY", value=secret, secret=True)
    assert sightings == []

    # when its value is written to a plain column
    Variable.objects.create(workspace=workspace, key="COPY", value=secret)

    # then the write is a sighting, reported by the secret's kind
    assert places(sightings) == ["database INSERT workspaces_variable"]
    assert sightings[0].kind == "workspaces.Variable.secret_value"


def test_capture_detects_token_outside_issuing_response(sightings, owner_client):
    created = owner_client.post("/api/v1/user/tokens", {"name": "ci", "abilities": ["*"]}, format="json")
    raw = created.json()["data"]["token"]
    assert sightings == []

    logging.getLogger("athena.test").info("token %s", raw)

    assert created.status_code == 201, created.content
    assert places(sightings) == ["log athena.test INFO"]
    assert sightings[0].kind == "personal_access_token"


# --- personal access tokens ----------------------------------------------------------------


def test_secret_token_shown_once_then_never(sightings, owner_client, owner):
    # given a token created, then rotated
    created = owner_client.post("/api/v1/user/tokens", {"name": "ci", "abilities": ["*"]}, format="json")
    token_id = created.json()["data"]["token_details"]["id"]
    rotated = owner_client.post(f"/api/v1/user/tokens/{token_id}/rotate")

    # when the tokens are listed and a request uses a revoked one
    listing = owner_client.get("/api/v1/user/tokens")
    revoked = Client().get("/api/v1/user", HTTP_AUTHORIZATION=f"Bearer {created.json()['data']['token']}")

    # then only the issuing responses showed a token
    assert created.status_code == 201, created.content
    assert rotated.status_code == 201, rotated.content
    assert listing.status_code == 200, listing.content
    assert revoked.status_code == 401, revoked.content
    assert sightings == []


def test_secret_sign_in_errors_do_not_echo_password(sightings, owner):
    password = planted_secret("password")

    response = Client().post(
        "/api/v1/auth/sign-in",
        {"email": owner.email, "password": password, "token_name": "x" * 500},
        content_type="application/json",
    )

    assert response.status_code in (401, 422), response.content
    assert sightings == []


# --- provider account keys --------------------------------------------------------------


@pytest.fixture
def api_key_provider(workspace, echo_server_url):
    return ProviderFactory(
        workspace=workspace,
        key="crm",
        base_url=echo_server_url,
        authentication_config={"strategy": "api_key", "placement": "query", "name": "api_key"},
    )


@pytest.fixture
def echo_server_url() -> Iterator[str]:
    server = CountingServer().start()
    try:
        yield server.url
    finally:
        server.stop()


def test_secret_account_key_never_returned(sightings, owner_client, workspace, api_key_provider):
    key = planted_secret("account-key")

    created = owner_client.post(
        "/api/v1/accounts",
        {"provider_id": str(api_key_provider.pk), "name": "CRM", "credentials": {"api_key": key}},
        format="json",
    )
    account_id = created.json()["data"]["id"]
    listing = owner_client.get("/api/v1/accounts")
    detail = owner_client.get(f"/api/v1/accounts/{account_id}")

    assert created.status_code == 201, created.content
    assert listing.status_code == detail.status_code == 200
    assert sightings == []


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x" * 500},
        {"name": ""},
        {"name": "CRM", "provider_id": "not-a-uuid"},
        {"name": "CRM", "credentials": {"api_key": ["a list", "KEY"]}},
        {"name": "CRM", "credentials": {"api_key": "KEY", "unknown": "KEY"}},
        {"name": "CRM", "credentials": {"api_key": "KEY" + "x" * 9000}},
        {"name": "CRM", "credentials": "KEY"},
    ],
    ids=["long-name", "blank-name", "bad-provider", "key-list", "unknown-field", "long-key", "not-an-object"],
)
def test_secret_account_validation_errors_do_not_echo_key(sightings, owner_client, api_key_provider, body):
    key = planted_secret("account-key")
    body = json.loads(json.dumps({"provider_id": str(api_key_provider.pk), **body}).replace("KEY", key))

    response = owner_client.post("/api/v1/accounts", body, format="json")

    assert response.status_code == 422, response.content
    assert sightings == []


def test_secret_account_key_rejected_upstream_not_echoed(sightings, owner_client, workspace, fake_llm):
    # given an LLM account whose key the vendor rejects, echoing it in the error as some servers do
    account, model = llm_setup(workspace=workspace, base_url=fake_llm.openai_base_url)
    fake_llm.api_key = "the-right-key-0000000000"
    agent = agent_services.agent_create(
        workspace=workspace,
        user=workspace.owner,
        data={"name": "Helper", "model_id": model.pk, "account_id": account.pk},
    )

    # when the account is tested and the agent runs
    tested = owner_client.post(f"/api/v1/accounts/{account.pk}/test")
    plain = owner_client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Hi"}, format="json")

    # then the key the vendor echoed is in no response
    assert tested.status_code in (200, 502), tested.content
    assert plain.status_code == 200, plain.content
    assert plain.json()["data"]["error"]["code"] == "llm_authentication_failed"
    assert any(fake_llm.last_request.headers.get("authorization", "").endswith(key) for key in CAPTURE.stored)
    assert sightings == []


@pytest.mark.django_db(transaction=True)
def test_secret_account_key_not_in_stream_error_event(sightings, owner_client, workspace, fake_llm):
    account, model = llm_setup(workspace=workspace, base_url=fake_llm.openai_base_url)
    fake_llm.api_key = "the-right-key-0000000000"
    agent = agent_services.agent_create(
        workspace=workspace,
        user=workspace.owner,
        data={"name": "Helper", "model_id": model.pk, "account_id": account.pk},
    )

    response = owner_client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Hi", "stream": True}, format="json")
    body = b"".join(response.streaming_content).decode()

    assert "event: error" in body
    assert "llm_authentication_failed" in body
    assert sightings == []


# --- workspace secrets -------------------------------------------------------------------


def test_secret_workspace_secret_never_returned(sightings, owner_client, workspace):
    url = f"/api/v1/workspaces/{workspace.pk}/variables"
    value = planted_secret("workspace-secret")

    created = owner_client.post(url, {"key": "API_KEY", "value": value, "secret": True}, format="json")
    invalid_key = owner_client.post(url, {"key": "not a key!", "value": value, "secret": True}, format="json")
    too_long = owner_client.post(url, {"key": "OTHER", "value": value + "x" * 70_000, "secret": True}, format="json")
    listing = owner_client.get(url)
    detail = owner_client.get(f"{url}/API_KEY")

    assert created.status_code == 201, created.content
    assert invalid_key.status_code == too_long.status_code == 422
    assert listing.status_code == 200
    assert detail.status_code in (200, 405)
    assert sightings == []


# --- webhook secrets ---------------------------------------------------------------------


@pytest.fixture
def signed_hook(workspace, owner):
    workflow = workflow_create(
        workspace=workspace,
        user=owner,
        data={
            "name": "Hook",
            "nodes": [{"id": "start", "type": "trigger.webhook", "parameters": {}}],
            "edges": [],
            "webhook_secret": planted_secret("webhook-secret"),
        },
    )
    return workflow


def test_secret_webhook_secret_never_returned(sightings, owner_client, signed_hook):
    url = f"/api/v1/workflows/{signed_hook.pk}"
    value = planted_secret("webhook-secret")

    updated = owner_client.patch(url, {"webhook_secret": value}, format="json")
    too_long = owner_client.patch(url, {"webhook_secret": value + "x" * 300}, format="json")
    not_text = owner_client.patch(url, {"webhook_secret": {"value": value}}, format="json")
    detail = owner_client.get(url)
    listing = owner_client.get("/api/v1/workflows")

    assert updated.status_code == 200, updated.content
    assert too_long.status_code == not_text.status_code == 422
    assert detail.status_code == listing.status_code == 200
    assert detail.json()["data"]["webhook_signed"] is True
    assert sightings == []


def test_secret_webhook_signature_failures_do_not_leak(sightings, signed_hook, on_commit):
    url = f"/api/v1/hooks/{signed_hook.webhook_token}"
    secret = signed_hook.webhook_secret.reveal()
    body = b'{"order": 1}'
    now = str(int(time.time()))
    right = hmac.new(secret.encode(), now.encode() + b"." + body, hashlib.sha256).hexdigest()

    with on_commit():
        unsigned = Client().post(url, body, content_type="application/json")
        wrong = Client().post(
            url,
            body,
            content_type="application/json",
            HTTP_X_ATHENA_TIMESTAMP=now,
            HTTP_X_ATHENA_SIGNATURE="sha256=" + "0" * 64,
        )
        expired = Client().post(
            url,
            body,
            content_type="application/json",
            HTTP_X_ATHENA_TIMESTAMP=str(int(time.time()) - 3600),
            HTTP_X_ATHENA_SIGNATURE="sha256=" + right,
        )
        signed = Client().post(
            url,
            body,
            content_type="application/json",
            HTTP_X_ATHENA_TIMESTAMP=now,
            HTTP_X_ATHENA_SIGNATURE="sha256=" + right,
        )

    assert unsigned.status_code == wrong.status_code == expired.status_code == 401
    assert right not in wrong.content.decode()
    assert signed.status_code == 202, signed.content
    assert sightings == []


# --- execution data ------------------------------------------------------------------------


@pytest.fixture
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


def test_secret_execution_data_of_workflow_using_secrets(
    sightings, owner_client, workspace, owner, api_key_provider, echo_server_url, eager, on_commit
):
    # given a workspace secret and an account key, both sent to a server that echoes the request
    VariableFactory(workspace=workspace, key="API_KEY", secret=True)
    account = AccountFactory(
        workspace=workspace, provider=api_key_provider, credentials={"api_key": planted_secret("account-key")}
    )
    workflow = workflow_create(
        workspace=workspace,
        user=owner,
        data={
            "name": "Uses secrets",
            "nodes": [
                {"id": "start", "type": "trigger.manual", "parameters": {}},
                {
                    "id": "call",
                    "type": "http_request",
                    "parameters": {
                        "method": "POST",
                        "url": f"{echo_server_url}/echo",
                        "account": str(account.pk),
                        "body": {"key": "{{ secrets.API_KEY }}"},
                    },
                },
                {"id": "copy", "type": "set", "parameters": {"values": {"copy": "{{ secrets.API_KEY }}"}}},
                {"id": "bad", "type": "set", "parameters": {"values": {"oops": "{{ secrets.API_KEY.missing }}"}}},
            ],
            "edges": [
                {"id": "e1", "source": "start", "target": "call"},
                {"id": "e2", "source": "call", "target": "copy"},
                {"id": "e3", "source": "copy", "target": "bad"},
            ],
        },
    )

    # when it runs and its execution is read through the API
    with on_commit():
        started = owner_client.post(f"/api/v1/workflows/{workflow.pk}/run", {}, format="json")
    execution_id = started.json()["data"]["id"]
    detail = owner_client.get(f"/api/v1/workflow-executions/{execution_id}")
    listing = owner_client.get("/api/v1/workflow-executions")

    # then neither secret is in the stored runs or the responses
    assert started.status_code in (200, 201, 202), started.content
    assert detail.status_code == listing.status_code == 200
    assert detail.json()["data"]["status"] in ("succeeded", "failed"), detail.content
    assert sightings == []


# --- share links ---------------------------------------------------------------------------


def test_secret_share_link_shown_once(sightings, owner_client, workspace):
    agent = agent_services.agent_create(workspace=workspace, user=workspace.owner, data={"name": "Shared"})

    created = owner_client.post(
        f"/api/v1/agents/{agent.pk}/share", {"public": True, "permission": "run"}, format="json"
    )
    shares = owner_client.get(f"/api/v1/agents/{agent.pk}/shares")
    detail = owner_client.get(f"/api/v1/agents/{agent.pk}")
    token = created.json()["data"]["url"].rstrip("/").split("/")[-2]
    bad_input = Client().post(f"/api/v1/public/agents/{token}/run", {"input": 5}, content_type="application/json")

    assert created.status_code == 201, created.content
    assert shares.status_code == detail.status_code == 200
    assert 400 <= bad_input.status_code < 500
    assert sightings == []


# --- admin pages and exports -------------------------------------------------------------


def test_secret_admin_pages_never_show_secrets(sightings, workspace, owner, api_key_provider):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    account = AccountFactory(
        workspace=workspace, provider=api_key_provider, credentials={"api_key": planted_secret("account-key")}
    )
    oauth_provider = ProviderFactory(
        workspace=workspace,
        key="oauth",
        authentication_config={
            "strategy": "oauth2",
            "authorize_url": "https://auth.example.com/authorize",
            "token_url": "https://auth.example.com/token",
            "client_id": "client",
            "client_secret": planted_secret("client-secret"),
        },
    )
    variable = VariableFactory(workspace=workspace, key="API_KEY", secret=True)
    pages = [
        "/admin/providers/account/",
        f"/admin/providers/account/{account.pk}/change/",
        "/admin/providers/provider/",
        f"/admin/providers/provider/{oauth_provider.pk}/change/",
        "/admin/workspaces/variable/",
        f"/admin/workspaces/variable/{variable.pk}/change/",
    ]

    responses = {page: client.get(page) for page in pages}

    for page, response in responses.items():
        assert response.status_code == 200, page
    assert sightings == []


def test_secret_dumpdata_export_has_ciphertext_only(sightings, workspace, owner, api_key_provider, signed_hook):
    AccountFactory(
        workspace=workspace, provider=api_key_provider, credentials={"api_key": planted_secret("account-key")}
    )
    VariableFactory(workspace=workspace, key="API_KEY", secret=True)
    output = io.StringIO()

    call_command("dumpdata", "providers.account", "workspaces.variable", "workflows.workflow", stdout=output)

    assert '"credentials"' in output.getvalue()
    assert CAPTURE.find(output.getvalue()) == []
    assert sightings == []


def test_secret_workflow_export_and_versions_leave_secrets_out(
    sightings, owner_client, workspace, owner, api_key_provider, signed_hook
):
    # given a signed workflow whose node uses an account and a workspace secret
    VariableFactory(workspace=workspace, key="API_KEY", secret=True)
    account = AccountFactory(
        workspace=workspace, provider=api_key_provider, credentials={"api_key": planted_secret("account-key")}
    )
    nodes = [
        {"id": "start", "type": "trigger.webhook", "parameters": {}},
        {
            "id": "call",
            "type": "http_request",
            "parameters": {
                "url": "http://127.0.0.1:9/",
                "account": str(account.pk),
                "headers": {"X-Key": "{{ secrets.API_KEY }}"},
            },
        },
    ]
    edges = [{"id": "e1", "source": "start", "target": "call"}]
    workflow_update(workflow=signed_hook, user=owner, data={"nodes": nodes, "edges": edges})

    # when it is exported, its versions read and its export imported again
    exported = owner_client.get(f"/api/v1/workflows/{signed_hook.pk}/export")
    versions = owner_client.get(f"/api/v1/workflows/{signed_hook.pk}/versions")
    imported = owner_client.post("/api/v1/workflows/import", exported.json(), format="json")

    # then no secret is in any of them
    assert exported.status_code == 200, exported.content
    assert versions.status_code == 200, versions.content
    assert imported.status_code == 201, imported.content
    assert sightings == []


def test_secret_agent_http_tool_echo_redacted(
    sightings, owner_client, workspace, api_key_provider, echo_server_url, fake_llm
):
    # given an agent whose HTTP tool calls, as an account, a server that echoes the request
    account = AccountFactory(
        workspace=workspace, provider=api_key_provider, credentials={"api_key": planted_secret("account-key")}
    )
    llm_account, model = llm_setup(workspace=workspace, base_url=fake_llm.openai_base_url)
    tool = {
        "type": "http",
        "name": "lookup",
        "method": "GET",
        "url": f"{echo_server_url}/lookup",
        "account_id": str(account.pk),
        "parameters": {"type": "object", "properties": {}},
    }
    agent = agent_services.agent_create(
        workspace=workspace,
        user=workspace.owner,
        data={"name": "Tools", "model_id": model.pk, "account_id": llm_account.pk, "tools": [tool]},
    )
    fake_llm.reply(tool_calls=[{"name": "lookup", "arguments": {}}])
    fake_llm.reply("Done.")

    # when the agent runs the tool
    response = owner_client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Look it up."}, format="json")

    # then the echoed key is neither stored, shown nor sent to the model
    assert response.status_code == 200, response.content
    assert response.json()["data"]["steps"][0]["result"]["status"] == 200
    sent_to_model = json.dumps(fake_llm.last_request.body)
    assert PLANTED_MARKER not in sent_to_model
    assert sightings == []
