"""The `agent` and `prompt` nodes and the `workflow` agent tool, against the fake LLM on 127.0.0.1."""

import json
from decimal import Decimal

import pytest

from agents import services as agent_services
from agents.models import AgentRun
from athena_site.api.errors import ValidationFailed
from providers.llm import gateway
from tests.agents.factories import llm_setup
from tests.providers.factories import LargeLanguageModelFactory
from tests.workflows.conftest import chain, node, node_runs, trigger
from workflows.models import WorkflowExecution
from workflows.validation import validate_graph


@pytest.fixture(autouse=True)
def no_gateway_sleep(monkeypatch):
    """The gateway's retry backoff is skipped, so upstream failures stay fast."""
    monkeypatch.setattr(gateway, "_sleep", lambda seconds: None)


@pytest.fixture
def llm(workspace, fake_llm):
    """The fake OpenAI-compatible provider's (account, model) in the workspace."""
    return llm_setup(workspace=workspace, base_url=fake_llm.openai_base_url)


@pytest.fixture
def make_agent(workspace, owner, llm):
    account, model = llm

    def create(**fields):
        data = {"name": "Support", "model_id": model.pk, "account_id": account.pk, **fields}
        return agent_services.agent_create(workspace=workspace, user=owner, data=data)

    return create


@pytest.fixture
def make_prompt(workspace, owner, llm):
    account, model = llm

    def create(**fields):
        data = {
            "name": "Greeting",
            "template": "Write a greeting for {{ name }} in {{ language }}.",
            "variables": [{"name": "name"}, {"name": "language", "default": "English"}],
            "model_id": model.pk,
            "account_id": account.pk,
            **fields,
        }
        return agent_services.prompt_create(workspace=workspace, user=owner, data=data)

    return create


def _tool_messages(request) -> list[dict]:
    return [message for message in request.body["messages"] if message["role"] == "tool"]


# --- the agent node -------------------------------------------------------------------------


def test_agent_node_records_workflow_run(make_workflow, run_workflow, make_agent, fake_llm):
    agent = make_agent(instructions="You answer for {{ company }}.")
    fake_llm.reply("Order 7 shipped.", input_tokens=100, output_tokens=20)
    workflow = make_workflow(
        [
            trigger(),
            node(
                "support",
                "agent",
                parameters={
                    "agent": agent.slug,
                    "input": "Where is order {{ input.id }}?",
                    "variables": {"company": "Acme"},
                },
            ),
        ],
        chain("start", "support"),
    )

    execution = run_workflow(workflow, {"id": 7})

    assert execution.status == "succeeded", execution.error
    run = node_runs(execution)["support"]
    agent_run = AgentRun.objects.get()
    assert run.output == {
        "output": "Order 7 shipped.",
        "status": "succeeded",
        "usage": {"input_tokens": 100, "output_tokens": 20},
        "cost": "0.000360",
        "run_id": str(agent_run.pk),
    }
    assert agent_run.source == "workflow"
    assert agent_run.input == "Where is order 7?"
    assert run.prompt_tokens == 100
    assert run.completion_tokens == 20
    # 100 * $2 / 1M + 20 * $8 / 1M
    assert run.cost == Decimal("0.00036")
    assert fake_llm.last_request.body["messages"] == [
        {"role": "system", "content": "You answer for Acme."},
        {"role": "user", "content": "Where is order 7?"},
    ]


def test_agent_node_id_limit_failure(make_workflow, run_workflow, make_agent, fake_llm):
    agent = make_agent(tools=[{"type": "memory_search"}], limits={"max_steps": 1})
    fake_llm.reply(tool_calls=[{"name": "memory_search", "arguments": {"query": "orders"}}])
    workflow = make_workflow(
        [trigger(), node("support", "agent", parameters={"agent": str(agent.pk), "input": "Look it up."})],
        chain("start", "support"),
    )

    execution = run_workflow(workflow, {})

    assert execution.status == "failed"
    assert execution.error["code"] == "agent_limit_exceeded"
    error = node_runs(execution)["support"].error
    assert error["code"] == "agent_limit_exceeded"
    assert error["details"]["limit"] == "max_steps"
    agent_run = AgentRun.objects.get()
    assert error["details"]["run_id"] == str(agent_run.pk)
    assert (agent_run.source, agent_run.status) == ("workflow", "failed")


def test_agent_node_upstream_failure_code(make_workflow, run_workflow, make_agent, fake_llm):
    agent = make_agent()
    fake_llm.fail("context_too_long")
    workflow = make_workflow(
        [trigger(), node("support", "agent", parameters={"agent": agent.slug, "input": "Hi"})],
        chain("start", "support"),
    )

    execution = run_workflow(workflow, {})

    assert execution.status == "failed"
    assert execution.error["code"] == "llm_context_too_long"
    assert node_runs(execution)["support"].attempts == 1


def test_agent_node_unknown_agent_missing_variable(make_workflow, run_workflow, make_agent, fake_llm):
    make_agent(instructions="You answer for {{ company }}.")
    unknown = make_workflow(
        [trigger(), node("support", "agent", parameters={"agent": "nobody", "input": "Hi"})], chain("start", "support")
    )
    missing = make_workflow(
        [trigger(), node("support", "agent", parameters={"agent": "support", "input": "Hi"})], chain("start", "support")
    )

    first, second = run_workflow(unknown, {}), run_workflow(missing, {})

    assert first.status == "failed"
    assert first.error["message"] == "Agent 'nobody' does not exist in this workspace."
    assert second.status == "failed"
    assert "company" in second.error["message"]
    assert fake_llm.requests == []
    assert not AgentRun.objects.exists()


def test_agent_prompt_parameters_validated():
    graph_nodes = [
        trigger(),
        node("a", "agent", parameters={"agent": "support"}),
        node("p", "prompt", parameters={"prompt": "0f3e", "account": "x"}),
    ]
    _, _, errors = validate_graph(graph_nodes, chain("start", "a", "p"))

    assert any("input" in message for message in errors["nodes.a.parameters"])
    assert "nodes.p.parameters.account" in errors


# --- the prompt node ------------------------------------------------------------------------


def test_prompt_node_records_usage(make_workflow, run_workflow, make_prompt, fake_llm):
    prompt = make_prompt()
    fake_llm.reply("Hello Ada!", input_tokens=50, output_tokens=10)
    workflow = make_workflow(
        [
            trigger(),
            node("greet", "prompt", parameters={"prompt": str(prompt.pk), "variables": {"name": "{{ input.name }}"}}),
        ],
        chain("start", "greet"),
    )

    execution = run_workflow(workflow, {"name": "Ada"})

    assert execution.status == "succeeded", execution.error
    run = node_runs(execution)["greet"]
    assert run.output["output"] == "Hello Ada!"
    assert run.output["rendered"] == "Write a greeting for Ada in English."
    assert run.output["prompt_id"] == str(prompt.pk)
    assert run.output["version"] == 1
    assert run.output["usage"] == {"input_tokens": 50, "output_tokens": 10}
    assert (run.prompt_tokens, run.completion_tokens) == (50, 10)
    # 50 * $2 / 1M + 10 * $8 / 1M
    assert run.cost == Decimal("0.00018")
    assert fake_llm.last_request.body["messages"] == [
        {"role": "user", "content": "Write a greeting for Ada in English."}
    ]


@pytest.mark.parametrize(
    ("variables", "named"),
    [({}, "The required variable 'name' is missing."), ({"name": "Ada", "tone": "warm"}, "'tone' is not declared")],
)
def test_prompt_node_bad_variable_named(make_workflow, run_workflow, make_prompt, fake_llm, variables, named):
    prompt = make_prompt()
    workflow = make_workflow(
        [trigger(), node("greet", "prompt", parameters={"prompt": str(prompt.pk), "variables": variables})],
        chain("start", "greet"),
    )

    execution = run_workflow(workflow, {})

    assert execution.status == "failed"
    assert named in execution.error["message"]
    assert execution.error["code"] == "validation_error"
    assert fake_llm.requests == []


def test_prompt_node_model_override(make_workflow, run_workflow, make_prompt, llm, fake_llm):
    _account, model = llm
    other = LargeLanguageModelFactory(provider=model.provider, workspace=model.workspace, model="fake-large")
    prompt = make_prompt()
    workflow = make_workflow(
        [
            trigger(),
            node(
                "greet",
                "prompt",
                parameters={"prompt": str(prompt.pk), "variables": {"name": "Ada"}, "model_id": str(other.pk)},
            ),
        ],
        chain("start", "greet"),
    )

    execution = run_workflow(workflow, {})

    assert execution.status == "succeeded", execution.error
    assert fake_llm.last_request.body["model"] == "fake-large"


def test_prompt_node_unknown_prompt(make_workflow, run_workflow):
    workflow = make_workflow(
        [trigger(), node("greet", "prompt", parameters={"prompt": "0f3e0000-0000-4000-8000-000000000000"})],
        chain("start", "greet"),
    )

    execution = run_workflow(workflow, {})

    assert execution.status == "failed"
    assert "does not exist in this workspace" in execution.error["message"]


# --- the workflow tool ----------------------------------------------------------------------


def _run_agent(agent, text: str = "Greet Ada.") -> dict:
    prepared = agent_services.agent_run_prepare(agent=agent, input=text, source="api")
    summary: dict = {}
    for event in agent_services.agent_run_execute(prepared=prepared):
        if event.type == "done":
            summary = event.data
    return summary


def test_workflow_tool_result_sent_to_model(make_workflow, make_agent, fake_llm):
    workflow = make_workflow(
        [trigger(), node("shape", "set", parameters={"values": {"greeting": "Hello {{ input.who }}"}})],
        chain("start", "shape"),
    )
    agent = make_agent(tools=[{"type": "workflow", "workflow_id": str(workflow.pk), "name": "greet"}])
    fake_llm.reply(tool_calls=[{"name": "greet", "arguments": {"who": "Ada"}}])
    fake_llm.reply("I greeted Ada.")

    summary = _run_agent(agent)

    assert summary["status"] == "succeeded", summary["error"]
    assert summary["output"] == "I greeted Ada."
    execution = WorkflowExecution.objects.get(workflow=workflow)
    assert (execution.mode, execution.status) == ("agent", "succeeded")
    assert execution.trigger_payload["body"] == {"who": "Ada"}
    result = {"execution_id": str(execution.pk), "status": "succeeded", "output": {"greeting": "Hello Ada"}}
    assert summary["steps"][0]["result"] == result
    tool_messages = _tool_messages(fake_llm.requests[1])
    assert [json.loads(message["content"]) for message in tool_messages] == [result]
    tool = fake_llm.requests[0].body["tools"][0]["function"]
    assert tool["name"] == "greet"
    assert tool["description"] == "Run the workflow 'Flow'."


def test_workflow_tool_webhook_body(make_workflow, make_agent, fake_llm):
    workflow = make_workflow(
        [
            trigger(),
            node("reply", "respond_to_webhook", parameters={"body": {"ticket": "{{ input.subject }}"}}),
            node("after", "set", parameters={"values": {"ignored": True}}),
        ],
        chain("start", "reply", "after"),
    )
    agent = make_agent(tools=[{"type": "workflow", "workflow_id": str(workflow.pk)}])
    fake_llm.reply(tool_calls=[{"name": "flow", "arguments": {"subject": "Printer"}}])

    summary = _run_agent(agent)

    assert summary["steps"][0]["result"]["output"] == {"ticket": "Printer"}


def test_workflow_tool_failure_message(make_workflow, make_agent, fake_llm):
    workflow = make_workflow(
        [trigger(), node("shape", "set", parameters={"values": {"x": "{{ input.missing.deeper }}"}})],
        chain("start", "shape"),
    )
    agent = make_agent(tools=[{"type": "workflow", "workflow_id": str(workflow.pk), "name": "broken"}])
    fake_llm.reply(tool_calls=[{"name": "broken", "arguments": {}}])
    fake_llm.reply("The workflow failed, sorry.")

    summary = _run_agent(agent)

    assert summary["status"] == "succeeded"
    assert summary["steps"][0]["error"].startswith("The workflow failed: Expression")
    error = json.loads(_tool_messages(fake_llm.requests[1])[0]["content"])["error"]
    assert error.startswith("The workflow failed")
    assert WorkflowExecution.objects.get(workflow=workflow).status == "failed"


def test_workflow_tool_config_validated(make_agent, make_workflow):
    workflow = make_workflow([trigger()], [])
    with pytest.raises(ValidationFailed) as raised:
        make_agent(tools=[{"type": "workflow", "workflow_id": "0f3e0000-0000-4000-8000-000000000000"}])
    assert raised.value.errors == {"tools.0": ["workflow_id: no such workflow in this workspace."]}
    with pytest.raises(ValidationFailed) as raised:
        make_agent(tools=[{"type": "workflow", "workflow_id": str(workflow.pk), "timeout_seconds": 0}])
    assert "timeout_seconds" in raised.value.errors["tools.0"][0]

    agent = make_agent(tools=[{"type": "workflow", "workflow_id": str(workflow.pk)}])
    assert agent.tools == [
        {
            "type": "workflow",
            "workflow_id": str(workflow.pk),
            "name": "flow",
            "description": "Run the workflow 'Flow'.",
            "parameters": {"type": "object", "properties": {}, "additionalProperties": True},
            "timeout_seconds": 30.0,
        }
    ]


def test_workflow_tool_depth_limit(make_workflow, run_workflow, make_agent, fake_llm, settings):
    settings.WORKFLOWS_MAX_SUB_WORKFLOW_DEPTH = 2
    workflow = make_workflow([trigger()], [])
    agent = make_agent(tools=[{"type": "workflow", "workflow_id": str(workflow.pk), "name": "again"}])
    from workflows.services.workflows import workflow_update

    workflow = workflow_update(
        workflow=workflow,
        user=None,
        data={
            "nodes": [trigger(), node("think", "agent", parameters={"agent": agent.slug, "input": "Go"})],
            "edges": chain("start", "think"),
        },
    )
    # Each level's agent requests the tool once. The third call is rejected, then the model replies.
    for _ in range(3):
        fake_llm.reply(tool_calls=[{"name": "again", "arguments": {}}])

    execution = run_workflow(workflow, {})

    assert execution.status == "succeeded", execution.error
    depths = sorted(WorkflowExecution.objects.values_list("depth", flat=True))
    assert depths == [0, 1, 2]
    errors = [step["error"] for run in AgentRun.objects.all() for step in run.steps if step["error"]]
    assert len(errors) == 1
    assert "nest deeper than the limit of 2" in errors[0]
    assert AgentRun.objects.filter(source="workflow", status="succeeded").count() == 3
