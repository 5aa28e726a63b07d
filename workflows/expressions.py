"""`{{ ... }}` expressions in node parameters, rendered in a sandboxed Jinja2 environment.

The sandbox refuses attribute access to Python internals and mutating containers; on top of it
this module caps the size of rendered text and of repeated strings and lists, and refuses large
powers, so an expression cannot make the worker burn CPU or memory.
"""

import operator
import re
from functools import lru_cache
from typing import Any

from django.conf import settings
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, Undefined, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

# A string that is one expression and nothing else keeps the expression's value type.
_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<body>.*?)\}\}\s*$", re.DOTALL)
MAX_POWER_EXPONENT = 64
MAX_REPEAT_LENGTH = 100_000
REDACTED = "[redacted]"
# Shorter secrets would redact ordinary words and numbers from stored data.
MIN_REDACTED_SECRET_LENGTH = 4


class ExpressionError(Exception):
    """An expression failed to parse or render; the message names the expression."""


class _Environment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"**", "*"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, (int, float)) and abs(right) > MAX_POWER_EXPONENT:
                raise SecurityError(f"Exponents above {MAX_POWER_EXPONENT} are not allowed.")
            return operator.pow(left, right)
        if operator_name == "*":
            for sequence, count in ((left, right), (right, left)):
                repeats = isinstance(sequence, (str, list, tuple)) and isinstance(count, int)
                if repeats and len(sequence) * max(count, 0) > MAX_REPEAT_LENGTH:
                    raise SecurityError(f"Repeating a value beyond {MAX_REPEAT_LENGTH} items is not allowed.")
            return operator.mul(left, right)
        return super().call_binop(context, operator_name, left, right)


@lru_cache(maxsize=1)
def environment() -> _Environment:
    return _Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def has_expression(value: str) -> bool:
    return "{{" in value or "{%" in value


@lru_cache(maxsize=2048)
def _compiled_template(source: str) -> Any:
    return environment().from_string(source)


@lru_cache(maxsize=2048)
def _compiled_expression(source: str) -> Any:
    return environment().compile_expression(source, undefined_to_none=False)


def check_syntax(value: str) -> str | None:
    """Return why the template in `value` does not parse, or None when it does."""
    try:
        environment().parse(value)
    except TemplateSyntaxError as exc:
        return f"Expression does not parse: {exc.message} (line {exc.lineno})."
    return None


def _short(source: str) -> str:
    return source if len(source) <= 120 else source[:117] + "..."


def render_string(value: str, context: dict[str, Any]) -> str:
    """Render `value` as text. Raises ExpressionError naming the expression when it fails."""
    if not has_expression(value):
        return value
    limit = settings.WORKFLOWS_MAX_EXPRESSION_OUTPUT_CHARS
    try:
        text = _compiled_template(value).render(context)
    except UndefinedError as exc:
        raise ExpressionError(f"Expression '{_short(value)}' failed: {exc.message}.") from None
    except SecurityError as exc:
        raise ExpressionError(f"Expression '{_short(value)}' is not allowed: {exc}") from None
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as exc:
        raise ExpressionError(f"Expression '{_short(value)}' failed: {exc}") from None
    if len(text) > limit:
        raise ExpressionError(f"Expression '{_short(value)}' rendered more than {limit} characters.")
    return text


def _check_size(result: Any, limit: int, source: str) -> None:
    if isinstance(result, str) and len(result) > limit:
        raise ExpressionError(f"Expression '{_short(source)}' rendered more than {limit} characters.")


def render_value(value: Any, context: dict[str, Any]) -> Any:
    """Render every string inside `value` (dicts, lists and scalars), keeping the structure."""
    if isinstance(value, str):
        return _render_with_context(value, context)
    if isinstance(value, dict):
        return {key: render_value(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [render_value(item, context) for item in value]
    return value


def _render_with_context(value: str, context: dict[str, Any]) -> Any:
    match = _SINGLE_EXPRESSION.match(value)
    if match and "{{" not in match.group("body") and "{%" not in value:
        source = match.group("body").strip()
        try:
            result = _compiled_expression(source)(**context)
        except UndefinedError as exc:
            raise ExpressionError(f"Expression '{_short(value)}' failed: {exc.message}.") from None
        except SecurityError as exc:
            raise ExpressionError(f"Expression '{_short(value)}' is not allowed: {exc}") from None
        except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as exc:
            raise ExpressionError(f"Expression '{_short(value)}' failed: {exc}") from None
        if isinstance(result, Undefined):
            raise ExpressionError(f"Expression '{_short(value)}' failed: {result._undefined_message}.")
        _check_size(result, settings.WORKFLOWS_MAX_EXPRESSION_OUTPUT_CHARS, value)
        return _plain(result)
    return render_string(value, context)


def _plain(value: Any) -> Any:
    """Turn Jinja's markup and other string subclasses into plain JSON-friendly values."""
    if isinstance(value, str) and type(value) is not str:
        return str(value)
    return value


def collect_strings(value: Any, path: str = "") -> list[tuple[str, str]]:
    """List `(path, string)` for every string inside `value`, with dotted paths for error messages."""
    found: list[tuple[str, str]] = []
    if isinstance(value, str):
        found.append((path, value))
    elif isinstance(value, dict):
        for key, item in value.items():
            found.extend(collect_strings(item, f"{path}.{key}" if path else str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(collect_strings(item, f"{path}[{index}]"))
    return found


def redact(value: Any, secret_values: list[str]) -> Any:
    """Replace every occurrence of a secret in the strings of `value` with a marker."""
    secrets = [item for item in secret_values if isinstance(item, str) and len(item) >= MIN_REDACTED_SECRET_LENGTH]
    if not secrets:
        return value
    # Longest first, so a secret that contains another is replaced whole.
    secrets.sort(key=len, reverse=True)
    return _redact(value, secrets)


def _redact(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {_redact(key, secrets): _redact(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact(item, secrets) for item in value]
    return value
