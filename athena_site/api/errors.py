"""Domain errors: every app raises an ApplicationError subclass and the exception handler renders it."""

from typing import Any


class ApplicationError(Exception):
    """An expected failure with a stable snake_case code, an HTTP status and a readable message."""

    status_code = 400
    code = "bad_request"
    message = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status_code: int | None = None,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.status_code = status_code or self.status_code
        self.errors = errors
        self.headers = headers or {}
        super().__init__(self.message)

    def as_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


class ValidationFailed(ApplicationError):
    status_code = 422
    code = "validation_error"
    message = "The given data was invalid."


class Conflict(ApplicationError):
    status_code = 409
    code = "conflict"
    message = "The request conflicts with the current state of the resource."


class NotFound(ApplicationError):
    status_code = 404
    code = "not_found"
    message = "Not found."


class Forbidden(ApplicationError):
    status_code = 403
    code = "forbidden"
    message = "You do not have permission to perform this action."


class PayloadTooLarge(ApplicationError):
    status_code = 413
    code = "payload_too_large"
    message = "The request body is too large."


class UpstreamUnavailable(ApplicationError):
    status_code = 503
    code = "upstream_unavailable"
    message = "An upstream service is unavailable. Try again later."
