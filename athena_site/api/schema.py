"""OpenAPI generation: responses wrapped in their envelopes and the error responses of every operation."""

from typing import Any

from drf_spectacular.openapi import AutoSchema

ERROR_SCHEMA = {
    "type": "object",
    "required": ["message", "code"],
    "properties": {
        "message": {"type": "string", "example": "Not found."},
        "code": {"type": "string", "example": "not_found"},
    },
}

# A 422 is a validation error listing fields (`validation_error` with `errors`), or a domain error
# with its own code and no `errors` (for example `outbound_request_blocked`).
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "required": ["message", "code"],
    "properties": {
        "message": {"type": "string", "example": "The given data was invalid."},
        "code": {"type": "string", "example": "validation_error"},
        "errors": {
            "type": "object",
            # Messages per field; a list or nested field carries its items' errors as an object
            # keyed by index or sub-field, or as a list of such objects.
            "additionalProperties": {
                "anyOf": [
                    {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
                    {"type": "object"},
                ]
            },
            "example": {"name": ["This field is required."]},
        },
    },
}

PAGINATION_META_SCHEMA = {
    "type": "object",
    "required": ["current_page", "from", "last_page", "path", "per_page", "to", "total"],
    "properties": {
        "current_page": {"type": "integer", "example": 1},
        "from": {"type": "integer", "nullable": True, "example": 1},
        "last_page": {"type": "integer", "example": 3},
        "path": {"type": "string", "format": "uri"},
        "per_page": {"type": "integer", "example": 15},
        "to": {"type": "integer", "nullable": True, "example": 15},
        "total": {"type": "integer", "example": 42},
    },
}

PAGINATION_LINKS_SCHEMA = {
    "type": "object",
    "required": ["first", "last", "prev", "next"],
    "properties": {
        name: {"type": "string", "format": "uri", "nullable": True} for name in ("first", "last", "prev", "next")
    },
}

# Status -> (description, component). Added to each operation unless the view documents it itself.
_COMMON_ERRORS = {
    "400": ("Malformed request body (invalid JSON, nesting too deep, NUL characters).", "Error"),
    "401": ("Unauthenticated: no valid session, Multiplai token or bearer token.", "Error"),
    "403": ("The role or token abilities do not allow this action.", "Error"),
    "404": ("Not found, or not visible to the caller.", "Error"),
    "429": ("Too many requests; retry after the `Retry-After` header's seconds.", "Error"),
    "500": ("Unexpected server error.", "Error"),
}
_BODY_ERRORS = {
    "413": ("The request body exceeds the route's size limit.", "Error"),
    "415": ("Unsupported request Content-Type.", "Error"),
    "422": ("Validation failed; `errors` lists the messages per field.", "ValidationError"),
}
_QUERY_ERRORS = {"422": ("Invalid query parameter; `errors` names it.", "ValidationError")}


def _error_response(description: str, component: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
    }


class AthenaAutoSchema(AutoSchema):
    """AutoSchema that documents the `{data}` envelope and the shared error responses."""

    # Set by views whose responses are not enveloped (the OpenAI-compatible endpoint).
    envelope = True

    def _get_response_for_code(self, serializer, status_code, media_types=None, direction="response"):
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        if not self._should_wrap(serializer, status_code):
            return response
        for media in response.get("content", {}).values():
            if "schema" in media:
                media["schema"] = {"type": "object", "required": ["data"], "properties": {"data": media["schema"]}}
            for example in media.get("examples", {}).values():
                if "value" in example:
                    example["value"] = {"data": example["value"]}
        return response

    def _should_wrap(self, serializer: Any, status_code: str) -> bool:
        if not getattr(self.view, "envelope", self.envelope) or not status_code.startswith("2"):
            return False
        is_paginated_list = self._is_list_view(serializer) and self._get_paginator() is not None
        return not is_paginated_list

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        errors = dict(_COMMON_ERRORS)
        if method in ("POST", "PUT", "PATCH"):
            errors.update(_BODY_ERRORS)
        elif method == "GET" and operation.get("parameters"):
            errors.update(_QUERY_ERRORS)
        if getattr(self.view, "permission_classes", None) == [] or self.get_auth() == []:
            errors.pop("401", None)
            errors.pop("403", None)
        for status_code, (description, component) in errors.items():
            responses.setdefault(status_code, _error_response(description, component))
        return operation


def add_envelope_components(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Register the error and pagination components every operation refers to, and the servers."""
    from django.conf import settings

    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR_SCHEMA)
    schemas.setdefault("ValidationError", VALIDATION_ERROR_SCHEMA)
    schemas.setdefault("PaginationMeta", PAGINATION_META_SCHEMA)
    schemas.setdefault("PaginationLinks", PAGINATION_LINKS_SCHEMA)
    result["servers"] = [{"url": settings.ATHENA_PUBLIC_URL, "description": "This Athena server"}]
    return result
