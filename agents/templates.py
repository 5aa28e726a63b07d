"""Sandboxed rendering of prompt templates and agent instructions with Jinja2."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from athena_site.api.errors import ValidationFailed

# Rendered text longer than this is cut off by an error, so that a loop in a template cannot
# build an unbounded string.
MAX_RENDERED_CHARS = 200_000
VARIABLE_TYPES = ("string", "number", "integer", "boolean", "object", "array")
# Compiled templates kept per process: an agent's instructions are rendered on every turn.
COMPILED_TEMPLATE_CACHE_SIZE = 512

# One environment serves every thread: rendering does not change it.
_ENVIRONMENT = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


@lru_cache(maxsize=COMPILED_TEMPLATE_CACHE_SIZE)
def _compiled(template: str) -> Template:
    return _ENVIRONMENT.from_string(template)


def template_variables(template: str, *, field: str = "template") -> set[str]:
    """Return the names a template reads; raises ValidationFailed on a syntax error."""
    try:
        parsed = _ENVIRONMENT.parse(template)
    except TemplateSyntaxError as exc:
        raise ValidationFailed(errors={field: [f"Template syntax error on line {exc.lineno}: {exc.message}"]}) from None
    return set(meta.find_undeclared_variables(parsed))


def render_template(template: str, values: dict[str, Any], *, field: str = "variables") -> str:
    """Render `template` with `values` in the sandbox.

    Raises ValidationFailed naming the variable when one is undefined, and when the template
    breaks the sandbox or renders more than MAX_RENDERED_CHARS characters.
    """
    try:
        text = _compiled(template).render(**values)
    except UndefinedError as exc:
        raise ValidationFailed(errors={field: [f"Missing variable: {exc.message}."]}) from None
    except SecurityError as exc:
        raise ValidationFailed(errors={field: [f"The template is not allowed to do this: {exc}."]}) from None
    except TemplateSyntaxError as exc:
        raise ValidationFailed(errors={"template": [f"Template syntax error: {exc.message}"]}) from None
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise ValidationFailed(errors={field: [f"The template failed to render: {exc}."]}) from None
    if len(text) > MAX_RENDERED_CHARS:
        raise ValidationFailed(errors={field: [f"The rendered text exceeds {MAX_RENDERED_CHARS} characters."]})
    return text


def prompt_values(*, declared: list[dict[str, Any]], given: dict[str, Any]) -> dict[str, Any]:
    """Merge given values over the declared defaults, rejecting undeclared and missing required variables.

    Raises ValidationFailed with one message per offending variable, under `variables.<name>`.
    """
    names = {item["name"]: item for item in declared}
    errors: dict[str, list[str]] = {}
    for name in given:
        if name not in names:
            errors[f"variables.{name}"] = [f"The variable '{name}' is not declared by this prompt."]
    values: dict[str, Any] = {}
    for name, item in names.items():
        if name in given:
            values[name] = given[name]
        elif item.get("default") is not None:
            values[name] = item["default"]
        elif item.get("required", True):
            errors[f"variables.{name}"] = [f"The required variable '{name}' is missing."]
    if errors:
        raise ValidationFailed(errors=errors)
    return values
