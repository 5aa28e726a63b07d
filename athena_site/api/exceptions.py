"""The one exception handler: every API error is rendered as `{message, code, errors}`."""

import logging
import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from athena_site.api.errors import ApplicationError
from athena_site.logging import get_request_id

logger = logging.getLogger(__name__)

WWW_AUTHENTICATE = 'Bearer realm="athena"'

# DRF's own exception classes mapped to Athena's status codes and error codes.
_DRF_ERRORS: list[tuple[type[exceptions.APIException], int, str, str | None]] = [
    (exceptions.NotAuthenticated, 401, "unauthenticated", "Unauthenticated."),
    (exceptions.AuthenticationFailed, 401, "unauthenticated", None),
    (exceptions.PermissionDenied, 403, "forbidden", None),
    (exceptions.NotFound, 404, "not_found", "Not found."),
    (exceptions.MethodNotAllowed, 405, "method_not_allowed", None),
    (exceptions.NotAcceptable, 406, "not_acceptable", None),
    (exceptions.UnsupportedMediaType, 415, "unsupported_media_type", None),
    (exceptions.Throttled, 429, "throttled", None),
    (exceptions.ParseError, 400, "malformed_request", None),
]


def _flatten_detail(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten_detail(value) for key, value in detail.items()}
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return [str(item) for item in detail]
        return [_flatten_detail(item) for item in detail]
    return [str(detail)]


def validation_errors(detail: Any) -> dict[str, Any]:
    """Turn a DRF ValidationError detail into `{field: [messages]}`."""
    flattened = _flatten_detail(detail)
    if isinstance(flattened, dict):
        return flattened
    return {"non_field_errors": flattened}


def error_response(
    message: str, code: str, status_code: int, *, errors: Any = None, headers: dict[str, str] | None = None
) -> Response:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    response = Response(body, status=status_code, headers=headers)
    response.is_error = True
    return response


def _custom_code(exc: exceptions.APIException, default: str) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str) and codes != exc.default_code:
        return codes
    return default


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """Render any exception raised in a DRF view as Athena's error body."""
    if isinstance(exc, ApplicationError):
        headers = dict(exc.headers)
        if exc.status_code == 401:
            headers.setdefault("WWW-Authenticate", WWW_AUTHENTICATE)
        return error_response(exc.message, exc.code, exc.status_code, errors=exc.errors, headers=headers)

    if isinstance(exc, exceptions.ValidationError):
        return error_response(
            "The given data was invalid.", "validation_error", 422, errors=validation_errors(exc.detail)
        )

    request = context.get("request")
    upstream_error = getattr(request, "upstream_auth_error", None) if request is not None else None
    if isinstance(exc, exceptions.NotAuthenticated) and upstream_error:
        # An identity provider that could not be reached is not the client's fault: 503, not 401.
        return error_response(
            "The identity provider could not be reached. Try again later.",
            upstream_error,
            503,
            headers={"Retry-After": "5"},
        )

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        return error_response("The request body is too large.", "payload_too_large", 413)

    for exc_class, status_code, code, message in _DRF_ERRORS:
        if isinstance(exc, exc_class):
            headers: dict[str, str] = {}
            # DRF returns 403 when the first authentication class has no challenge (sessions), but
            # Athena always returns 401 with a Bearer challenge, because tokens are accepted too.
            if status_code == 401:
                headers["WWW-Authenticate"] = WWW_AUTHENTICATE
            if isinstance(exc, exceptions.Throttled):
                headers["Retry-After"] = str(max(1, math.ceil(exc.wait or 1)))
            detail = message or str(exc.detail)
            return error_response(detail, _custom_code(exc, code), status_code, headers=headers)

    if isinstance(exc, exceptions.APIException):
        return error_response(str(exc.detail), _custom_code(exc, "error"), exc.status_code)

    logger.exception(
        "Unhandled error in API view",
        extra={"request_id": get_request_id(), "path": getattr(request, "path", None)},
    )
    return error_response("Server error.", "server_error", status.HTTP_500_INTERNAL_SERVER_ERROR)
