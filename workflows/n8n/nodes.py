"""One mapper per n8n node type: n8n parameters in, an Athena node type and parameters out.

n8n leaves parameters that equal their default out of its exports, so each mapper reads them
with the default of the node version it maps. A mapper raises `Untranslatable` for what Athena
cannot run; the importer then keeps the node as `noop` with the original parameters in its notes.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from workflows.n8n.expressions import (
    Scope,
    Shape,
    Untranslatable,
    condition_expression,
    escape_literal,
    inner_expression,
    is_expression,
    translate_string,
    translate_value,
)

MAX_HTTP_TIMEOUT_SECONDS = 300
_SLUG = re.compile(r"[^a-z0-9_]+")


class Lookups(Protocol):
    """Finds the workspace's objects that n8n references by name; each returns an id or None."""

    def account(self, name: str) -> str | None: ...

    def model(self, model: str) -> str | None: ...

    def workflow(self, name: str) -> str | None: ...


@dataclass
class Reference:
    """An n8n credential, model or workflow reference and the Athena id it matched (None if none)."""

    kind: str
    name: str
    matched_id: str | None
    credential_type: str = ""


@dataclass
class MapContext:
    node: dict[str, Any]
    scope: Scope
    lookups: Lookups
    # Sub-nodes attached to an AI node, by connection type (`ai_languageModel`, `ai_tool`...).
    sub_nodes: dict[str, list[dict[str, Any]]]
    timezone: str
    references: list[Reference] = field(default_factory=list)

    @property
    def parameters(self) -> dict[str, Any]:
        parameters = self.node.get("parameters")
        return parameters if isinstance(parameters, dict) else {}

    @property
    def version(self) -> float:
        try:
            return float(self.node.get("typeVersion") or 1)
        except (TypeError, ValueError):
            return 1.0

    def get(self, name: str, default: Any = None) -> Any:
        return self.parameters.get(name, default)

    def translate(self, value: Any) -> Any:
        return translate_value(value, self.scope)

    def account_for_credentials(self) -> str | None:
        """Match the node's first n8n credential to a workspace account of the same name."""
        credentials = self.node.get("credentials")
        if not isinstance(credentials, dict):
            return None
        for credential_type, credential in credentials.items():
            name = credential.get("name") if isinstance(credential, dict) else None
            if not isinstance(name, str) or not name:
                continue
            matched = self.lookups.account(name)
            self.references.append(Reference("account", name, matched, str(credential_type)))
            return matched
        return None


@dataclass
class Mapped:
    type: str
    parameters: dict[str, Any]
    status: str = "mapped"
    notes: list[str] = field(default_factory=list)
    # n8n output index -> Athena output handle. Outputs not listed lose their connections.
    handles: dict[int, str] = field(default_factory=lambda: {0: "main"})
    shape: Shape = field(default_factory=Shape)
    # The Athena node's `notes` when they replace n8n's (an unsupported node's original parameters).
    kept_notes: str = ""

    def approximate(self, note: str) -> "Mapped":
        self.status = "approximated"
        self.notes.append(note)
        return self


def resource_value(value: Any) -> Any:
    """Return the value of an n8n resource locator (`{"__rl": true, "value": ...}`) or the value itself."""
    if isinstance(value, dict) and "value" in value:
        return value["value"]
    return value


def slug(text: str, fallback: str) -> str:
    cleaned = _SLUG.sub("_", text.lower()).strip("_")
    return cleaned[:50] or fallback


# --- triggers ---------------------------------------------------------------------------------


def map_manual_trigger(context: MapContext) -> Mapped:
    return Mapped("trigger.manual", {})


def map_called_by_workflow(context: MapContext) -> Mapped:
    return Mapped("trigger.manual", {}).approximate(
        "Runs when started by the API or a sub_workflow node; its input is the caller's input."
    )


def map_webhook(context: MapContext) -> Mapped:
    mapped = Mapped("trigger.webhook", {}, shape=Shape("webhook"))
    method = context.get("httpMethod", "GET")
    mapped.notes.append(
        f"Athena's webhook has its own URL (`webhook_url`) and accepts every method; n8n's path "
        f"'{context.get('path', '')}' and method {method} are not kept."
    )
    response_mode = context.get("responseMode", "onReceived")
    if response_mode == "lastNode":
        mapped.approximate(
            "n8n answered with the last node's data; Athena answers 202 unless a respond_to_webhook node answers."
        )
    if context.get("authentication", "none") != "none":
        mapped.approximate("n8n's webhook authentication is not kept; set a webhook secret to require signatures.")
    return mapped


def map_form_or_chat_trigger(context: MapContext) -> Mapped:
    return Mapped("trigger.webhook", {}).approximate(
        "Imported as a webhook trigger: send the form or chat input as the JSON body of the webhook."
    )


_WEEKDAYS = range(7)


def _schedule_cron(rule: dict[str, Any]) -> tuple[str, list[str]]:
    """Return the cron expression of one n8n Schedule Trigger interval rule and any approximation notes."""
    kind = rule.get("field", "days")
    minute = int(rule.get("triggerAtMinute", 0) or 0)
    hour = int(rule.get("triggerAtHour", 0) or 0)
    if kind == "cronExpression":
        expression = str(rule.get("expression", "")).strip()
        parts = expression.split()
        if len(parts) == 6:
            return " ".join(parts[1:]), ["n8n's seconds field was dropped; Athena schedules by the minute."]
        return expression, []
    if kind == "seconds":
        return "* * * * *", ["n8n ran every few seconds; Athena runs at most once a minute."]
    if kind == "minutes":
        interval = int(rule.get("minutesInterval", 5) or 5)
        return f"*/{interval} * * * *", []
    if kind == "hours":
        interval = int(rule.get("hoursInterval", 1) or 1)
        return (f"{minute} * * * *" if interval == 1 else f"{minute} */{interval} * * *"), []
    if kind == "days":
        interval = int(rule.get("daysInterval", 1) or 1)
        return (f"{minute} {hour} * * *" if interval == 1 else f"{minute} {hour} */{interval} * *"), []
    if kind == "weeks":
        days = rule.get("triggerAtDay") or [0]
        days = [int(day) for day in days if str(day).isdigit() and int(day) in _WEEKDAYS] or [0]
        notes = []
        if int(rule.get("weeksInterval", 1) or 1) != 1:
            notes.append("n8n skipped weeks between runs; Athena runs every week.")
        return f"{minute} {hour} * * {','.join(str(day) for day in days)}", notes
    if kind == "months":
        interval = int(rule.get("monthsInterval", 1) or 1)
        day = int(rule.get("triggerAtDayOfMonth", 1) or 1)
        return (f"{minute} {hour} {day} * *" if interval == 1 else f"{minute} {hour} {day} */{interval} *"), []
    raise Untranslatable(f"The schedule interval '{kind}' has no cron equivalent.")


def map_schedule_trigger(context: MapContext) -> Mapped:
    rule_set = context.get("rule") or {}
    rules = rule_set.get("interval") if isinstance(rule_set, dict) else None
    rules = rules if isinstance(rules, list) and rules else [{}]
    try:
        cron, notes = _schedule_cron(rules[0] if isinstance(rules[0], dict) else {})
    except (TypeError, ValueError):
        raise Untranslatable("The schedule rule has values that are not numbers.") from None
    mapped = Mapped("trigger.schedule", {"cron": cron, "timezone": context.timezone})
    for note in notes:
        mapped.approximate(note)
    if len(rules) > 1:
        mapped.approximate("Only the first of n8n's schedule rules was kept; Athena has one cron per workflow.")
    return mapped


def map_cron(context: MapContext) -> Mapped:
    times = (context.get("triggerTimes") or {}).get("item") or [{"mode": "everyDay"}]
    first = times[0] if isinstance(times[0], dict) else {}
    mode = first.get("mode", "everyDay")
    minute, hour = int(first.get("minute", 0) or 0), int(first.get("hour", 14) or 0)
    crons = {
        "everyMinute": "* * * * *",
        "everyHour": f"{minute} * * * *",
        "everyDay": f"{minute} {hour} * * *",
        "everyWeek": f"{minute} {hour} * * {first.get('weekday', 1)}",
        "everyMonth": f"{minute} {hour} {first.get('dayOfMonth', 1)} * *",
        "custom": str(first.get("cronExpression", "")),
    }
    if mode not in crons:
        raise Untranslatable(f"The cron mode '{mode}' is not translated.")
    cron = crons[mode]
    mapped = Mapped("trigger.schedule", {"cron": cron, "timezone": context.timezone})
    if mode == "custom" and len(cron.split()) == 6:
        mapped.parameters["cron"] = " ".join(cron.split()[1:])
        mapped.approximate("n8n's seconds field was dropped; Athena schedules by the minute.")
    if len(times) > 1:
        mapped.approximate("Only the first of n8n's trigger times was kept.")
    return mapped


# --- data -------------------------------------------------------------------------------------


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


def json_template(value: Any, scope: Scope) -> Any:
    """Translate an n8n JSON parameter, whose text may hold `{{ }}` expressions, into JSON with Athena expressions."""
    if isinstance(value, (dict, list)):
        return translate_value(value, scope)
    if not isinstance(value, str):
        return value
    text = value[1:] if value.startswith("=") else value
    stripped = text.strip()
    if stripped.startswith("{{") and stripped.endswith("}}") and stripped.count("{{") == 1:
        return "{{ " + inner_expression("=" + stripped, scope) + " }}"
    expressions: list[str] = []

    def placeholder(match: re.Match) -> str:
        expressions.append(match.group(1))
        return f"__athena_expression_{len(expressions) - 1}__"

    marked = re.sub(r"\{\{(.*?)\}\}", placeholder, text, flags=re.DOTALL)
    document = None
    for candidate in (marked, re.sub(r"(?<![\"\w])(__athena_expression_\d+__)(?![\"\w])", r'"\1"', marked)):
        try:
            document = json.loads(candidate)
            break
        except ValueError:
            continue
    if document is None:
        raise Untranslatable("A JSON parameter is not valid JSON once its expressions are set aside.")
    translated = [translate_string("={{" + source + "}}", scope) for source in expressions]
    return _restore(document, translated)


def _restore(value: Any, translated: list[str]) -> Any:
    if isinstance(value, str):
        whole = re.fullmatch(r"__athena_expression_(\d+)__", value)
        if whole:
            return translated[int(whole.group(1))]
        value = escape_literal(value)
        return re.sub(r"__athena_expression_(\d+)__", lambda match: translated[int(match.group(1))], value)
    if isinstance(value, list):
        return [_restore(item, translated) for item in value]
    if isinstance(value, dict):
        return {key: _restore(item, translated) for key, item in value.items()}
    return value


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


# --- actions ------------------------------------------------------------------------------------


def _pairs(block: Any) -> dict[str, Any]:
    """Read n8n's `{parameters: [{name, value}]}` (or `{parameter: [...]}`) list of name/value pairs."""
    if not isinstance(block, dict):
        return {}
    items = block.get("parameters", block.get("parameter")) or []
    return {str(item.get("name", "")): item.get("value", "") for item in items if isinstance(item, dict)}


def map_http_request(context: MapContext) -> Mapped:
    legacy = context.version < 3
    method = context.get("requestMethod" if legacy else "method", "GET")
    parameters: dict[str, Any] = {"method": method, "url": context.translate(context.get("url", ""))}
    notes: list[str] = []
    if legacy:
        query = context.translate(_pairs(context.get("queryParametersUi")))
        headers = context.translate(_pairs(context.get("headerParametersUi")))
        body: Any = context.translate(_pairs(context.get("bodyParametersUi")))
        if context.get("jsonParameters"):
            body = json_template(context.get("bodyParametersJson", "{}"), context.scope)
        body_type = "json"
    else:
        query = _keyed(context, "sendQuery", "specifyQuery", "queryParameters", "jsonQuery")
        headers = _keyed(context, "sendHeaders", "specifyHeaders", "headerParameters", "jsonHeaders")
        body, body_type = _http_body(context, notes)
    if query:
        parameters["query"] = query
    if headers:
        parameters["headers"] = headers
    if body not in (None, {}, "") and method not in ("GET", "HEAD"):
        parameters["body"] = body
        parameters["body_type"] = body_type

    options = context.get("options") or {}
    if options.get("timeout"):
        parameters["timeout_seconds"] = min(float(options["timeout"]) / 1000, MAX_HTTP_TIMEOUT_SECONDS)
    response_options = ((options.get("response") or {}).get("response")) or {}
    if response_options.get("neverError"):
        parameters["fail_on_status"] = False
    shape = Shape("http_full" if response_options.get("fullResponse") or options.get("fullResponse") else "http")

    account = context.account_for_credentials()
    if account:
        parameters["account"] = account
    mapped = Mapped("http_request", parameters, shape=shape)
    mapped.notes.append("Athena outputs {status, headers, body}; references to the response read its `body`.")
    for note in notes:
        mapped.approximate(note)
    if context.get("authentication", "none") != "none" and not account:
        mapped.approximate("No account matched the n8n credential, so the request is sent without credentials.")
    return mapped


def _keyed(context: MapContext, send: str, specify: str, pairs: str, json_name: str) -> Any:
    """Read HTTP Request query parameters or headers, given as name/value pairs or as JSON, translated."""
    if not context.get(send):
        return {}
    if context.get(specify, "keypair") == "json":
        return json_template(context.get(json_name, "{}"), context.scope)
    return context.translate(_pairs(context.get(pairs)))


def _http_body(context: MapContext, notes: list[str]) -> tuple[Any, str]:
    """Return the translated body of an HTTP Request node and Athena's `body_type` for it."""
    if not context.get("sendBody"):
        return None, "json"
    content_type = context.get("contentType", "json")
    if content_type == "raw":
        return context.translate(context.get("body", "")), "text"
    if content_type == "binaryData":
        raise Untranslatable("Sending binary data is not supported by Athena's http_request node.")
    body_type = "form" if content_type in ("form-urlencoded", "multipart-form-data") else "json"
    if content_type == "multipart-form-data":
        notes.append("The multipart body is sent as a URL-encoded form.")
    specify = context.get("specifyBody", "keypair")
    if specify == "json":
        return json_template(context.get("jsonBody", "{}"), context.scope), body_type
    if specify == "string":
        return context.translate(context.get("body", "")), "text"
    return context.translate(_pairs(context.get("bodyParameters"))), body_type


def map_wait(context: MapContext) -> Mapped:
    resume = context.get("resume", "timeInterval")
    if resume == "timeInterval":
        amount = context.get("amount", 1)
        factor = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86_400}[context.get("unit", "hours")]
        if is_expression(amount):
            seconds: Any = "{{ (" + inner_expression(amount, context.scope) + f") * {factor} }}"
        else:
            seconds = float(amount) * factor
            seconds = int(seconds) if seconds.is_integer() else seconds
        return Mapped("delay", {"seconds": seconds})
    if resume == "specificTime":
        return Mapped("delay", {"until": context.translate(context.get("dateTime", ""))})
    if resume in ("webhook", "form"):
        message = f"Resume '{context.node.get('name', 'Wait')}'"
        return Mapped("approval", {"message": message}, handles={0: "approved"}).approximate(
            "n8n waited for a call to its resume URL; Athena waits for `POST workflow-executions/{id}/resume`."
        )
    raise Untranslatable(f"The wait mode '{resume}' has no Athena equivalent.")


def map_respond_to_webhook(context: MapContext) -> Mapped:
    options = context.get("options") or {}
    respond_with = context.get("respondWith", "firstIncomingItem")
    parameters: dict[str, Any] = {"status": int(options.get("responseCode", 200))}
    headers = {
        str(entry.get("name", "")): entry.get("value", "")
        for entry in ((options.get("responseHeaders") or {}).get("entries") or [])
        if isinstance(entry, dict)
    }
    mapped = Mapped("respond_to_webhook", parameters)
    if respond_with == "json":
        parameters["body"] = json_template(context.get("responseBody", ""), context.scope)
    elif respond_with == "text":
        parameters["body"] = context.translate(context.get("responseBody", ""))
    elif respond_with == "noData":
        parameters["body"] = ""
    elif respond_with == "redirect":
        parameters["status"] = int(options.get("responseCode", 307))
        headers["Location"] = context.get("redirectURL", "")
    elif respond_with == "allIncomingItems":
        mapped.approximate("n8n answered with a list of all items; Athena answers with the node's input.")
    elif respond_with != "firstIncomingItem":
        raise Untranslatable(f"Responding with '{respond_with}' is not supported.")
    if headers:
        parameters["headers"] = context.translate(headers)
    return mapped


def map_execute_workflow(context: MapContext) -> Mapped:
    if context.get("source", "database") != "database":
        raise Untranslatable("Only workflows stored in n8n's database can be mapped to a sub_workflow.")
    reference = context.get("workflowId", "")
    name = reference.get("cachedResultName") if isinstance(reference, dict) else None
    n8n_id = str(resource_value(reference) or "")
    matched = context.lookups.workflow(name) if name else None
    context.references.append(Reference("workflow", name or n8n_id, matched))
    mapped = Mapped("sub_workflow", {"workflow_id": matched or n8n_id or "unset"})
    if matched is None:
        mapped.approximate(
            f"No workflow of this workspace is named '{name or n8n_id}'; set `workflow_id` to the one to run."
        )
    return mapped


def _model_of(node: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    parameters = node.get("parameters") or {}
    model = resource_value(parameters.get("model", parameters.get("modelId")))
    options = parameters.get("options") or {}
    return (str(model) if model else None), options


def _llm_parameters(context: MapContext, model: str | None, options: dict[str, Any], mapped_notes: list[str]) -> dict:
    parameters: dict[str, Any] = {}
    if model:
        matched = context.lookups.model(model)
        context.references.append(Reference("model", model, matched))
        parameters["model_id"] = matched or model
        if matched is None:
            mapped_notes.append(f"No model '{model}' is in the catalogue; set `model_id` before running.")
    else:
        parameters["model_id"] = "unset"
        mapped_notes.append("n8n named no model; set `model_id` before running.")
    if "temperature" in options:
        parameters["temperature"] = options["temperature"]
    if "maxTokens" in options or "maxTokensToSample" in options:
        parameters["max_tokens"] = int(options.get("maxTokens", options.get("maxTokensToSample")))
    if "topP" in options:
        parameters["top_p"] = options["topP"]
    return parameters


def map_openai(context: MapContext) -> Mapped:
    legacy = context.node.get("type") == "n8n-nodes-base.openAi"
    resource = context.get("resource", "text")
    operation = context.get("operation", "complete" if legacy else "message")
    supported = (("chat", "complete"), ("text", "complete")) if legacy else (("text", "message"),)
    if (resource, operation) not in supported:
        raise Untranslatable(f"The OpenAI {resource} {operation} operation is not mapped; only chat and text are.")
    notes: list[str] = []
    model, _ = _model_of(context.node)
    if model is None and legacy:
        model = "gpt-3.5-turbo" if resource == "chat" else "text-davinci-003"
    parameters = _llm_parameters(context, model, context.get("options") or {}, notes)
    if legacy and resource == "text":
        prompt = context.translate(context.get("prompt", ""))
        if not prompt:
            raise Untranslatable("The OpenAI node has no prompt.")
        parameters["prompt"] = prompt
    else:
        block = context.get("prompt") if legacy else context.get("messages")
        items = (block or {}).get("messages" if legacy else "values") or []
        messages = [
            {"role": item.get("role", "user"), "content": context.translate(item.get("content", ""))}
            for item in items
            if isinstance(item, dict)
        ]
        if not messages:
            raise Untranslatable("The OpenAI node has no messages.")
        parameters["messages"] = messages
    if context.get("jsonOutput"):
        parameters["response_format"] = "json"
    mapped = Mapped("llm", parameters, shape=Shape("llm"))
    mapped.notes.append("The reply is in `text` (n8n put it in `message.content`).")
    account = context.account_for_credentials()
    if account:
        parameters["account"] = account
    for note in notes:
        mapped.approximate(note)
    return mapped


def map_ai_agent(context: MapContext) -> Mapped:
    notes: list[str] = []
    language_models = context.sub_nodes.get("ai_languageModel") or []
    model, options = _model_of(language_models[0]) if language_models else (None, {})
    parameters = _llm_parameters(context, model, options, notes)
    prompt_type = context.get("promptType", "auto")
    prompt = context.get("text", "={{ $json.chatInput }}") if prompt_type == "define" else "={{ $json.chatInput }}"
    if prompt_type == "auto" and "text" in context.parameters:
        prompt = context.get("text")
    parameters["prompt"] = context.translate(prompt) or "{{ input }}"
    system = (context.get("options") or {}).get("systemMessage")
    if system:
        parameters["system"] = context.translate(system)
    mapped = Mapped("llm", parameters, shape=Shape("llm")).approximate(
        "Imported as one model call: the reply is in `text`, and tools and memory do not run."
    )
    for kind in ("ai_tool", "ai_memory", "ai_outputParser"):
        for sub_node in context.sub_nodes.get(kind) or []:
            mapped.notes.append(f"The attached '{sub_node.get('name')}' ({kind.removeprefix('ai_')}) was left out.")
    if language_models:
        account = MapContext(language_models[0], context.scope, context.lookups, {}, context.timezone)
        account_id = account.account_for_credentials()
        context.references.extend(account.references)
        if account_id:
            parameters["account"] = account_id
    for note in notes:
        mapped.approximate(note)
    return mapped


# --- the registry ------------------------------------------------------------------------------

MAPPERS: dict[str, Callable[[MapContext], Mapped]] = {
    "n8n-nodes-base.manualTrigger": map_manual_trigger,
    "n8n-nodes-base.start": map_manual_trigger,
    "n8n-nodes-base.executeWorkflowTrigger": map_called_by_workflow,
    "n8n-nodes-base.webhook": map_webhook,
    "n8n-nodes-base.formTrigger": map_form_or_chat_trigger,
    "@n8n/n8n-nodes-langchain.chatTrigger": map_form_or_chat_trigger,
    "n8n-nodes-base.scheduleTrigger": map_schedule_trigger,
    "n8n-nodes-base.cron": map_cron,
    "n8n-nodes-base.set": map_set,
    "n8n-nodes-base.if": map_if,
    "n8n-nodes-base.filter": map_filter,
    "n8n-nodes-base.switch": map_switch,
    "n8n-nodes-base.merge": map_merge,
    "n8n-nodes-base.noOp": map_noop,
    "n8n-nodes-base.httpRequest": map_http_request,
    "n8n-nodes-base.wait": map_wait,
    "n8n-nodes-base.respondToWebhook": map_respond_to_webhook,
    "n8n-nodes-base.executeWorkflow": map_execute_workflow,
    "n8n-nodes-base.openAi": map_openai,
    "@n8n/n8n-nodes-langchain.openAi": map_openai,
    "@n8n/n8n-nodes-langchain.agent": map_ai_agent,
    "@n8n/n8n-nodes-langchain.chainLlm": map_ai_agent,
}
# Types whose nodes run code Athena will not run; the report names the reason.
CODE_TYPES = {
    "n8n-nodes-base.code": "JavaScript or Python code is not run by Athena.",
    "n8n-nodes-base.function": "JavaScript code is not run by Athena.",
    "n8n-nodes-base.functionItem": "JavaScript code is not run by Athena.",
    "n8n-nodes-base.executeCommand": "Shell commands are not run by Athena.",
}
# Sub-nodes of AI nodes: attached through `ai_*` connections and folded into the node they serve.
SUB_NODE_PREFIXES = ("@n8n/n8n-nodes-langchain.lmChat", "@n8n/n8n-nodes-langchain.lm")
CANVAS_ONLY_TYPES = ("n8n-nodes-base.stickyNote",)
