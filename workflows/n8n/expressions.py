"""Translate n8n expressions (JavaScript inside `{{ }}`) into Athena's Jinja2 expressions.

Only simple data references and the operators between them are translated: `$json.x`,
`$json["x"]`, `$input.item.json.x`, `$('Node').item.json.x`, `$node["Node"].json.x`, `$now`,
`$vars.x`, `$execution.id`, literals, comparisons, `&&`, `||`, `!` and arithmetic. Anything else
(function calls, ternaries, arrow functions, globals such as `Math` or `DateTime`) raises
`Untranslatable` with the reason, so the importer can report the node instead of guessing.

Every path segment becomes a subscript (`input["items"]`), because Jinja2 resolves `.items`
on a dict to the method of that name before the key.
"""

import ast
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    |(?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    |(?P<number>\d+(?:\.\d+)?)
    |(?P<name>\$?[A-Za-z_][A-Za-z0-9_]*|\$)
    |(?P<operator>===|!==|==|!=|>=|<=|=>|&&|\|\||[-+*/%<>!?:().,\[\]])
    """,
    re.VERBOSE,
)
_OPERATORS = {"===": "==", "!==": "!=", "==": "==", "!=": "!=", "&&": "and", "||": "or", "!": "not"}
_PASSED_OPERATORS = {">=", "<=", ">", "<", "+", "-", "*", "/", "%", "(", ")"}
_LITERALS = {"true": "true", "false": "false", "null": "none", "undefined": "none"}
# Method calls at the end of a reference that have a Jinja2 filter with the same meaning.
_FILTERS = {"toUpperCase": "upper", "toLowerCase": "lower", "trim": "trim", "toString": "string"}


class Untranslatable(Exception):
    """An n8n expression has no Athena equivalent; the message names the part and the reason."""


@dataclass
class Shape:
    """How an Athena node's output differs from the n8n item at the same place.

    `kind` is `plain` (the same JSON), `http` (Athena wraps the response as status, headers and
    body), `http_full` (n8n's full response, whose `statusCode` Athena calls `status`), `webhook`
    (n8n's item has body, headers and query; Athena's trigger outputs the body) or `llm` (the
    reply is in `text`).
    """

    kind: str = "plain"


@dataclass
class Scope:
    """The names that references in one node's expressions resolve to.

    `input_shape` is the shape of the node's input; `node_ids` and `node_shapes` map n8n node
    names to Athena node ids and output shapes. `notes` collects approximations made on the way.
    """

    input_shape: Shape
    node_ids: dict[str, str]
    node_shapes: dict[str, Shape]
    notes: list[str] = field(default_factory=list)


def is_expression(value: Any) -> bool:
    """Tell whether an n8n parameter value is an expression (a string starting with `=`)."""
    return isinstance(value, str) and value.startswith("=")


def escape_literal(text: str) -> str:
    """Keep a literal string that contains `{{` or `{%` from being read as an Athena expression."""
    if "{{" in text or "{%" in text or "{#" in text:
        return "{% raw %}" + text.replace("{% endraw %}", "") + "{% endraw %}"
    return text


def translate_value(value: Any, scope: Scope) -> Any:
    """Translate one n8n parameter value: expressions in strings, recursively in lists and dicts."""
    if isinstance(value, str):
        return translate_string(value, scope)
    if isinstance(value, list):
        return [translate_value(item, scope) for item in value]
    if isinstance(value, dict):
        return {key: translate_value(item, scope) for key, item in value.items()}
    return value


def translate_string(value: str, scope: Scope) -> str:
    """Translate an n8n string parameter: `=...{{ js }}...` becomes `...{{ jinja }}...`."""
    if not is_expression(value):
        return escape_literal(value)
    template = value[1:]
    parts: list[str] = []
    position = 0
    for match in _EXPRESSION.finditer(template):
        parts.append(escape_literal(template[position : match.start()]))
        parts.append("{{ " + translate_js(match.group(1), scope) + " }}")
        position = match.end()
    parts.append(escape_literal(template[position:]))
    return "".join(parts)


def inner_expression(value: Any, scope: Scope) -> str:
    """Return a Jinja2 expression (no braces) with the value of an n8n parameter.

    A lone `={{ js }}` gives the translated expression, a literal gives a Jinja2 literal.
    Raises Untranslatable for text that mixes literals and expressions.
    """
    if is_expression(value):
        body = value[1:].strip()
        match = _EXPRESSION.fullmatch(body)
        if match:
            return translate_js(match.group(1), scope)
        if "{{" not in body:
            return json.dumps(body)
        raise Untranslatable(f"'{_short(value)}' mixes text and expressions where one value is expected.")
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    return json.dumps(value)


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def _tokenize(source: str) -> list[tuple[str, str]]:
    tokens = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise Untranslatable(f"'{_short(source.strip())}' uses syntax that is not translated.")
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append((kind, match.group()))
        position = match.end()
    return tokens


def translate_js(source: str, scope: Scope) -> str:
    """Translate the JavaScript inside one `{{ }}` into a Jinja2 expression; raise Untranslatable."""
    tokens = _tokenize(source)
    if not tokens:
        raise Untranslatable("An expression is empty.")
    reader = _Reader(tokens, source, scope)
    output: list[str] = []
    while not reader.done():
        kind, text = reader.peek()
        if kind == "name" and text.startswith("$"):
            output.append(reader.reference())
        elif kind == "name":
            if text not in _LITERALS:
                raise Untranslatable(f"'{_short(source.strip())}' uses '{text}', which has no Athena equivalent.")
            reader.take()
            output.append(_LITERALS[text])
        elif kind == "string":
            reader.take()
            output.append(json.dumps(_unquote(text)))
        elif kind == "number":
            reader.take()
            output.append(text)
        elif text in _OPERATORS:
            reader.take()
            output.append(_OPERATORS[text])
        elif text in _PASSED_OPERATORS:
            reader.take()
            output.append(text)
        else:
            raise Untranslatable(f"'{_short(source.strip())}' uses '{text}', which is not translated.")
    return " ".join(output).replace("( ", "(").replace(" )", ")")


def _unquote(literal: str) -> str:
    # JavaScript's string escapes (\n, \t, \', \", \\, \uXXXX) read the same in Python.
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError):
        return literal[1:-1]
    return value if isinstance(value, str) else literal[1:-1]


class _Reader:
    def __init__(self, tokens: list[tuple[str, str]], source: str, scope: Scope) -> None:
        self.tokens = tokens
        self.index = 0
        self.source = source
        self.scope = scope

    def done(self) -> bool:
        return self.index >= len(self.tokens)

    def peek(self, offset: int = 0) -> tuple[str, str]:
        position = self.index + offset
        return self.tokens[position] if position < len(self.tokens) else ("", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.index += 1
        return token

    def expect(self, text: str) -> None:
        if self.take()[1] != text:
            self.fail("is not a reference this importer understands")

    def fail(self, reason: str) -> None:
        raise Untranslatable(f"'{_short(self.source.strip())}' {reason}.")

    def string_argument(self) -> str:
        self.expect("(")
        kind, text = self.take()
        if kind != "string":
            self.fail("names a node with something other than a plain string")
        self.expect(")")
        return _unquote(text)

    def keys(self) -> list[Any]:
        """Read `.name` and `["name"]` / `[0]` accessors."""
        keys: list[Any] = []
        while True:
            if self.peek()[1] == "." and self.peek(1)[0] == "name" and self.peek(2)[1] != "(":
                name = self.peek(1)[1]
                if name == "length":
                    return keys
                self.index += 2
                keys.append(name)
            elif self.peek()[1] == "[":
                self.take()
                kind, text = self.take()
                if kind == "string":
                    keys.append(_unquote(text))
                elif kind == "number" and text.isdigit():
                    keys.append(int(text))
                else:
                    self.fail("uses a computed key")
                self.expect("]")
            else:
                return keys

    def tail(self) -> str:
        """Translate `.length` and the string methods that have a Jinja2 filter."""
        filters = ""
        while self.peek()[1] == ".":
            name = self.peek(1)[1]
            if name == "length":
                self.index += 2
                filters += " | length"
            elif name in _FILTERS and self.peek(2)[1] == "(" and self.peek(3)[1] == ")":
                self.index += 4
                filters += f" | {_FILTERS[name]}"
            else:
                self.fail(f"calls '{name}', which has no Athena equivalent")
        return filters

    def item_json(self) -> None:
        """Read `.item.json`, `.first().json`, `.last().json` or `.json` after a node or `$input`."""
        if self.peek()[1] != ".":
            self.fail("refers to a node without selecting its item's json")
        name = self.peek(1)[1]
        if name == "json":
            self.index += 2
            return
        if name == "item":
            self.index += 2
        elif name in ("first", "last") and self.peek(2)[1] == "(" and self.peek(3)[1] == ")":
            if name == "last":
                self.scope.notes.append("`.last()` reads the node's single output, as `.first()` would.")
            self.index += 4
        else:
            self.fail(f"uses '.{name}', which has no Athena equivalent")
        if self.peek()[1] != "." or self.peek(1)[1] != "json":
            self.fail("refers to an item without its json")
        self.index += 2

    def reference(self) -> str:
        _kind, name = self.take()
        if name == "$json":
            base, shape = "input", self.scope.input_shape
        elif name == "$input":
            self.item_json()
            base, shape = "input", self.scope.input_shape
        elif name == "$":
            node_name = self.string_argument()
            self.item_json()
            base, shape = self._node(node_name)
        elif name == "$node":
            if self.peek()[1] == "[":
                self.take()
                kind, text = self.take()
                if kind != "string":
                    self.fail("names a node with something other than a plain string")
                self.expect("]")
                node_name = _unquote(text)
            else:
                self.expect(".")
                node_name = self.take()[1]
            self.expect(".")
            if self.take()[1] != "json":
                self.fail("reads something other than a node's json")
            base, shape = self._node(node_name)
        elif name == "$now":
            return "now" + self.tail()
        elif name == "$vars":
            return "vars" + _subscripts(self.keys()) + self.tail()
        elif name == "$execution":
            keys = self.keys()
            if keys not in (["id"], ["mode"]):
                self.fail("reads an execution field other than id or mode")
            return f'execution["{keys[0]}"]' + self.tail()
        elif name == "$workflow":
            keys = self.keys()
            if keys != ["id"]:
                self.fail("reads a workflow field other than id")
            return 'execution["workflow_id"]' + self.tail()
        else:
            self.fail(f"uses '{name}', which has no Athena equivalent")
            return ""
        return _reshape(base, shape, self.keys(), self.scope) + self.tail()

    def _node(self, node_name: str) -> tuple[str, Shape]:
        node_id = self.scope.node_ids.get(node_name)
        if node_id is None:
            self.fail(f"refers to node '{node_name}', which is not in the workflow")
        shape = self.scope.node_shapes.get(node_name, Shape())
        return f'nodes["{node_id}"]["output"]', shape


def _subscripts(keys: list[Any]) -> str:
    return "".join(f"[{json.dumps(key)}]" for key in keys)


def _reshape(base: str, shape: Shape, keys: list[Any], scope: Scope) -> str:
    """Rewrite a path into an n8n item as a path into the Athena node's output."""
    if shape.kind == "webhook":
        if not keys:
            scope.notes.append("The whole webhook item became `trigger` (body, headers, query and method).")
            return "trigger"
        if keys[0] in ("body", "headers", "query"):
            return f'trigger["{keys[0]}"]' + _subscripts(keys[1:])
        raise Untranslatable(f"The webhook item has no '{keys[0]}' in Athena; use body, headers or query.")
    if shape.kind == "http":
        return base + '["body"]' + _subscripts(keys)
    if shape.kind == "http_full":
        if keys and keys[0] == "statusCode":
            return base + '["status"]' + _subscripts(keys[1:])
        return base + _subscripts(keys)
    if shape.kind == "llm":
        if keys[:1] in (["output"], ["text"], ["response"]):
            return base + '["text"]' + _subscripts(keys[1:])
        if keys[:2] == ["message", "content"]:
            return base + '["text"]' + _subscripts(keys[2:])
        if keys:
            scope.notes.append("The model's reply is in `text`; other fields of the n8n item may not exist.")
    return base + _subscripts(keys)


def condition_expression(left: str, operation: str, right: str) -> str:
    """Build a Jinja2 test from two translated operands and an Athena condition operator."""
    builders: dict[str, Callable[[], str]] = {
        "equals": lambda: f"({left}) == ({right})",
        "not_equals": lambda: f"({left}) != ({right})",
        "greater_than": lambda: f"({left}) > ({right})",
        "greater_or_equal": lambda: f"({left}) >= ({right})",
        "less_than": lambda: f"({left}) < ({right})",
        "less_or_equal": lambda: f"({left}) <= ({right})",
        "contains": lambda: f"({right}) in ({left})",
        "not_contains": lambda: f"({right}) not in ({left})",
        "starts_with": lambda: f"(({left}) | string).startswith(({right}) | string)",
        "ends_with": lambda: f"(({left}) | string).endswith(({right}) | string)",
        "is_empty": lambda: f"({left}) in (none, '', [], {{}})",
        "is_not_empty": lambda: f"({left}) not in (none, '', [], {{}})",
        "is_true": lambda: f"({left}) in (true, 'true')",
        "is_false": lambda: f"({left}) in (false, 'false')",
    }
    return builders[operation]()
