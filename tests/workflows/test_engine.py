"""The engine: node types, branching, loops, retries, waits, timeouts and cancel."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import VariableFactory
from tests.workflows.conftest import chain, edge, node, node_runs, trigger
from workflows.models import WorkflowExecution
from workflows.services.executions import execution_cancel, execution_resume, executions_resume_due


def _resume_due(on_commit) -> None:
    WorkflowExecution.objects.filter(status="waiting").update(resume_at=timezone.now() - timedelta(seconds=1))
    with on_commit():
        executions_resume_due()


def test_engine_set_template_transform_chain(make_workflow, run_workflow):
    workflow = make_workflow(
        [
            trigger(),
            node("set", "set", parameters={"values": {"name": "{{ input.user }}", "count": "{{ input.n * 2 }}"}}),
            node("greet", "template", parameters={"template": "Hello {{ input.name }} x{{ input.count }}"}),
            node("pick", "transform", parameters={"expression": "items[?ok].id", "source": "{{ trigger.body }}"}),
        ],
        chain("start", "set", "greet", "pick"),
    )

    execution = run_workflow(
        workflow, {"user": "Ada", "n": 21, "items": [{"id": 1, "ok": True}, {"id": 2, "ok": False}]}
    )

    assert execution.status == "succeeded", execution.error
    runs = node_runs(execution)
    assert runs["set"].output == {"name": "Ada", "count": 42}
    assert runs["greet"].output == "Hello Ada x42"
    assert execution.output == [1]


def test_engine_condition_skips_untaken_branch_and_merge_combines(make_workflow, run_workflow):
    workflow = make_workflow(
        [
            trigger(),
            node(
                "check",
                "condition",
                parameters={"conditions": [{"left": "{{ input.n }}", "operator": "greater_than", "right": 5}]},
            ),
            node("big", "set", parameters={"values": {"size": "big"}}),
            node("small", "set", parameters={"values": {"size": "small"}}),
            node("after_small", "noop"),
            node("join", "merge", parameters={"mode": "object"}),
        ],
        [
            edge("start", "check"),
            edge("check", "big", "true"),
            edge("check", "small", "false"),
            edge("small", "after_small"),
            edge("big", "join"),
            edge("after_small", "join"),
        ],
    )

    execution = run_workflow(workflow, {"n": 9})

    runs = node_runs(execution)
    assert execution.status == "succeeded", execution.error
    assert runs["check"].output == {"n": 9}
    assert runs["small"].status == "skipped"
    assert runs["after_small"].status == "skipped"
    assert runs["join"].output == {"big": {"size": "big"}}


def test_engine_switch_takes_case_or_default(make_workflow, run_workflow):
    workflow = make_workflow(
        [
            trigger(),
            node(
                "route",
                "switch",
                parameters={"value": "{{ input.kind }}", "cases": [{"handle": "bug", "value": "bug"}]},
            ),
            node("bug", "noop"),
            node("other", "noop"),
        ],
        [edge("start", "route"), edge("route", "bug", "bug"), edge("route", "other", "default")],
    )

    bug = node_runs(run_workflow(workflow, {"kind": "bug"}))
    other = node_runs(run_workflow(workflow, {"kind": "idea"}))

    assert (bug["bug"].status, bug["other"].status) == ("succeeded", "skipped")
    assert (other["bug"].status, other["other"].status) == ("skipped", "succeeded")


def test_engine_disabled_node_passes_input_through(make_workflow, run_workflow):
    workflow = make_workflow(
        [trigger(), node("off", "set", disabled=True, parameters={"values": {"x": 1}}), node("end", "noop")],
        chain("start", "off", "end"),
    )

    execution = run_workflow(workflow, {"a": 1})

    runs = node_runs(execution)
    assert runs["off"].status == "skipped"
    assert runs["end"].output == {"a": 1}


def test_engine_loop_runs_body_per_item(make_workflow, run_workflow):
    workflow = make_workflow(
        [
            trigger(),
            node("each", "loop", parameters={"items": "{{ input.numbers }}"}),
            node("double", "set", parameters={"values": {"value": "{{ loop.item * 2 }}", "index": "{{ loop.index }}"}}),
            node("done", "noop"),
        ],
        [edge("start", "each"), edge("each", "double", "item"), edge("each", "done", "done")],
    )

    execution = run_workflow(workflow, {"numbers": [1, 2, 3]})

    assert execution.status == "succeeded", execution.error
    assert node_runs(execution)["done"].output == [
        {"value": 2, "index": 0},
        {"value": 4, "index": 1},
        {"value": 6, "index": 2},
    ]
    assert execution.node_runs.filter(node_id="double").count() == 3


def test_engine_loop_over_max_items_fails(make_workflow, run_workflow):
    workflow = make_workflow(
        [trigger(), node("each", "loop", parameters={"max_items": 2}), node("body", "noop")],
        [edge("start", "each"), edge("each", "body", "item")],
    )

    execution = run_workflow(workflow, [1, 2, 3])

    assert execution.status == "failed"
    assert "limit of 2" in execution.error["message"]


def test_engine_expression_undefined_name_fails_naming_it(make_workflow, run_workflow):
    workflow = make_workflow(
        [trigger(), node("set", "set", parameters={"values": {"x": "{{ input.missing.deeper }}"}})],
        chain("start", "set"),
    )

    execution = run_workflow(workflow, {})

    assert execution.status == "failed"
    assert execution.error["node_id"] == "set"
    assert "{{ input.missing.deeper }}" in execution.error["message"]


def test_engine_expressions_see_nodes_vars_execution_and_now(make_workflow, run_workflow, workspace):
    VariableFactory(workspace=workspace, key="REGION", value="eu")
    VariableFactory(workspace=workspace, key="TIER", value="free")
    workflow = make_workflow(
        [
            trigger(),
            node("first", "set", parameters={"values": {"v": 1}}),
            node(
                "read",
                "set",
                parameters={
                    "values": {
                        "first": "{{ nodes.first.output.v }}",
                        "region": "{{ vars.REGION }}",
                        "tier": "{{ vars.TIER }}",
                        "mode": "{{ execution.mode }}",
                        "has_tz": "{{ now.tzinfo is not none }}",
                        "method": "{{ trigger.method }}",
                    }
                },
            ),
        ],
        chain("start", "first", "read"),
        variables={"TIER": "pro"},
    )

    execution = run_workflow(workflow, {})

    assert node_runs(execution)["read"].output == {
        "first": 1,
        "region": "eu",
        "tier": "pro",
        "mode": "api",
        "has_tz": True,
        "method": "POST",
    }


def test_engine_secrets_usable_but_redacted_from_stored_data(make_workflow, run_workflow, workspace, http_server):
    VariableFactory(workspace=workspace, key="API_KEY", value="sk-very-secret-value", secret=True)
    workflow = make_workflow(
        [
            trigger(),
            node(
                "call",
                "http_request",
                parameters={
                    "method": "POST",
                    "url": f"{http_server.url}/echo",
                    "body": {"key": "{{ secrets.API_KEY }}"},
                },
            ),
            node("leak", "set", parameters={"values": {"copy": "{{ secrets.API_KEY }}"}}),
        ],
        chain("start", "call", "leak"),
    )

    execution = run_workflow(workflow, {})

    assert execution.status == "succeeded", execution.error
    assert "sk-very-secret-value" in http_server.requests[0]["body"]
    stored = str(list(execution.node_runs.values_list("input", "output", "error"))) + str(execution.output)
    assert "sk-very-secret-value" not in stored
    assert "[redacted]" in stored


def test_engine_output_over_cap_is_stored_as_marker(make_workflow, run_workflow, settings):
    settings.WORKFLOWS_MAX_NODE_OUTPUT_BYTES = 100
    workflow = make_workflow(
        [trigger(), node("big", "set", parameters={"values": {"text": "x" * 500}})], chain("start", "big")
    )

    execution = run_workflow(workflow, {})

    output = node_runs(execution)["big"].output
    assert output["_truncated"] is True
    assert output["limit_bytes"] == 100


def test_engine_http_request_retries_through_resume_at(make_workflow, run_workflow, http_server, on_commit):
    http_server.statuses["/flaky"] = [503, 503]
    workflow = make_workflow(
        [
            trigger(),
            node(
                "call",
                "http_request",
                parameters={"url": f"{http_server.url}/flaky"},
                retry={"max_attempts": 3, "backoff_seconds": 30},
            ),
        ],
        chain("start", "call"),
    )

    execution = run_workflow(workflow, {})
    first_wait = execution.resume_at - timezone.now()
    _resume_due(on_commit)
    execution.refresh_from_db()
    second_wait = execution.resume_at - timezone.now()
    _resume_due(on_commit)
    execution.refresh_from_db()

    assert 20 < first_wait.total_seconds() <= 30
    assert 50 < second_wait.total_seconds() <= 60
    assert execution.status == "succeeded", execution.error
    assert node_runs(execution)["call"].attempts == 3
    assert http_server.count("/flaky") == 3


def test_engine_on_error_continue_takes_error_handle(make_workflow, run_workflow, http_server):
    http_server.statuses["/bad"] = [404]
    workflow = make_workflow(
        [
            trigger(),
            node("call", "http_request", parameters={"url": f"{http_server.url}/bad"}, on_error="continue"),
            node("ok", "noop"),
            node("handle", "set", parameters={"values": {"failed": "{{ input.error.message }}"}}),
        ],
        [edge("start", "call"), edge("call", "ok"), edge("call", "handle", "error")],
    )

    execution = run_workflow(workflow, {})

    runs = node_runs(execution)
    assert execution.status == "succeeded", execution.error
    assert runs["call"].status == "failed"
    assert runs["ok"].status == "skipped"
    assert "HTTP 404" in runs["handle"].output["failed"]


def test_engine_http_request_refuses_unlisted_host(make_workflow, run_workflow, settings, http_server):
    settings.ATHENA_OUTBOUND_ALLOWLIST = []
    workflow = make_workflow(
        [trigger(), node("call", "http_request", parameters={"url": f"{http_server.url}/x"})], chain("start", "call")
    )

    execution = run_workflow(workflow, {})

    assert execution.status == "failed"
    assert "refused" in execution.error["message"]
    assert http_server.count("/x") == 0


def test_engine_node_timeout_bounds_http_request(make_workflow, run_workflow, http_server):
    http_server.delay = 1.5
    workflow = make_workflow(
        [trigger(), node("call", "http_request", parameters={"url": f"{http_server.url}/slow"}, timeout_seconds=0.3)],
        chain("start", "call"),
    )

    execution = run_workflow(workflow, {})

    assert execution.status == "failed"
    assert "timed out" in execution.error["message"]


def test_engine_workflow_timeout_fails_between_nodes(make_workflow, run_workflow, on_commit):
    workflow = make_workflow(
        [trigger(), node("wait", "delay", parameters={"seconds": 120}), node("after", "noop")],
        chain("start", "wait", "after"),
        settings={"timeout_seconds": 60},
    )

    execution = run_workflow(workflow, {})
    WorkflowExecution.objects.filter(pk=execution.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
    _resume_due(on_commit)
    execution.refresh_from_db()

    assert execution.status == "failed"
    assert execution.error["code"] == "workflow_timeout"


def test_engine_delay_waits_then_continues(make_workflow, run_workflow, on_commit):
    workflow = make_workflow(
        [trigger(), node("wait", "delay", parameters={"seconds": 600}), node("after", "noop")],
        chain("start", "wait", "after"),
    )

    execution = run_workflow(workflow, {"x": 1})
    assert execution.status == "waiting"
    assert 590 < (execution.resume_at - timezone.now()).total_seconds() <= 600
    with on_commit():
        executions_resume_due()
    execution.refresh_from_db()
    assert execution.status == "waiting"
    run = execution.node_runs.get(node_id="wait")
    run.state = {**run.state, "until": (timezone.now() - timedelta(seconds=1)).isoformat()}
    run.save()
    _resume_due(on_commit)
    execution.refresh_from_db()

    assert execution.status == "succeeded", execution.error
    assert node_runs(execution)["after"].output == {"x": 1}


@pytest.mark.parametrize(("decision", "taken", "skipped"), [("approve", "yes", "no"), ("reject", "no", "yes")])
def test_engine_approval_decision_takes_handle(make_workflow, run_workflow, owner, on_commit, decision, taken, skipped):
    workflow = make_workflow(
        [
            trigger(),
            node("ask", "approval", parameters={"message": "Refund {{ input.amount }}?"}),
            node("yes", "noop"),
            node("no", "noop"),
        ],
        [edge("start", "ask"), edge("ask", "yes", "approved"), edge("ask", "no", "rejected")],
    )

    execution = run_workflow(workflow, {"amount": 30})
    assert execution.status == "waiting"
    assert execution.resume_at is None
    with on_commit():
        execution_resume(execution=execution, node_id="ask", decision=decision, data={"note": "ok"}, user=owner)
    execution.refresh_from_db()

    runs = node_runs(execution)
    assert execution.status == "succeeded", execution.error
    assert runs[taken].status == "succeeded"
    assert runs[skipped].status == "skipped"
    assert runs["ask"].output["data"] == {"note": "ok"}


def test_engine_approval_timeout_uses_default_decision(make_workflow, run_workflow, on_commit):
    workflow = make_workflow(
        [
            trigger(),
            node("ask", "approval", parameters={"timeout_seconds": 60, "default_decision": "approve"}),
            node("yes", "noop"),
        ],
        [edge("start", "ask"), edge("ask", "yes", "approved")],
    )

    execution = run_workflow(workflow, {})
    run = execution.node_runs.get(node_id="ask")
    run.state = {**run.state, "expires_at": (timezone.now() - timedelta(seconds=1)).isoformat()}
    run.save()
    _resume_due(on_commit)
    execution.refresh_from_db()

    assert execution.status == "succeeded", execution.error
    assert node_runs(execution)["ask"].output["timed_out"] is True


def test_engine_cancel_while_waiting(make_workflow, run_workflow, on_commit):
    workflow = make_workflow(
        [trigger(), node("wait", "delay", parameters={"seconds": 600}), node("after", "noop")],
        chain("start", "wait", "after"),
    )
    execution = run_workflow(workflow, {})

    execution_cancel(execution=execution)
    _resume_due(on_commit)
    execution.refresh_from_db()

    assert execution.status == "canceled"
    assert not execution.node_runs.filter(node_id="after").exists()


def test_engine_concurrency_limit_keeps_the_rest_queued(make_workflow, run_workflow, on_commit):
    workflow = make_workflow(
        [trigger(), node("wait", "delay", parameters={"seconds": 600})],
        chain("start", "wait"),
        settings={"max_concurrency": 1},
    )
    blocker = WorkflowExecution.objects.create(
        workspace=workflow.workspace,
        workflow=workflow,
        status="running",
        lease_owner="elsewhere",
        lease_expires_at=timezone.now() + timedelta(minutes=5),
        workflow_data={"nodes": [], "edges": [], "settings": {"max_concurrency": 1}},
    )

    held = run_workflow(workflow, {})
    assert held.status == "queued"
    with on_commit():
        execution_cancel(execution=blocker)
    held.refresh_from_db()

    assert held.status == "waiting"


def test_engine_sub_workflow_returns_child_output(make_workflow, run_workflow):
    child = make_workflow(
        [trigger(), node("answer", "set", parameters={"values": {"got": "{{ input.q }}"}})], chain("start", "answer")
    )
    parent = make_workflow(
        [
            trigger(),
            node("sub", "sub_workflow", parameters={"workflow_id": str(child.pk), "input": {"q": "{{ input.q }}"}}),
        ],
        chain("start", "sub"),
    )

    execution = run_workflow(parent, {"q": 7})

    assert execution.status == "succeeded", execution.error
    assert execution.output == {"got": 7}
    assert WorkflowExecution.objects.get(parent_execution=execution).mode == "sub_workflow"


def test_engine_sub_workflow_depth_limit(make_workflow, run_workflow, settings):
    settings.WORKFLOWS_MAX_SUB_WORKFLOW_DEPTH = 2
    workflow = make_workflow(
        [trigger(), node("sub", "sub_workflow", parameters={"workflow_id": "placeholder"})], chain("start", "sub")
    )
    workflow.nodes[1]["parameters"]["workflow_id"] = str(workflow.pk)
    workflow.save()

    execution = run_workflow(workflow, {})

    assert execution.status == "failed"
    assert "deeper than the limit" in WorkflowExecution.objects.filter(depth=2).first().error["message"]


def test_engine_respond_to_webhook_sets_response(make_workflow, run_workflow):
    workflow = make_workflow(
        [
            trigger(),
            node(
                "reply",
                "respond_to_webhook",
                parameters={"status": 201, "headers": {"X-Flow": "yes"}, "body": {"echo": "{{ input.v }}"}},
            ),
        ],
        chain("start", "reply"),
    )

    execution = run_workflow(workflow, {"v": 3})

    assert execution.response == {"status": 201, "headers": {"X-Flow": "yes"}, "body": {"echo": 3}}


def test_engine_save_execution_data_none_clears_node_data(make_workflow, run_workflow):
    workflow = make_workflow(
        [trigger(), node("a", "set", parameters={"values": {"v": 1}})],
        chain("start", "a"),
        settings={"save_execution_data": "none"},
    )

    execution = run_workflow(workflow, {})

    assert node_runs(execution)["a"].output is None


def test_engine_error_workflow_starts_on_failure(make_workflow, run_workflow):
    handler = make_workflow([trigger(), node("note", "noop")], chain("start", "note"))
    failing = make_workflow(
        [trigger(), node("bad", "set", parameters={"values": {"x": "{{ nope }}"}})],
        chain("start", "bad"),
        settings={"error_workflow": str(handler.pk)},
    )

    execution = run_workflow(failing, {})

    error_run = WorkflowExecution.objects.get(workflow=handler)
    assert execution.status == "failed"
    assert error_run.mode == "error"
    assert error_run.status == "succeeded"
    assert error_run.trigger_payload["body"]["execution"]["id"] == str(execution.pk)
