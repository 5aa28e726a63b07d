"""Mappers of n8n nodes that shape and route data: set, if, filter, switch, merge and no-op."""

import json
from dataclasses import dataclass, field
from typing import Any

from workflows.n8n.expressions import (
    Untranslatable,
    condition_expression,
    inner_expression,
    is_expression,
)
from workflows.n8n.nodes.base import (
    MapContext,
    Mapped,
    json_template,
    slug,
)


def _assign(values: dict[str, Any], name: str, value: Any, dot_notation: bool) -> None:
    """Set `name` in `values`, making `a.b` a nested key as n8n's dot notation does."""
    parts = name.split(".") if dot_notation else [name]
    target = values
    for part in parts[:-1]:
        existing = target.get(part)
        if not isinstance(existing, dict):
            existing = target[part] = {}
        target = existing
    target[parts[-1]] = value


def _typed(value: Any, kind: str) -> Any:
    """Turn an n8n Set value typed in the editor ("5" as a number, "[1]" as an array) into JSON."""
    if is_expression(value) or not isinstance(value, str):
        return value
    if kind == "number":
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() else number
    if kind == "boolean":
        return value.strip().lower() == "true"
    if kind in ("array", "object", "json"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def map_set(context: MapContext) -> Mapped:
    options = context.get("options") or {}
    dot_notation = options.get("dotNotation", True) is not False
    values: dict[str, Any] = {}
    if context.version >= 3:
        mode = context.get("mode", "manual")
        if mode == "raw":
            document = json_template(context.get("jsonOutput", "{}"), context.scope)
            if not isinstance(document, dict):
                raise Untranslatable("The JSON output of the Set node is not an object.")
            values = document
        elif context.version >= 3.3:
            for item in (context.get("assignments") or {}).get("assignments") or []:
                value = _typed(item.get("value"), item.get("type", "string"))
                _assign(values, str(item.get("name", "")), value, dot_notation)
        else:
            for item in (context.get("fields") or {}).get("values") or []:
                kind = item.get("type", "stringValue")
                raw = item.get(kind, item.get("stringValue", ""))
                _assign(values, str(item.get("name", "")), _typed(raw, kind.removesuffix("Value")), dot_notation)
        if context.version >= 3.3:
            keep = bool(context.get("includeOtherFields", False))
        else:
            keep = context.get("include", "all") != "none" if context.version >= 3 else False
    else:
        for kind in ("string", "number", "boolean"):
            for item in (context.get("values") or {}).get(kind) or []:
                _assign(values, str(item.get("name", "")), item.get("value"), dot_notation)
        keep = not context.get("keepOnlySet", False)

    mapped = Mapped("set", {"values": context.translate(values), "keep_input": keep})
    include = context.get("include", "all")
    if context.version >= 3 and include in ("selected", "except"):
        mapped.approximate("n8n kept only some input fields; Athena keeps all of them.")
    if keep and any("." in key for key in values):
        mapped.approximate("Nested fields replace the input's object of the same name instead of merging into it.")
    return mapped


# --- conditions --------------------------------------------------------------------------------

# n8n (IF/Filter/Switch version 2 and later) operation -> Athena condition operator.
_OPERATIONS = {
    "equals": "equals",
    "notEquals": "not_equals",
    "gt": "greater_than",
    "gte": "greater_or_equal",
    "lt": "less_than",
    "lte": "less_or_equal",
    "after": "greater_than",
    "afterOrEquals": "greater_or_equal",
    "before": "less_than",
    "beforeOrEquals": "less_or_equal",
    "contains": "contains",
    "notContains": "not_contains",
    "startsWith": "starts_with",
    "endsWith": "ends_with",
    "empty": "is_empty",
    "notEmpty": "is_not_empty",
    "exists": "is_not_empty",
    "notExists": "is_empty",
    "true": "is_true",
    "false": "is_false",
}
# IF version 1 operation -> Athena condition operator.
_LEGACY_OPERATIONS = {
    "equal": "equals",
    "notEqual": "not_equals",
    "larger": "greater_than",
    "largerEqual": "greater_or_equal",
    "smaller": "less_than",
    "smallerEqual": "less_or_equal",
    "after": "greater_than",
    "before": "less_than",
    "contains": "contains",
    "notContains": "not_contains",
    "startsWith": "starts_with",
    "endsWith": "ends_with",
    "isEmpty": "is_empty",
    "isNotEmpty": "is_not_empty",
}
_LEGACY_DEFAULTS = {"string": "equal", "number": "smaller", "boolean": "equal", "dateTime": "after"}
_UNARY = ("is_empty", "is_not_empty", "is_true", "is_false")


@dataclass
class Condition:
    left: Any
    operator: str
    right: Any
    notes: list[str] = field(default_factory=list)


def _conditions(context: MapContext, parameters: dict[str, Any]) -> tuple[list[Condition], str]:
    """Read the conditions and how they combine (`and` / `or`) of an IF, Filter or Switch rule."""
    if isinstance((parameters.get("conditions") or {}).get("conditions"), list):
        block = parameters.get("conditions") or {}
        found = []
        for item in block.get("conditions") or []:
            operator = item.get("operator") or {}
            operation = operator.get("operation", "equals")
            if operation not in _OPERATIONS:
                raise Untranslatable(f"The condition operation '{operation}' has no Athena operator.")
            condition = Condition(item.get("leftValue", ""), _OPERATIONS[operation], item.get("rightValue"))
            if operation in ("after", "afterOrEquals", "before", "beforeOrEquals"):
                condition.notes.append("Dates are compared as ISO 8601 text.")
            if operation in ("exists", "notExists"):
                condition.notes.append("'exists' became 'is not empty' (and 'does not exist' 'is empty').")
            found.append(condition)
        options = block.get("options") or {}
        if options.get("caseSensitive") is False and found:
            found[0].notes.append("Comparisons are case-sensitive in Athena.")
        return found, "or" if block.get("combinator") == "or" else "and"

    block = parameters.get("conditions") or {}
    found = []
    for kind, items in block.items():
        for item in items or []:
            operation = item.get("operation", _LEGACY_DEFAULTS.get(kind, "equal"))
            if operation not in _LEGACY_OPERATIONS:
                raise Untranslatable(f"The condition operation '{operation}' has no Athena operator.")
            right = item.get("value2", False if kind == "boolean" else "")
            found.append(Condition(item.get("value1", ""), _LEGACY_OPERATIONS[operation], right))
    return found, "or" if parameters.get("combineOperation") == "any" else "and"


def map_if(context: MapContext, *, filter_only: bool = False) -> Mapped:
    conditions, combine = _conditions(context, context.parameters)
    if not conditions:
        raise Untranslatable("The node has no conditions.")
    rows = []
    notes: list[str] = []
    for condition in conditions:
        row = {"left": context.translate(condition.left), "operator": condition.operator}
        if condition.operator not in _UNARY:
            row["right"] = context.translate(condition.right)
        rows.append(row)
        notes.extend(condition.notes)
    mapped = Mapped("condition", {"combine": combine, "conditions": rows}, handles={0: "true", 1: "false"})
    if filter_only:
        mapped.notes.append("Items that fail the filter stop here: only the `true` handle is connected.")
    for note in notes:
        mapped.approximate(note)
    return mapped


def map_filter(context: MapContext) -> Mapped:
    return map_if(context, filter_only=True)


def map_switch(context: MapContext) -> Mapped:
    if context.version >= 3:
        return _map_switch_rules(context)
    mode = context.get("mode", "rules")
    if mode != "rules":
        raise Untranslatable("Switch in expression mode picks an output by number, which has no Athena equivalent.")
    rules = (context.get("rules") or {}).get("rules") or []
    value = context.translate(context.get("value1", ""))
    cases = []
    handles: dict[int, str] = {}
    for index, rule in enumerate(rules):
        if rule.get("operation", "equal") != "equal":
            raise Untranslatable(f"Switch rule {index + 1} compares with '{rule.get('operation')}', not equality.")
        output = int(rule.get("output", index))
        handle = handles.setdefault(output, f"output_{output}")
        cases.append({"handle": handle, "value": context.translate(rule.get("value2", ""))})
    fallback = int(context.get("fallbackOutput", -1))
    if fallback >= 0:
        handles[fallback] = "default"
    if len({case["handle"] for case in cases}) != len(cases):
        raise Untranslatable("Several switch rules lead to the same output, which Athena's switch cannot express.")
    return Mapped("switch", {"value": value, "cases": cases}, handles=handles)


def _map_switch_rules(context: MapContext) -> Mapped:
    if context.get("mode", "rules") != "rules":
        raise Untranslatable("Switch in expression mode picks an output by number, which has no Athena equivalent.")
    rules = (context.get("rules") or {}).get("values") or []
    if not rules:
        raise Untranslatable("The switch has no rules.")
    handles: dict[int, str] = {}
    tests: list[tuple[str, str]] = []
    notes: list[str] = []
    for index, rule in enumerate(rules):
        conditions, combine = _conditions(context, rule)
        parts = []
        for condition in conditions:
            left = inner_expression(condition.left, context.scope)
            right = inner_expression(condition.right, context.scope)
            parts.append(condition_expression(left, condition.operator, right))
            notes.extend(condition.notes)
        name = rule.get("outputKey") if rule.get("renameOutput") else None
        handle = slug(str(name), f"output_{index}") if name else f"output_{index}"
        if handle == "default" or handle in handles.values():
            handle = f"output_{index}"
        handles[index] = handle
        tests.append((f" {combine} ".join(parts) or "false", handle))
    options = context.get("options") or {}
    fallback = options.get("fallbackOutput", "none")
    if fallback == "extra":
        handles[len(rules)] = "default"
    elif isinstance(fallback, int) or (isinstance(fallback, str) and fallback.isdigit()):
        notes.append("Items that match no rule take the `default` handle, which is not connected.")
    if options.get("allMatchingOutputs"):
        notes.append("Only the first matching rule's handle is taken, not every matching one.")

    choice = "'default'"
    for test, handle in reversed(tests):
        choice = f"('{handle}' if ({test}) else {choice})"
    mapped = Mapped(
        "switch",
        {"value": "{{ " + choice + " }}", "cases": [{"handle": handle, "value": handle} for _test, handle in tests]},
        handles=handles,
    )
    for note in notes:
        mapped.approximate(note)
    return mapped


def map_merge(context: MapContext) -> Mapped:
    mode = context.get("mode", "append")
    if mode == "append":
        return Mapped("merge", {"mode": "append"}).approximate(
            "n8n appended the inputs' items into one list of items; Athena outputs a list with each input's value."
        )
    if mode in ("combine", "combineByPosition", "combineByFields", "mergeByIndex", "mergeByKey", "multiplex"):
        return Mapped("merge", {"mode": "object"}).approximate(
            "n8n combined the inputs' items; Athena outputs an object with each input's value by node id."
        )
    if mode in ("chooseBranch", "passThrough", "wait"):
        return Mapped("merge", {"mode": "first"}).approximate(
            "n8n chose one input's items; Athena outputs the first input that arrived."
        )
    raise Untranslatable(f"The merge mode '{mode}' has no Athena equivalent.")


def map_noop(context: MapContext) -> Mapped:
    return Mapped("noop", {})
