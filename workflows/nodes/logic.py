"""Triggers and the pure nodes: their output depends only on their input and parameters."""

from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from workflows.nodes.base import MAIN, NodeContext, NodeError, NodeResult, NodeType, register, strict_object

ANY = {}
EXPRESSION = {"type": "string", "pattern": r"\{\{"}
NUMBER_OR_EXPRESSION = {"anyOf": [{"type": "number"}, EXPRESSION]}
INTEGER_OR_EXPRESSION = {"anyOf": [{"type": "integer"}, EXPRESSION]}
HANDLE_NAME = {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,50}$"}


@register
class ManualTrigger(NodeType):
    type = "trigger.manual"
    description = "Starts the workflow from the API or the app; outputs the run's input."
    schema = strict_object({})
    is_trigger = True

    def execute(self, context: NodeContext) -> NodeResult:
        return NodeResult(context.input)


@register
class WebhookTrigger(NodeType):
    type = "trigger.webhook"
    description = "Starts the workflow from its webhook URL; outputs the request body."
    schema = strict_object({})
    is_trigger = True

    def execute(self, context: NodeContext) -> NodeResult:
        return NodeResult(context.input)


@register
class ScheduleTrigger(NodeType):
    type = "trigger.schedule"
    description = "Starts the workflow on a cron schedule (minute hour day-of-month month day-of-week)."
    schema = strict_object(
        {"cron": {"type": "string", "minLength": 9, "maxLength": 120}, "timezone": {"type": "string", "maxLength": 64}},
        ["cron"],
    )
    is_trigger = True

    def check(self, parameters: dict[str, Any]) -> list[tuple[str, str]]:
        from workflows.schedules import cron_problem, timezone_problem

        problems = []
        cron = parameters.get("cron")
        if isinstance(cron, str) and (problem := cron_problem(cron)):
            problems.append(("cron", problem))
        zone = parameters.get("timezone")
        if isinstance(zone, str) and (problem := timezone_problem(zone)):
            problems.append(("timezone", problem))
        return problems

    def execute(self, context: NodeContext) -> NodeResult:
        return NodeResult(context.input)


@register
class NoopNode(NodeType):
    type = "noop"
    description = "Does nothing; passes its input through."
    interruptible = True
    schema = strict_object({})

    def execute(self, context: NodeContext) -> NodeResult:
        return NodeResult(context.input)


OPERATORS = (
    "equals",
    "not_equals",
    "greater_than",
    "greater_or_equal",
    "less_than",
    "less_or_equal",
    "contains",
    "not_contains",
    "starts_with",
    "ends_with",
    "is_empty",
    "is_not_empty",
    "is_true",
    "is_false",
)
_UNARY = {"is_empty", "is_not_empty", "is_true", "is_false"}


def compare(left: Any, operator: str, right: Any) -> bool:
    """Apply one condition operator; comparing values of incompatible types is a NodeError."""
    try:
        if operator == "equals":
            return left == right
        if operator == "not_equals":
            return left != right
        if operator == "greater_than":
            return left > right
        if operator == "greater_or_equal":
            return left >= right
        if operator == "less_than":
            return left < right
        if operator == "less_or_equal":
            return left <= right
        if operator == "contains":
            return right in left
        if operator == "not_contains":
            return right not in left
        if operator == "starts_with":
            return str(left).startswith(str(right))
        if operator == "ends_with":
            return str(left).endswith(str(right))
        if operator == "is_empty":
            return left in (None, "", [], {})
        if operator == "is_not_empty":
            return left not in (None, "", [], {})
        if operator == "is_true":
            return left is True or left == "true"
        if operator == "is_false":
            return left is False or left == "false"
    except TypeError as exc:
        raise NodeError(
            f"Cannot apply '{operator}' to {type(left).__name__} and {type(right).__name__}: {exc}."
        ) from None
    raise NodeError(f"Unknown operator '{operator}'.", retryable=False)


@register
class ConditionNode(NodeType):
    type = "condition"
    description = "Takes the `true` or the `false` handle by comparisons combined with and/or; passes its input."
    interruptible = True
    schema = strict_object(
        {
            "combine": {"enum": ["and", "or"]},
            "conditions": {
                "type": "array",
                "minItems": 1,
                "maxItems": 50,
                "items": strict_object(
                    {"left": ANY, "operator": {"enum": list(OPERATORS)}, "right": ANY}, ["left", "operator"]
                ),
            },
        },
        ["conditions"],
    )
    output_handles = ("true", "false")

    def execute(self, context: NodeContext) -> NodeResult:
        combine = context.raw_parameters.get("combine", "and")
        results = []
        for condition in context.parameter("conditions"):
            right = None if condition["operator"] in _UNARY else condition.get("right")
            results.append(compare(condition.get("left"), condition["operator"], right))
        passed = all(results) if combine == "and" else any(results)
        return NodeResult(context.input, handles=["true" if passed else "false"])


@register
class SwitchNode(NodeType):
    type = "switch"
    description = "Takes the handle of the first case whose value equals `value`, else `default`; passes its input."
    interruptible = True
    schema = strict_object(
        {
            "value": ANY,
            "cases": {
                "type": "array",
                "minItems": 1,
                "maxItems": 50,
                "items": strict_object({"handle": HANDLE_NAME, "value": ANY}, ["handle", "value"]),
            },
        },
        ["value", "cases"],
    )

    def handles(self, parameters: dict[str, Any]) -> tuple[str, ...]:
        cases = parameters.get("cases") if isinstance(parameters.get("cases"), list) else []
        names = [case.get("handle") for case in cases if isinstance(case, dict) and isinstance(case.get("handle"), str)]
        return (*names, "default")

    def check(self, parameters: dict[str, Any]) -> list[tuple[str, str]]:
        names = list(self.handles(parameters))
        if len(names) != len(set(names)):
            return [("cases", "Each case needs its own handle, and none may be named 'default'.")]
        return []

    def execute(self, context: NodeContext) -> NodeResult:
        value = context.parameter("value")
        for case in context.parameter("cases"):
            if case.get("value") == value:
                return NodeResult(context.input, handles=[case["handle"]])
        return NodeResult(context.input, handles=["default"])


@register
class SetNode(NodeType):
    type = "set"
    description = "Outputs an object of named values; with `keep_input`, merged over the input object."
    interruptible = True
    schema = strict_object(
        {"values": {"type": "object", "maxProperties": 200}, "keep_input": {"type": "boolean"}}, ["values"]
    )

    def execute(self, context: NodeContext) -> NodeResult:
        values = context.parameter("values")
        base = context.input if context.raw_parameters.get("keep_input") and isinstance(context.input, dict) else {}
        return NodeResult({**base, **values})


@register
class TemplateNode(NodeType):
    type = "template"
    description = "Renders `template` as text (Jinja2 syntax: variables, filters, conditions and loops)."
    interruptible = True
    schema = strict_object({"template": {"type": "string", "maxLength": 100_000}}, ["template"])

    def execute(self, context: NodeContext) -> NodeResult:
        return NodeResult(context.text("template"))


@register
class TransformNode(NodeType):
    type = "transform"
    description = "Applies a JMESPath `expression` to `source` (the input by default)."
    interruptible = True
    schema = strict_object(
        {"expression": {"type": "string", "minLength": 1, "maxLength": 2000}, "source": ANY}, ["expression"]
    )

    def check(self, parameters: dict[str, Any]) -> list[tuple[str, str]]:
        expression = parameters.get("expression")
        if isinstance(expression, str) and "{{" not in expression:
            try:
                jmespath.compile(expression)
            except JMESPathError as exc:
                return [("expression", f"Not a valid JMESPath expression: {exc}.")]
        return []

    def execute(self, context: NodeContext) -> NodeResult:
        source = context.parameter("source") if "source" in context.raw_parameters else context.input
        expression = context.parameter("expression")
        try:
            return NodeResult(jmespath.search(expression, source))
        except JMESPathError as exc:
            raise NodeError(f"JMESPath expression failed: {exc}.", retryable=False) from None


@register
class MergeNode(NodeType):
    type = "merge"
    description = (
        "Waits for every input that was not skipped and combines them: `append` (a list), "
        "`object` (keyed by node id) or `first`."
    )
    interruptible = True
    schema = strict_object({"mode": {"enum": ["append", "object", "first"]}})

    def execute(self, context: NodeContext) -> NodeResult:
        inputs: dict[str, Any] = context.state.get("inputs_by_node", {})
        mode = context.raw_parameters.get("mode", "append")
        if mode == "object":
            return NodeResult(dict(inputs))
        if mode == "first":
            return NodeResult(next(iter(inputs.values()), None))
        return NodeResult(list(inputs.values()))


@register
class LoopNode(NodeType):
    type = "loop"
    description = (
        "Runs the nodes behind its `item` handle once per item of `items` (the input by default) "
        "and outputs the list of their results on `done`."
    )
    schema = strict_object({"items": ANY, "max_items": {"type": "integer", "minimum": 1}})
    output_handles = ("item", "done")

    def execute(self, context: NodeContext) -> Any:
        items = context.parameter("items") if "items" in context.raw_parameters else context.input
        if not isinstance(items, list):
            raise NodeError(f"The loop needs a list of items, not {type(items).__name__}.", retryable=False)
        limit = context.raw_parameters.get("max_items") or context.engine.max_loop_items()
        if len(items) > limit:
            raise NodeError(f"The loop has {len(items)} items, more than its limit of {limit}.", retryable=False)
        return context.engine.run_loop_body(context, items)


def passthrough_handles() -> list[str]:
    return [MAIN]
