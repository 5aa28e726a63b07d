"""Convert an n8n workflow export into an Athena graph with a report of what changed on the way.

`convert(document, lookups=...)` accepts the JSON that n8n's editor copies and that
`n8n export:workflow` writes (one workflow, or a list holding one). Each n8n node becomes one
Athena node: mapped, approximated (runs, but differently, as the report explains) or unsupported
(kept as `noop` with its original parameters in `notes`). Sticky notes and the model sub-nodes
of AI nodes are not nodes in Athena and are reported as skipped.

n8n passes lists of items between nodes and runs most nodes once per item, while an Athena
node runs once on one JSON value. The report flags nodes with side effects whose input may
hold several items, where that difference changes what happens.
"""

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from workflows.n8n.expressions import Scope, Shape, Untranslatable
from workflows.n8n.nodes import (
    CANVAS_ONLY_TYPES,
    CODE_TYPES,
    MAPPERS,
    SUB_NODE_PREFIXES,
    Lookups,
    MapContext,
    Mapped,
    Reference,
    slug,
)

MAX_NODES = 500
MAX_NOTES_CHARS = 10_000
# Types whose output in n8n may hold several items even when their input held one.
_SPLITTING_TYPES = (
    "n8n-nodes-base.httpRequest",
    "n8n-nodes-base.splitOut",
    "n8n-nodes-base.itemLists",
    "n8n-nodes-base.splitInBatches",
    "n8n-nodes-base.code",
    "n8n-nodes-base.function",
)
_SIDE_EFFECT_TYPES = ("http_request", "llm", "agent", "prompt", "sub_workflow", "respond_to_webhook")
# Athena node types that output their input unchanged, so references keep the input's shape.
_PASSTHROUGH_TYPES = ("condition", "switch", "noop", "delay")


class NotAnN8nWorkflow(ValueError):
    """The document is not an n8n workflow export; the message names what is missing."""


@dataclass
class Conversion:
    name: str
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    settings: dict[str, Any]
    report: dict[str, Any]
    references: list[Reference] = field(default_factory=list)


def looks_like_n8n(document: Any) -> bool:
    """Tell whether a document is an n8n export: nodes with n8n types and connections by node name."""
    if isinstance(document, list) and document:
        # `n8n export:workflow` writes a list, and `convert` rejects a list of more than one.
        document = document[0]
    if not isinstance(document, dict) or not isinstance(document.get("nodes"), list):
        return False
    if not isinstance(document.get("connections"), dict):
        return False
    return any(
        isinstance(node, dict) and isinstance(node.get("type"), str) and "n8n" in node["type"]
        for node in document["nodes"]
    )


def _workflow_of(document: Any) -> dict[str, Any]:
    if isinstance(document, list):
        if len(document) != 1:
            raise NotAnN8nWorkflow("The file contains several n8n workflows; import them one at a time.")
        document = document[0]
    if not isinstance(document, dict) or not isinstance(document.get("nodes"), list):
        raise NotAnN8nWorkflow("An n8n workflow needs a list of `nodes`.")
    if not isinstance(document.get("connections", {}), dict):
        raise NotAnN8nWorkflow("An n8n workflow's `connections` must be an object.")
    if len(document["nodes"]) > MAX_NODES:
        raise NotAnN8nWorkflow(f"The workflow has more than {MAX_NODES} nodes.")
    for index, node in enumerate(document["nodes"]):
        if not isinstance(node, dict) or not isinstance(node.get("name"), str) or not isinstance(node.get("type"), str):
            raise NotAnN8nWorkflow(f"Node {index} needs a `name` and a `type`.")
    return document


def _unique_ids(names: list[str]) -> dict[str, str]:
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for index, name in enumerate(names):
        base = slug(name, f"node_{index + 1}")
        candidate, counter = base, 2
        while candidate in taken:
            candidate, counter = f"{base}_{counter}", counter + 1
        taken.add(candidate)
        ids[name] = candidate
    return ids


def _main_connections(connections: dict[str, Any], known: set[str]) -> list[tuple[str, int, str]]:
    """List `(source, output index, target)` for every `main` connection between known nodes."""
    found = []
    for source, kinds in connections.items():
        outputs = kinds.get("main") if isinstance(kinds, dict) else None
        for index, targets in enumerate(outputs if isinstance(outputs, list) else []):
            for target in targets if isinstance(targets, list) else []:
                name = target.get("node") if isinstance(target, dict) else None
                if source in known and name in known:
                    found.append((source, index, name))
    return found


def _sub_nodes(connections: dict[str, Any], nodes: dict[str, dict]) -> dict[str, dict[str, list[dict]]]:
    """Map each AI node's name to its attached sub-nodes by connection type (`ai_languageModel`...)."""
    attached: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for source, kinds in connections.items():
        if not isinstance(kinds, dict) or source not in nodes:
            continue
        for kind, outputs in kinds.items():
            if not str(kind).startswith("ai_"):
                continue
            for targets in outputs if isinstance(outputs, list) else []:
                for target in targets if isinstance(targets, list) else []:
                    if isinstance(target, dict) and target.get("node") in nodes:
                        attached[target["node"]][kind].append(nodes[source])
    return attached


def _order(names: list[str], links: list[tuple[str, int, str]]) -> tuple[list[str], set[tuple[str, int, str]]]:
    """Order nodes so each follows its sources; return the order and the links that close a cycle."""
    outgoing: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
    for link in links:
        outgoing[link[0]].append(link)
    state: dict[str, int] = {}
    back: set[tuple[str, int, str]] = set()
    finished: list[str] = []

    for root in names:
        if root in state:
            continue
        stack = [(root, iter(outgoing[root]))]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            link = next(children, None)
            if link is None:
                state[node] = 2
                finished.append(node)
                stack.pop()
                continue
            target = link[2]
            if state.get(target) == 1:
                back.add(link)
            elif target not in state:
                state[target] = 1
                stack.append((target, iter(outgoing[target])))
    return list(reversed(finished)), back


def _position(node: dict[str, Any]) -> dict[str, float]:
    position = node.get("position")
    if isinstance(position, list) and len(position) == 2 and all(isinstance(v, (int, float)) for v in position):
        return {"x": position[0], "y": position[1]}
    return {"x": 0, "y": 0}


def _notes_with_parameters(node: dict[str, Any], reason: str) -> str:
    original = json.dumps({"type": node.get("type"), "parameters": node.get("parameters") or {}}, indent=2)
    text = f"Imported from n8n as a no-op: {reason}\nOriginal node:\n{original}"
    if node.get("notes"):
        text = f"{node['notes']}\n\n{text}"
    return text[:MAX_NOTES_CHARS]


def _retry(node: dict[str, Any]) -> dict[str, Any] | None:
    if not node.get("retryOnFail"):
        return None
    try:
        attempts = int(node.get("maxTries", 3) or 3)
        wait_ms = float(node.get("waitBetweenTries", 1000) or 0)
    except (TypeError, ValueError):
        attempts, wait_ms = 3, 1000.0
    return {"max_attempts": max(1, min(attempts, 10)), "backoff_seconds": max(0.0, min(wait_ms / 1000, 86_400))}


def _sample_output(pin_data: Any, name: str) -> Any:
    items = pin_data.get(name) if isinstance(pin_data, dict) else None
    if not isinstance(items, list) or not items:
        return None
    first = items[0]
    return first.get("json", first) if isinstance(first, dict) else first


class _Converter:
    def __init__(self, workflow: dict[str, Any], lookups: Lookups) -> None:
        self.workflow = workflow
        self.lookups = lookups
        self.settings = workflow.get("settings") if isinstance(workflow.get("settings"), dict) else {}
        self.timezone = str(self.settings.get("timezone") or "UTC")
        if self.timezone == "DEFAULT":
            self.timezone = "UTC"
        self.report_nodes: list[dict[str, Any]] = []
        self.warnings: list[str] = []
        self.references: list[Reference] = []

    def run(self) -> Conversion:
        raw_nodes = self.workflow["nodes"]
        connections = self.workflow.get("connections") or {}
        by_name = {node["name"]: node for node in raw_nodes}
        sub_nodes = _sub_nodes(connections, by_name)
        folded = {node["name"] for targets in sub_nodes.values() for kinds in targets.values() for node in kinds}

        imported = []
        for node in raw_nodes:
            if node["type"] in CANVAS_ONLY_TYPES:
                self._report(node, None, None, "skipped", ["A canvas note; Athena has no sticky notes."])
            elif node["name"] in folded or node["type"].startswith(SUB_NODE_PREFIXES):
                note = "A sub-node of an AI node; its settings were folded into it."
                self._report(node, None, None, "skipped", [note])
            else:
                imported.append(node["name"])
        ids = _unique_ids(imported)
        links = _main_connections(connections, set(imported))
        order, back_links = _order(imported, links)
        for source, index, target in sorted(back_links):
            self.warnings.append(
                f"The connection from '{source}' (output {index}) to '{target}' closes a loop and was left out; "
                "Athena graphs have no cycles (use a loop node)."
            )
        links = [link for link in links if link not in back_links]

        incoming: dict[str, list[str]] = defaultdict(list)
        for source, _index, target in links:
            incoming[target].append(source)
        shapes: dict[str, Shape] = {}
        output_shapes: dict[str, Shape] = {}
        many_items: dict[str, bool] = {}
        mapped: dict[str, Mapped] = {}
        schedule_seen = False
        for name in order:
            node = by_name[name]
            sources = incoming[name]
            input_shape = output_shapes[sources[0]] if len(set(sources)) == 1 else Shape()
            scope = Scope(input_shape=input_shape, node_ids=ids, node_shapes=output_shapes)
            result = self._map(node, scope, sub_nodes.get(name, {}))
            if result.type == "trigger.schedule":
                if schedule_seen:
                    result = self._unsupported(node, "Athena runs one schedule trigger per workflow.")
                schedule_seen = True
            # Only one trigger starts an execution, so several triggers count as one source.
            running_sources = {source for source in sources if not mapped[source].type.startswith("trigger.")}
            if any(mapped[source].type.startswith("trigger.") for source in sources):
                running_sources.add("trigger")
            if len(running_sources) > 1 and result.type != "merge":
                result.notes.append(
                    "Several nodes lead here: when more than one of them runs, the input is an object of "
                    "their outputs keyed by node id."
                )
            result.notes.extend(note for note in scope.notes if note not in result.notes)
            mapped[name] = result
            shapes[name] = input_shape
            output_shapes[name] = input_shape if result.type in _PASSTHROUGH_TYPES else result.shape
            many_items[name] = node["type"] in _SPLITTING_TYPES or any(many_items.get(source) for source in sources)
            if result.type == "merge" and result.parameters.get("mode") == "append":
                many_items[name] = True
            per_item = any(many_items.get(source) for source in sources) and result.type in _SIDE_EFFECT_TYPES
            self._report(node, ids[name], result.type, result.status, result.notes, per_item=per_item)

        nodes = [self._athena_node(by_name[name], ids[name], mapped[name]) for name in imported]
        edges = self._edges(links, ids, mapped, by_name)
        self._add_trigger_when_missing(nodes, edges)
        return Conversion(
            name=str(self.workflow.get("name") or "Imported from n8n")[:200],
            nodes=nodes,
            edges=edges,
            settings=self._settings(),
            report=self._final_report(),
            references=self.references,
        )

    def _map(self, node: dict[str, Any], scope: Scope, sub_nodes: dict[str, list[dict]]) -> Mapped:
        kind = node["type"]
        if kind in CODE_TYPES:
            return self._unsupported(node, CODE_TYPES[kind])
        mapper = MAPPERS.get(kind)
        if mapper is None:
            return self._unsupported(node, f"The n8n node type '{kind}' has no Athena equivalent.")
        context = MapContext(node=node, scope=scope, lookups=self.lookups, sub_nodes=sub_nodes, timezone=self.timezone)
        try:
            result = mapper(context)
        except Untranslatable as exc:
            return self._unsupported(node, str(exc))
        except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError):
            return self._unsupported(node, "Its parameters do not have the shape this importer expects.")
        self.references.extend(context.references)
        return result

    def _unsupported(self, node: dict[str, Any], reason: str) -> Mapped:
        return Mapped("noop", {}, status="unsupported", notes=[reason], kept_notes=_notes_with_parameters(node, reason))

    def _athena_node(self, node: dict[str, Any], node_id: str, result: Mapped) -> dict[str, Any]:
        notes = result.kept_notes or str(node.get("notes") or "")[:MAX_NOTES_CHARS]
        on_error = "stop"
        if node.get("continueOnFail") or node.get("onError") in ("continueRegularOutput", "continueErrorOutput"):
            on_error = "continue"
        athena = {
            "id": node_id,
            "type": result.type,
            "name": node["name"][:200],
            "position": _position(node),
            "parameters": result.parameters,
            "disabled": bool(node.get("disabled", False)),
            "notes": notes,
            "retry": _retry(node),
            "timeout_seconds": None,
            "on_error": on_error,
            "sample_output": _sample_output(self.workflow.get("pinData"), node["name"]),
        }
        return athena

    def _edges(
        self,
        links: list[tuple[str, int, str]],
        ids: dict[str, str],
        mapped: dict[str, Mapped],
        by_name: dict[str, dict],
    ) -> list[dict[str, Any]]:
        edges = []
        seen: set[tuple[str, str, str]] = set()
        for source, index, target in links:
            result = mapped[source]
            handle = result.handles.get(index)
            error_index = max(result.handles) + 1 if result.handles else 1
            if handle is None and by_name[source].get("onError") == "continueErrorOutput" and index == error_index:
                handle = "error"
            if handle is None:
                self.warnings.append(
                    f"The connection from '{source}' (output {index}) to '{target}' was left out: "
                    f"the Athena {result.type} node has no matching output."
                )
                continue
            key = (ids[source], ids[target], handle)
            if key in seen:
                continue
            seen.add(key)
            edges.append(
                {
                    "id": f"e{len(edges) + 1}",
                    "source": ids[source],
                    "target": ids[target],
                    "source_handle": handle,
                    "target_handle": "main",
                }
            )
        return edges

    def _add_trigger_when_missing(self, nodes: list[dict], edges: list[dict]) -> None:
        if any(node["type"].startswith("trigger.") for node in nodes):
            return
        taken = {node["id"] for node in nodes}
        trigger_id = "start" if "start" not in taken else "start_trigger"
        targets = {edge["target"] for edge in edges}
        roots = [node["id"] for node in nodes if node["id"] not in targets]
        nodes.insert(
            0,
            {
                "id": trigger_id,
                "type": "trigger.manual",
                "name": "Start",
                "position": {"x": 0, "y": 0},
                "parameters": {},
                "disabled": False,
                "notes": "",
                "retry": None,
                "timeout_seconds": None,
                "on_error": "stop",
                "sample_output": None,
            },
        )
        for root in roots:
            edge_id = f"e{len(edges) + 1}"
            edges.append(
                {"id": edge_id, "source": trigger_id, "target": root, "source_handle": "main", "target_handle": "main"}
            )
        self.warnings.append("The n8n workflow had no trigger Athena runs, so a manual trigger 'Start' was added.")

    def _settings(self) -> dict[str, Any]:
        settings: dict[str, Any] = {}
        timeout = self.settings.get("executionTimeout")
        if isinstance(timeout, (int, float)) and timeout > 0:
            settings["timeout_seconds"] = int(min(timeout, 7 * 24 * 3600))
        if self.settings.get("errorWorkflow"):
            self.warnings.append("n8n's error workflow setting was left out; set `settings.error_workflow` in Athena.")
        return settings

    def _report(
        self,
        node: dict[str, Any],
        node_id: str | None,
        athena_type: str | None,
        status: str,
        notes: list[str],
        per_item: bool = False,
    ) -> None:
        notes = list(notes)
        if per_item:
            notes.append("In n8n this node ran once per item of its input; Athena runs it once with the whole input.")
        self.report_nodes.append(
            {
                "name": node["name"],
                "node_id": node_id,
                "n8n_type": node["type"],
                "type": athena_type,
                "status": status,
                "runs_once_instead_of_per_item": per_item,
                "notes": notes,
            }
        )

    def _final_report(self) -> dict[str, Any]:
        # Nodes were reported in run order; the report lists them in the order of the file.
        position = {node["name"]: index for index, node in enumerate(self.workflow["nodes"])}
        self.report_nodes.sort(key=lambda entry: position.get(entry["name"], 0))
        summary = dict.fromkeys(("mapped", "approximated", "unsupported", "skipped"), 0)
        for entry in self.report_nodes:
            summary[entry["status"]] += 1
        return {"source": "n8n", "summary": summary, "nodes": self.report_nodes, "warnings": self.warnings}


def convert(document: Any, *, lookups: Lookups) -> Conversion:
    """Convert an n8n export into Athena nodes, edges and settings with the import report.

    Raises NotAnN8nWorkflow when the document is not one n8n workflow. The graph still goes
    through the usual validation when it is saved.
    """
    return _Converter(_workflow_of(document), lookups).run()
