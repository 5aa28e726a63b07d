"""Request-id and request-body-size middleware."""

import io
import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve

from athena_site.logging import new_request_id, reset_request_id, set_request_id

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"


class RequestIdMiddleware:
    """Give each request an id, echo it in `X-Request-ID`, and expose it to logging."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = new_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


def body_limit_for(view_func: Callable) -> int:
    """Return the body-size limit in bytes for a view: its `max_body_size`, else the setting."""
    for candidate in (view_func, getattr(view_func, "cls", None), getattr(view_func, "view_class", None)):
        limit = getattr(candidate, "max_body_size", None)
        if limit:
            return int(limit)
    return settings.ATHENA_MAX_REQUEST_BYTES


def max_body_size(limit: int) -> Callable[[Callable], Callable]:
    """Set the request-body limit of a plain Django view, in bytes."""

    def decorate(view_func: Callable) -> Callable:
        view_func.max_body_size = limit
        return view_func

    return decorate


def _too_large(limit: int) -> JsonResponse:
    return JsonResponse(
        {"message": f"The request body is larger than the limit of {limit} bytes.", "code": "payload_too_large"},
        status=413,
    )


class RequestBodyLimitMiddleware:
    """Answer 413 when a body exceeds the route's limit, including chunked bodies.

    Django treats a request without Content-Length as empty. A server that de-chunks the body
    and marks the stream terminated (gunicorn sets `wsgi.input_terminated`) lets us read it to
    the end, so the body is read here with the cap applied and handed on with a real length.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return self.get_response(request)
        try:
            limit = body_limit_for(resolve(request.path_info).func)
        except Resolver404:
            limit = settings.ATHENA_MAX_REQUEST_BYTES

        declared = request.META.get("CONTENT_LENGTH")
        if declared:
            try:
                length = int(declared)
            except ValueError:
                return JsonResponse(
                    {"message": "Invalid Content-Length header.", "code": "malformed_request"}, status=400
                )
            if length > limit:
                return _too_large(limit)
        elif request.META.get("wsgi.input_terminated"):
            body = request.META["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return _too_large(limit)
            request._stream = io.BytesIO(body)
            request.META["CONTENT_LENGTH"] = str(len(body))

        return self.get_response(request)


class FramingMiddleware:
    """Deny framing, or allow only ATHENA_EMBED_ORIGINS through CSP `frame-ancestors`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        origins = settings.ATHENA_EMBED_ORIGINS
        if origins:
            response["Content-Security-Policy"] = "frame-ancestors 'self' " + " ".join(origins)
            if "X-Frame-Options" in response:
                del response["X-Frame-Options"]
        elif not getattr(response, "xframe_options_exempt", False):
            response.setdefault("X-Frame-Options", "DENY")
            response.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
        return response
