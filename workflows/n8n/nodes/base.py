"""The shared parts of the node mappers: the mapping context, its result, JSON templates and naming helpers."""

import json
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from workflows.n8n.expressions import (
    Scope,
    Shape,
    Untranslatable,
    escape_literal,
    inner_expression,
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
