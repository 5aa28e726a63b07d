"""Agent runs against the fake LLM server: messages sent, tool loops, limits and upstream failures."""

import json
from decimal import Decimal

import pytest

from agents import services
from agents.models import AgentRun
from agents.tools.registry import BoundTool, register_tool_type, unregister_tool_type

pytestmark = pytest.mark.django_db

CHAT = "/v1/chat/completions"


def run(client, agent, **body):
    return client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Hello", "variables": {"company": "Acme"}, **body})


def test_run_sends_instructions_and_input(owner_client, agent, fake_llm):
    # given
    fake_llm.reply("Hi there.", input_tokens=1000, output_tokens=500)

    # when
    response = run(owner_client, agent)

    # then
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["status"] == "succeeded"
    assert data["output"] == "Hi there."
    assert data["usage"] == {"input_tokens": 1000, "output_tokens": 500}
    assert Decimal(data["cost"]) == Decimal("0.006")
    sent = fake_llm.calls_to(CHAT)[0].body["messages"]
    assert sent[0] == {"role": "system", "content": "You are a helpful assistant for Acme."}
    assert sent[-1] == {"role": "user", "content": "Hello"}
    stored = AgentRun.objects.get(pk=data["run_id"])
    assert stored.source == "api"
    assert stored.status == "succeeded"
    assert stored.output == "Hi there."


def test_run_with_prior_messages_sends_them_in_order(owner_client, agent, fake_llm):
    prior = [{"role": "user", "content": "My name is Ada."}, {"role": "assistant", "content": "Hello Ada."}]

    response = run(owner_client, agent, input="What is my name?", messages=prior)

    assert response.status_code == 200, response.content
    sent = fake_llm.last_request.body["messages"]
    assert sent[1:] == [*prior, {"role": "user", "content": "What is my name?"}]


def test_run_missing_instruction_variable_is_422(owner_client, agent, fake_llm):
    response = owner_client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Hello"})

    assert response.status_code == 422, response.content
    assert "company" in json.dumps(response.json()["errors"])
    assert fake_llm.requests == []
    assert AgentRun.objects.count() == 0


def test_run_sends_memories_and_examples(owner_client, agent, workspace, fake_llm):
    # given a fact and an example of the agent
    services.memory_create(
        workspace_id=workspace.pk, data={"agent": agent, "content": "Refunds take five business days."}
    )
    services.memory_create(
        workspace_id=workspace.pk,
        data={
            "agent": agent,
            "kind": "example",
            "content": "Hi\nHello!",
            "metadata": {"input": "Hi", "output": "Hello!"},
        },
    )

    # when
    response = run(owner_client, agent, input="How long do refunds take?")

    # then
    assert response.status_code == 200, response.content
    sent = fake_llm.last_request.body["messages"]
    assert "Refunds take five business days." in sent[0]["content"]
    assert sent[1:3] == [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]


def test_run_two_step_tool_loop(owner_client, make_agent, workspace, fake_llm):
    # given an agent with memory tools, and a model that saves a memory, then searches, then answers
    agent = make_agent(tools=[{"type": "memory_save"}, {"type": "memory_search"}])
    fake_llm.reply(tool_calls=[{"name": "memory_save", "arguments": {"content": "The sky is green here."}}])
    fake_llm.reply(tool_calls=[{"name": "memory_search", "arguments": {"query": "sky"}}])
    fake_llm.reply("The sky is green.")

    # when
    response = owner_client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Remember and recall."})

    # then
    data = response.json()["data"]
    assert data["status"] == "succeeded", data
    assert [step["tool"] for step in data["steps"]] == ["memory_save", "memory_search"]
    assert data["steps"][1]["result"][0]["content"] == "The sky is green here."
    calls = fake_llm.calls_to(CHAT)
    assert len(calls) == 3
    assert {tool["function"]["name"] for tool in calls[0].body["tools"]} == {"memory_save", "memory_search"}
    tool_message = calls[2].body["messages"][-1]
    assert tool_message["role"] == "tool"
    assert "The sky is green here." in tool_message["content"]


def test_run_invalid_tool_arguments_go_back_to_model(owner_client, make_agent, fake_llm):
    agent = make_agent(tools=[{"type": "memory_search"}])
    fake_llm.reply(tool_calls=[{"name": "memory_search", "arguments": {"limit": "many"}}])
    fake_llm.reply("Sorry.")

    response = owner_client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Search."})

    data = response.json()["data"]
    assert data["status"] == "succeeded"
    assert "query" in data["steps"][0]["error"]
    assert "error" in json.loads(fake_llm.last_request.body["messages"][-1]["content"])


def test_run_registered_tool_type_error_is_reported(owner_client, make_agent, fake_llm):
    # given a tool type another app would register, which fails
    def build(config, context):
        def explode(arguments):
            raise RuntimeError("boom")

        return [BoundTool("explode", "Fails.", {"type": "object", "properties": {}}, explode)]

    register_tool_type("exploding", build=build)
    try:
        agent = make_agent(tools=[{"type": "exploding"}])
        fake_llm.reply(tool_calls=[{"name": "explode", "arguments": {}}])
        fake_llm.reply("It failed.")

        response = owner_client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Go."})
    finally:
        unregister_tool_type("exploding")

    data = response.json()["data"]
    assert data["status"] == "succeeded"
    assert data["steps"][0]["error"] == "The tool failed unexpectedly."


def test_run_http_tool_calls_url(owner_client, make_agent, fake_llm):
    # given an HTTP tool aimed at the fake server's models route
    agent = make_agent(
        tools=[
            {
                "type": "http",
                "name": "list_models",
                "method": "GET",
                "url": f"{fake_llm.openai_base_url}/{{resource}}",
                "parameters": {"type": "object", "properties": {"resource": {"type": "string"}}},
            }
        ]
    )
    fake_llm.reply(tool_calls=[{"name": "list_models", "arguments": {"resource": "models"}}])
    fake_llm.reply("Two models.")

    # when
    response = owner_client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Which models?"})

    # then
    step = response.json()["data"]["steps"][0]
    assert step["result"]["status"] == 200
    assert fake_llm.calls_to("/v1/models")


@pytest.mark.parametrize(
    ("limits", "limit"),
    [
        ({"max_steps": 1}, "max_steps"),
        ({"max_tokens": 10}, "max_tokens"),
        ({"max_cost": "0.00001"}, "max_cost"),
    ],
)
def test_run_limit_fails_run_naming_limit(owner_client, make_agent, fake_llm, limits, limit):
    agent = make_agent(tools=[{"type": "memory_search"}], limits=limits)
    fake_llm.reply(tool_calls=[{"name": "memory_search", "arguments": {"query": "x"}}], input_tokens=20)
    fake_llm.reply("Done.")

    response = owner_client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Go."})

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["status"] == "failed"
    assert data["error"]["code"] == "agent_limit_exceeded"
    assert data["error"]["limit"] == limit
    assert AgentRun.objects.get(pk=data["run_id"]).error["limit"] == limit


def test_run_max_seconds_limit(owner_client, make_agent, fake_llm):
    agent = make_agent(limits={"max_seconds": 1})
    fake_llm.fail("slow", delay=2)

    response = owner_client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Go."})

    data = response.json()["data"]
    assert data["status"] == "failed"
    assert data["error"]["limit"] == "max_seconds"


@pytest.mark.parametrize(
    ("failure", "code"), [("rate_limit", "llm_rate_limited"), ("server_error", "llm_upstream_unavailable")]
)
def test_run_upstream_failure_is_failed_run(owner_client, make_agent, fake_llm, failure, code):
    agent = make_agent()
    for _ in range(3):
        fake_llm.fail(failure)

    response = owner_client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Go."})

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["status"] == "failed"
    assert data["error"]["code"] == code


def test_run_oversized_input_is_422(owner_client, agent, settings):
    settings.ATHENA_AGENT_MAX_INPUT_CHARS = 10

    response = run(owner_client, agent, input="x" * 11)

    assert response.status_code == 422, response.content
    assert "input" in response.json()["errors"]


def test_run_without_model_is_422(owner_client, make_agent):
    agent = make_agent(model_id=None, account_id=None)

    response = owner_client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Hi"})

    assert response.status_code == 422, response.content
    assert response.json()["code"] == "agent_not_configured"


def test_run_sends_sampling_settings(owner_client, agent, fake_llm):
    agent.temperature = 0.2
    agent.top_p = 0.9
    agent.save(update_fields=["temperature", "top_p"])
    fake_llm.reply("Sure.")

    response = run(owner_client, agent)

    assert response.status_code == 200, response.content
    body = fake_llm.calls_to(CHAT)[0].body
    assert body["temperature"] == 0.2
    assert body["top_p"] == 0.9


def test_run_omits_unset_sampling_settings(owner_client, agent, fake_llm):
    fake_llm.reply("Sure.")

    run(owner_client, agent)

    body = fake_llm.calls_to(CHAT)[0].body
    assert "temperature" not in body
    assert "top_p" not in body
