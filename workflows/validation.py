"""Validation of a workflow graph: every problem at once, each keyed by the node or edge and field."""

import re
import uuid
from collections import defaultdict, deque
from typing import Any

from jsonschema import Draft202012Validator

from workflows.expressions import check_syntax, collect_strings, has_expression
from workflows.nodes import node_type
from workflows.nodes.base import ERROR_HANDLE, MAIN

MAX_NODES = 500
MAX_EDGES = 2000
NODE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,100}$"

NODE_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": NODE_ID_PATTERN},
        "type": {"type": "string", "maxLength": 50},
        "name": {"type": "string", "maxLength": 200},
        "position": {
            "type": "object",
            "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
            "required": ["x", "y"],
            "additionalProperties": False,
        },
        "parameters": {"type": "object"},
        "disabled": {"type": "boolean"},
        "notes": {"type": "string", "maxLength": 10_000},
        "retry": {
            "type": ["object", "null"],
            "properties": {
                "max_attempts": {"type": "integer", "minimum": 1, "maximum": 10},
                "backoff_seconds": {"type": "number", "minimum": 0, "maximum": 86_400},
            },
            "additionalProperties": False,
        },
        "timeout_seconds": {"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 86_400},
        "on_error": {"enum": ["stop", "continue"]},
        "sample_output": {},
    },
    "required": ["id", "type"],
    "additionalProperties": False,
}
EDGE_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": NODE_ID_PATTERN},
        "source": {"type": "string"},
        "target": {"type": "string"},
        "source_handle": {"type": "string", "maxLength": 50},
        "target_handle": {"type": "string", "maxLength": 50},
    },
    "required": ["source", "target"],
    "additionalProperties": False,
}
_NODE_VALIDATOR = Draft202012Validator(NODE_SCHEMA)
_EDGE_VALIDATOR = Draft202012Validator(EDGE_SCHEMA)
# Types that must not run inside a loop body: they wait for a person, answer the request, or nest.
LOOP_BODY_FORBIDDEN = ("approval", "loop", "respond_to_webhook")


def normalize_node(node: dict[str, Any]) -> dict[str, Any]:
    """Fill the optional node fields with their defaults."""
    return {
        "id": node["id"],
        "type": node["type"],
        "name": node.get("name") or node["id"],
        "position": node.get("position") or {"x": 0, "y": 0},
        "parameters": node.get("parameters") or {},
        "disabled": bool(node.get("disabled", False)),
        "notes": node.get("notes", ""),
        "retry": node.get("retry"),
        "timeout_seconds": node.get("timeout_seconds"),
        "on_error": node.get("on_error", "stop"),
        "sample_output": node.get("sample_output"),
    }


def normalize_edge(edge: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": edge.get("id") or f"e-{uuid.uuid4().hex[:12]}",
        "source": edge["source"],
        "target": edge["target"],
        "source_handle": edge.get("source_handle") or MAIN,
        "target_handle": edge.get("target_handle") or MAIN,
    }


def _schema_path(error: Any) -> str:
    parts = [str(part) for part in error.absolute_path]
    return ".".join(parts)


def _schema_messages(validator: Draft202012Validator, value: Any) -> list[tuple[str, str]]:
    found = []
    for error in sorted(validator.iter_errors(value), key=lambda item: list(item.absolute_path)):
        found.append((_schema_path(error), error.message))
    return found


class _Errors:
    def __init__(self) -> None:
        self.items: dict[str, list[str]] = defaultdict(list)

    def add(self, key: str, message: str) -> None:
        if message not in self.items[key]:
            self.items[key].append(message)


def _node_key(node: Any, index: int) -> str:
    node_id = node.get("id") if isinstance(node, dict) else None
    if isinstance(node_id, str) and re.fullmatch(NODE_ID_PATTERN, node_id):
        return f"nodes.{node_id}"
    return f"nodes[{index}]"


def validate_graph(nodes: Any, edges: Any) -> tuple[list[dict], list[dict], dict[str, list[str]]]:
    """Check a graph and return `(nodes, edges, errors)` with defaults filled in.

    `errors` maps `nodes.<id>.<field>` or `edges.<id>.<field>` (or `nodes` / `edges` for the
    graph as a whole) to messages; it is empty when the graph is valid.
    """
    errors = _Errors()
    if not isinstance(nodes, list):
        errors.add("nodes", "Must be a list of nodes.")
        nodes = []
    if not isinstance(edges, list):
        errors.add("edges", "Must be a list of edges.")
        edges = []
    if len(nodes) > MAX_NODES:
        errors.add("nodes", f"A workflow has at most {MAX_NODES} nodes.")
        return [], [], dict(errors.items)
    if len(edges) > MAX_EDGES:
        errors.add("edges", f"A workflow has at most {MAX_EDGES} edges.")
        return [], [], dict(errors.items)

    good_nodes: dict[str, dict] = {}
    for index, node in enumerate(nodes):
        key = _node_key(node, index)
        problems = _schema_messages(_NODE_VALIDATOR, node) if isinstance(node, dict) else [("", "Must be an object.")]
        for path, message in problems:
            errors.add(f"{key}.{path}" if path else key, message)
        if problems:
            continue
        if node["id"] in good_nodes:
            errors.add(f"{key}.id", f"The node id '{node['id']}' is used by more than one node.")
            continue
        normalized = normalize_node(node)
        _check_node_type(normalized, key, errors)
        good_nodes[node["id"]] = normalized

    good_edges: list[dict] = []
    seen_edges: set[str] = set()
    for index, edge in enumerate(edges):
        edge_id = edge.get("id") if isinstance(edge, dict) else None
        key = (
            f"edges.{edge_id}"
            if isinstance(edge_id, str) and re.fullmatch(NODE_ID_PATTERN, edge_id)
            else f"edges[{index}]"
        )
        problems = _schema_messages(_EDGE_VALIDATOR, edge) if isinstance(edge, dict) else [("", "Must be an object.")]
        for path, message in problems:
            errors.add(f"{key}.{path}" if path else key, message)
        if problems:
            continue
        normalized = normalize_edge(edge)
        if normalized["id"] in seen_edges:
            errors.add(f"{key}.id", f"The edge id '{normalized['id']}' is used by more than one edge.")
            continue
        seen_edges.add(normalized["id"])
        if _check_edge(normalized, key, good_nodes, nodes, errors):
            good_edges.append(normalized)

    node_list = list(good_nodes.values())
    if nodes and not any(_is_trigger(node) for node in node_list):
        errors.add(
            "nodes", "A workflow needs at least one trigger node (trigger.manual, trigger.webhook or trigger.schedule)."
        )
    if not nodes:
        errors.add("nodes", "A workflow needs at least one trigger node.")
    if sum(1 for node in node_list if node["type"] == "trigger.schedule") > 1:
        errors.add("nodes", "A workflow has at most one trigger.schedule node.")
    for edge in good_edges:
        target = good_nodes.get(edge["target"])
        if target is not None and _is_trigger(target):
            errors.add(f"edges.{edge['id']}.target", f"Trigger node '{target['id']}' cannot have incoming edges.")

    cycle = find_cycle(list(good_nodes), good_edges)
    if cycle:
        errors.add("edges", f"The graph has a cycle through nodes {', '.join(cycle)}.")
    else:
        _check_loop_bodies(good_nodes, good_edges, errors)

    return [normalize_node(node) for node in node_list], good_edges, dict(errors.items)


def _is_trigger(node: dict) -> bool:
    kind = node_type(node["type"])
    return bool(kind and kind.is_trigger)


def _check_node_type(node: dict, key: str, errors: _Errors) -> None:
    kind = node_type(node["type"])
    if kind is None:
        errors.add(f"{key}.type", f"Unknown node type '{node['type']}'.")
        return
    validator = Draft202012Validator(kind.schema)
    for path, message in _schema_messages(validator, node["parameters"]):
        errors.add(f"{key}.parameters.{path}" if path else f"{key}.parameters", message)
    for field, message in kind.check(node["parameters"]):
        errors.add(f"{key}.parameters.{field}", message)
    for path, text in collect_strings(node["parameters"]):
        if has_expression(text) and (problem := check_syntax(text)):
            errors.add(f"{key}.parameters.{path}" if path else f"{key}.parameters", problem)


def output_handles(node: dict) -> tuple[str, ...]:
    kind = node_type(node["type"])
    handles = kind.handles(node.get("parameters") or {}) if kind else ()
    if node.get("on_error") == "continue":
        handles = (*handles, ERROR_HANDLE)
    return handles


def _check_edge(edge: dict, key: str, good_nodes: dict, raw_nodes: list, errors: _Errors) -> bool:
    raw_ids = {node.get("id") for node in raw_nodes if isinstance(node, dict)}
    valid = True
    for end in ("source", "target"):
        if edge[end] not in raw_ids:
            errors.add(f"{key}.{end}", f"No node has the id '{edge[end]}'.")
            valid = False
    if not valid or edge["source"] not in good_nodes or edge["target"] not in good_nodes:
        return False
    source = good_nodes[edge["source"]]
    handles = output_handles(source)
    if node_type(source["type"]) is not None and edge["source_handle"] not in handles:
        errors.add(
            f"{key}.source_handle",
            f"Node '{source['id']}' has no output handle '{edge['source_handle']}'; use one of {', '.join(handles)}.",
        )
        valid = False
    if edge["target_handle"] != MAIN:
        errors.add(f"{key}.target_handle", f"Node '{edge['target']}' has only the input handle '{MAIN}'.")
        valid = False
    if edge["source"] == edge["target"]:
        errors.add(f"{key}.target", "An edge cannot connect a node to itself.")
        valid = False
    return valid


def find_cycle(node_ids: list[str], edges: list[dict]) -> list[str]:
    """Return the nodes left on a cycle (empty when the graph is acyclic)."""
    order = topological_order(node_ids, edges)
    return [] if len(order) == len(node_ids) else [node for node in node_ids if node not in set(order)]


def topological_order(node_ids: list[str], edges: list[dict]) -> list[str]:
    """Order nodes so each comes after its sources, keeping the listed order among equals."""
    position = {node_id: index for index, node_id in enumerate(node_ids)}
    incoming = dict.fromkeys(node_ids, 0)
    outgoing: dict[str, list[str]] = defaultdict(list)
    for edge in edges:
        if edge["source"] in incoming and edge["target"] in incoming:
            incoming[edge["target"]] += 1
            outgoing[edge["source"]].append(edge["target"])
    ready = deque(sorted((node for node, count in incoming.items() if count == 0), key=position.get))
    order = []
    while ready:
        node = ready.popleft()
        order.append(node)
        released = []
        for target in outgoing[node]:
            incoming[target] -= 1
            if incoming[target] == 0:
                released.append(target)
        ready.extend(sorted(released, key=position.get))
    return order


def loop_body(loop_id: str, edges: list[dict]) -> set[str]:
    """Return the nodes reachable from a loop's `item` handle."""
    outgoing: dict[str, list[str]] = defaultdict(list)
    for edge in edges:
        outgoing[edge["source"]].append(edge["target"])
    frontier = [edge["target"] for edge in edges if edge["source"] == loop_id and edge["source_handle"] == "item"]
    body: set[str] = set()
    while frontier:
        node = frontier.pop()
        if node in body:
            continue
        body.add(node)
        frontier.extend(outgoing[node])
    return body


def _check_loop_bodies(nodes: dict, edges: list[dict], errors: _Errors) -> None:
    for loop in (node for node in nodes.values() if node["type"] == "loop"):
        body = loop_body(loop["id"], edges)
        for node_id in sorted(body):
            if nodes[node_id]["type"] in LOOP_BODY_FORBIDDEN:
                errors.add(
                    f"nodes.{node_id}.type", f"A {nodes[node_id]['type']} node cannot run inside loop '{loop['id']}'."
                )
        for edge in edges:
            if edge["target"] in body and edge["source"] not in body and edge["source"] != loop["id"]:
                errors.add(
                    f"edges.{edge['id']}.target",
                    f"Only loop '{loop['id']}' and its body may lead into its body node '{edge['target']}'.",
                )
            if edge["source"] in body and edge["target"] not in body:
                errors.add(
                    f"edges.{edge['id']}.target",
                    f"Body node '{edge['source']}' of loop '{loop['id']}' cannot lead out of the body; "
                    "use the loop's 'done' handle.",
                )
