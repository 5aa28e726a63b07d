"""A JSON parser that rejects malformed, deeply nested or NUL-containing bodies with 400."""

import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def check_json_value(value: Any, *, max_depth: int) -> None:
    """Raise ValueError when a decoded value nests deeper than `max_depth` or holds a NUL character."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > max_depth:
                raise ValueError(f"JSON nesting is deeper than {max_depth} levels")
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(key, str) and "\x00" in key:
                    raise ValueError("JSON keys must not contain NUL characters")
                stack.append((child, depth + 1))
        elif isinstance(item, str) and "\x00" in item:
            raise ValueError("JSON strings must not contain NUL characters")


def parse_json_bytes(raw: bytes) -> Any:
    """Decode a JSON request body, raising ParseError (400 `malformed_json`) with the reason."""
    if not raw.strip():
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError("Malformed JSON: the body is not valid UTF-8.", code="malformed_json") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
        check_json_value(value, max_depth=settings.ATHENA_MAX_JSON_DEPTH)
    except RecursionError:
        raise ParseError("Malformed JSON: the body is nested too deeply.", code="malformed_json") from None
    except ValueError as exc:
        raise ParseError(f"Malformed JSON: {exc}.", code="malformed_json") from None
    return value


class StrictJSONParser(JSONParser):
    """Parse `application/json` bodies; the body-size middleware has already capped their length."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        if stream is None:
            return {}
        return parse_json_bytes(stream.read())
