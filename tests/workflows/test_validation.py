"""Graph validation: every rule reports its node or edge and field, all at once."""

import pytest

from tests.workflows.conftest import edge, node, trigger
from workflows.validation import validate_graph


def _errors(nodes, edges):
    return validate_graph(nodes, edges)[2]


def test_validation_valid_graph_fills_defaults():
    nodes, edges, errors = validate_graph([trigger(), node("a", "noop")], [{"source": "start", "target": "a"}])

    assert errors == {}
    assert nodes[1]["on_error"] == "stop"
    assert edges[0]["source_handle"] == "main"


def test_validation_duplicate_node_ids():
    assert "nodes.a.id" in _errors([trigger(), node("a", "noop"), node("a", "noop")], [])


def test_validation_edge_to_missing_node_and_handle():
    errors = _errors(
        [trigger(), node("c", "condition", parameters={"conditions": [{"left": 1, "operator": "is_true"}]})],
        [
            edge("start", "ghost"),
            edge("start", "c", "nope"),
        ],
    )

    assert "edges.start-ghost-main.target" in errors
    assert "edges.start-c-nope.source_handle" in errors


def test_validation_needs_a_trigger():
    assert "nodes" in _errors([node("a", "noop")], [])


def test_validation_rejects_cycles():
    errors = _errors(
        [trigger(), node("a", "noop"), node("b", "noop")], [edge("start", "a"), edge("a", "b"), edge("b", "a")]
    )

    assert "cycle" in errors["edges"][0]


def test_validation_unknown_type():
    assert "nodes.x.type" in _errors([trigger(), node("x", "teleport")], [])


def test_validation_parameters_against_schema():
    errors = _errors([trigger(), node("call", "http_request", parameters={"method": "FETCH"})], [])

    assert "nodes.call.parameters" in errors
    assert "nodes.call.parameters.method" in errors


def test_validation_expression_must_parse():
    errors = _errors([trigger(), node("s", "set", parameters={"values": {"x": "{{ input. }}"}})], [])

    assert "nodes.s.parameters.values.x" in errors


def test_validation_reports_every_problem_at_once():
    errors = _errors(
        [
            node("a", "noop"),
            node("a", "noop"),
            node("b", "bogus"),
            node("c", "transform", parameters={"expression": "[["}),
        ],
        [edge("a", "zzz")],
    )

    assert {"nodes", "nodes.a.id", "nodes.b.type", "nodes.c.parameters.expression", "edges.a-zzz-main.target"} <= set(
        errors
    )


@pytest.mark.parametrize("cron", ["* * *", "61 * * * *"])
def test_validation_schedule_cron(cron):
    assert "nodes.start.parameters.cron" in _errors(
        [trigger(kind="trigger.schedule", cron=cron)], []
    ) or "nodes.start.parameters" in _errors([trigger(kind="trigger.schedule", cron=cron)], [])


def test_validation_loop_body_cannot_hold_approval_or_lead_out():
    errors = _errors(
        [trigger(), node("each", "loop"), node("ask", "approval"), node("after", "noop")],
        [edge("start", "each"), edge("each", "ask", "item"), edge("ask", "after", "approved")],
    )

    assert "nodes.ask.type" in errors


def test_validation_trigger_cannot_have_incoming_edges():
    errors = _errors(
        [trigger(), trigger("second", "trigger.webhook"), node("a", "noop")], [edge("start", "a"), edge("a", "second")]
    )

    assert "edges.a-second-main.target" in errors
