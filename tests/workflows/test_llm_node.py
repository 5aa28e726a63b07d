"""The `llm` node against the fake OpenAI and Anthropic servers on 127.0.0.1."""

import secrets
from decimal import Decimal

import pytest

from tests.factories import WorkspaceFactory
from tests.providers.factories import AccountFactory, LargeLanguageModelFactory, ProviderFactory
from tests.workflows.conftest import chain, node, node_runs, trigger
from workflows.services.executions import execution_retry
from workflows.validation import validate_graph


@pytest.fixture
def openai_model(workspace, fake_llm):
    key = "sk-test-" + secrets.token_urlsafe(24)
    fake_llm.api_key = key
    provider = ProviderFactory(
        workspace=workspace, key="local-llm", kind="llm", llm_protocol="openai", base_url=fake_llm.openai_base_url
    )
    account = AccountFactory(provider=provider, workspace=workspace, credentials={"token": key})
    model = LargeLanguageModelFactory(
        provider=provider,
        workspace=workspace,
        model="fake-chat",
        input_price_per_million="2",
        output_price_per_million="10",
    )
    return model, account


@pytest.fixture
def anthropic_model(workspace, fake_llm):
    key = "sk-ant-test-" + secrets.token_urlsafe(24)
    fake_llm.api_key = key
    provider = ProviderFactory(
        workspace=workspace,
        key="claude",
        kind="llm",
        llm_protocol="anthropic",
        base_url=fake_llm.anthropic_base_url,
        authentication_config={"strategy": "api_key", "placement": "header", "name": "x-api-key", "prefix": ""},
    )
    account = AccountFactory(provider=provider, workspace=workspace, credentials={"api_key": key})
    model = LargeLanguageModelFactory(
        provider=provider,
        workspace=workspace,
        model="claude-fake",
        input_price_per_million="3",
        output_price_per_million="15",
    )
    return model, account


def _llm(model, account=None, **parameters):
    parameters = {"model_id": str(model.pk), **parameters}
    if account is not None:
        parameters["account"] = str(account.pk)
    return node("ask", "llm", parameters=parameters)


def test_llm_prompt_template_records_usage_and_cost(make_workflow, run_workflow, openai_model, fake_llm):
    model, account = openai_model
    fake_llm.reply("Paris.", input_tokens=1000, output_tokens=500)
    workflow = make_workflow(
        [trigger(), _llm(model, account, prompt="Capital of {{ input.country }}?", system="Answer in one word.")],
        chain("start", "ask"),
    )

    execution = run_workflow(workflow, {"country": "France"})

    assert execution.status == "succeeded", execution.error
    run = node_runs(execution)["ask"]
    assert run.output["text"] == "Paris."
    assert run.output["usage"] == {"input_tokens": 1000, "output_tokens": 500}
    assert run.prompt_tokens == 1000
    assert run.completion_tokens == 500
    # 1000 * $2 / 1M + 500 * $10 / 1M
    assert run.cost == Decimal("0.007")
    assert fake_llm.last_request.body["messages"] == [
        {"role": "system", "content": "Answer in one word."},
        {"role": "user", "content": "Capital of France?"},
    ]


def test_llm_messages_with_json_response_format(make_workflow, run_workflow, openai_model, fake_llm):
    model, account = openai_model
    fake_llm.reply('{"sentiment": "positive"}')
    messages = [
        {"role": "system", "content": "Classify the sentiment."},
        {"role": "user", "content": "{{ input.review }}"},
    ]
    workflow = make_workflow(
        [trigger(), _llm(model, account, messages=messages, response_format="json", max_tokens=50)],
        chain("start", "ask"),
    )

    execution = run_workflow(workflow, {"review": "Great printer."})

    assert execution.status == "succeeded", execution.error
    assert node_runs(execution)["ask"].output["json"] == {"sentiment": "positive"}
    body = fake_llm.last_request.body
    assert body["messages"][1] == {"role": "user", "content": "Great printer."}
    assert body["response_format"] == {"type": "json_object"}
    assert body["max_tokens"] == 50


def test_llm_messages_from_one_expression(make_workflow, run_workflow, openai_model, fake_llm):
    model, account = openai_model
    workflow = make_workflow(
        [trigger(), _llm(model, account, messages="{{ input.conversation }}")], chain("start", "ask")
    )

    execution = run_workflow(workflow, {"conversation": [{"role": "user", "content": "Hi"}]})

    assert execution.status == "succeeded", execution.error
    assert fake_llm.last_request.body["messages"] == [{"role": "user", "content": "Hi"}]


def test_llm_anthropic_default_account(make_workflow, run_workflow, anthropic_model, fake_llm):
    model, _account = anthropic_model
    fake_llm.reply("Bonjour.", input_tokens=100, output_tokens=20)
    workflow = make_workflow([trigger(), _llm(model, prompt="Say hello in French.")], chain("start", "ask"))

    execution = run_workflow(workflow, {})

    assert execution.status == "succeeded", execution.error
    run = node_runs(execution)["ask"]
    assert run.output["text"] == "Bonjour."
    assert run.cost == Decimal("0.0006")
    assert fake_llm.last_request.path == "/v1/messages"


def test_llm_gateway_error_code_fails_node(make_workflow, run_workflow, openai_model, fake_llm):
    model, account = openai_model
    fake_llm.fail("context_too_long")
    llm = _llm(model, account, prompt="A very long prompt")
    # A context that is too long is not retryable, so the node's retry setting does not apply.
    llm["retry"] = {"max_attempts": 3, "backoff_seconds": 0}
    workflow = make_workflow([trigger(), llm], chain("start", "ask"))

    execution = run_workflow(workflow, {})

    assert execution.status == "failed"
    assert execution.error["code"] == "llm_context_too_long"
    assert execution.error["node_id"] == "ask"
    run = node_runs(execution)["ask"]
    assert run.error["code"] == "llm_context_too_long"
    assert run.attempts == 1
    assert len(fake_llm.calls_to("/v1/chat/completions")) == 1


def test_llm_rate_limit_is_retryable_through_resume_at(make_workflow, run_workflow, openai_model, fake_llm):
    model, account = openai_model
    # A Retry-After beyond the gateway's wait cap is returned at once rather than slept on.
    fake_llm.fail("rate_limit", retry_after=120)
    llm = _llm(model, account, prompt="Hi")
    llm["retry"] = {"max_attempts": 2, "backoff_seconds": 30}
    workflow = make_workflow([trigger(), llm], chain("start", "ask"))

    execution = run_workflow(workflow, {})

    assert execution.status == "waiting"
    run = node_runs(execution)["ask"]
    assert run.status == "pending"
    assert run.error["code"] == "llm_rate_limited"


def test_llm_invalid_json_reply_fails_node(make_workflow, run_workflow, openai_model, fake_llm):
    model, account = openai_model
    fake_llm.reply("not json at all")
    workflow = make_workflow(
        [trigger(), _llm(model, account, prompt="JSON please", response_format={"type": "json_object"})],
        chain("start", "ask"),
    )

    execution = run_workflow(workflow, {})

    assert execution.status == "failed"
    assert execution.error["code"] == "llm_invalid_json"


def test_llm_model_of_another_workspace_is_not_found(make_workflow, run_workflow, fake_llm):
    other = WorkspaceFactory(name="Other team")
    provider = ProviderFactory(workspace=other, kind="llm", llm_protocol="openai", base_url=fake_llm.openai_base_url)
    foreign_model = LargeLanguageModelFactory(provider=provider, workspace=other, model="fake-chat")
    workflow = make_workflow([trigger(), _llm(foreign_model, prompt="Hi")], chain("start", "ask"))

    execution = run_workflow(workflow, {})

    assert execution.status == "failed"
    assert "does not exist in this workspace" in execution.error["message"]
    assert fake_llm.requests == []


def test_llm_retry_does_not_call_model_again(
    make_workflow, run_workflow, openai_model, fake_llm, http_server, owner, on_commit
):
    model, account = openai_model
    http_server.statuses["/store"] = [500]
    workflow = make_workflow(
        [
            trigger(),
            _llm(model, account, prompt="Summarise {{ input.text }}"),
            node("store", "http_request", parameters={"method": "POST", "url": f"{http_server.url}/store"}),
        ],
        chain("start", "ask", "store"),
    )
    failed = run_workflow(workflow, {"text": "a long report"})
    assert failed.status == "failed"

    with on_commit():
        retry = execution_retry(execution=failed, user=owner)
    retry.refresh_from_db()

    assert retry.status == "succeeded", retry.error
    assert node_runs(retry)["ask"].reused is True
    assert len(fake_llm.calls_to("/v1/chat/completions")) == 1
    assert http_server.count("/store") == 2


def test_llm_validation_names_node_and_field():
    errors = validate_graph(
        [
            trigger(),
            node("no_model", "llm", parameters={"prompt": "Hi"}),
            node(
                "both",
                "llm",
                parameters={"model_id": "m", "prompt": "Hi", "messages": [{"role": "user", "content": "Hi"}]},
            ),
            node("bad_role", "llm", parameters={"model_id": "m", "messages": [{"role": "robot", "content": "Hi"}]}),
            node("bad_format", "llm", parameters={"model_id": "m", "prompt": "Hi", "response_format": "yaml"}),
        ],
        [],
    )[2]

    assert "nodes.no_model.parameters" in errors
    assert "nodes.both.parameters" in errors
    assert any(key.startswith("nodes.bad_role.parameters.messages") for key in errors)
    assert any(key.startswith("nodes.bad_format.parameters.response_format") for key in errors)


def test_llm_sends_sampling_settings(make_workflow, run_workflow, openai_model, fake_llm):
    model, account = openai_model
    nodes = [trigger(), _llm(model, account, prompt="Hi", temperature=0.2, top_p=0.5)]

    errors = validate_graph(nodes, chain("start", "ask"))[2]
    execution = run_workflow(make_workflow(nodes, chain("start", "ask")), {})

    assert errors == {}
    assert execution.status == "succeeded", execution.error
    assert fake_llm.last_request.body["temperature"] == 0.2
    assert fake_llm.last_request.body["top_p"] == 0.5
