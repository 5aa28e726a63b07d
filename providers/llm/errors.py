"""Translation of vendor SDK and transport exceptions into the gateway's domain errors."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import anthropic
import httpx2
import openai

from athena_site.http import OutboundRequestBlocked, ResponseTooLarge
from providers.errors import (
    LLMAuthenticationFailed,
    LLMContextTooLong,
    LLMError,
    LLMRateLimited,
    LLMRequestRejected,
    LLMTimeout,
    LLMUpstreamUnavailable,
    OutboundDestinationBlocked,
)
from providers.http import retry_after_seconds
from providers.redaction import redact

logger = logging.getLogger(__name__)

# Phrases vendors use when the prompt does not fit: OpenAI's error code, then the wording of
# OpenAI, Anthropic and the common OpenAI-compatible servers (vLLM, llama.cpp).
_CONTEXT_MARKERS = (
    "context_length_exceeded",
    "maximum context length",
    "context window",
    "prompt is too long",
    "too many tokens",
    "exceeds the context",
)
_TIMEOUT_ERRORS = (openai.APITimeoutError, anthropic.APITimeoutError, httpx2.TimeoutException)
_STATUS_ERRORS = (openai.APIStatusError, anthropic.APIStatusError)
_CONNECTION_ERRORS = (openai.APIConnectionError, anthropic.APIConnectionError, httpx2.TransportError)
_BAD_RESPONSE_ERRORS = (openai.APIResponseValidationError, anthropic.APIResponseValidationError, ValueError)


def _blocked_cause(exc: BaseException) -> OutboundRequestBlocked | None:
    """Return the guard's exception when it is the cause of `exc`, however deeply the SDK wrapped it."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, OutboundRequestBlocked):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def error_for_status(status: int, text: str, *, retry_after: float | None = None) -> LLMError:
    """Return the domain error for an HTTP status and an already redacted error text."""
    lowered = text.lower()
    if status in (401, 403):
        return LLMAuthenticationFailed()
    if status == 429:
        return LLMRateLimited(retry_after=retry_after)
    if status == 413 or (status in (400, 422) and any(marker in lowered for marker in _CONTEXT_MARKERS)):
        return LLMContextTooLong()
    if status == 408:
        return LLMTimeout()
    if status >= 500:
        return LLMUpstreamUnavailable()
    return LLMRequestRejected(f"The LLM provider rejected the request: {text}")


@contextmanager
def translated_errors(*, secrets: list[str], provider_key: str) -> Iterator[None]:
    """Turn exceptions raised inside the block into LLMError subclasses with redacted messages."""
    try:
        yield
    except LLMError:
        raise
    except _TIMEOUT_ERRORS:
        logger.warning("LLM request timed out", extra={"provider": provider_key})
        raise LLMTimeout() from None
    except _STATUS_ERRORS as exc:
        text = redact(getattr(exc, "message", "") or str(exc), secrets)
        retry_after = retry_after_seconds(exc.response.headers.get("retry-after"))
        error = error_for_status(exc.status_code, text, retry_after=retry_after)
        logger.warning(
            "LLM provider answered with an error",
            extra={"provider": provider_key, "status": exc.status_code, "error_code": error.code},
        )
        raise error from None
    except (ResponseTooLarge, OutboundRequestBlocked) as exc:
        raise _guard_error(exc, secrets) from None
    except _CONNECTION_ERRORS as exc:
        blocked = _blocked_cause(exc)
        if blocked is not None:
            raise _guard_error(blocked, secrets) from None
        logger.warning("LLM provider could not be reached", extra={"provider": provider_key})
        raise LLMUpstreamUnavailable() from None
    except _BAD_RESPONSE_ERRORS:
        logger.warning("LLM provider sent an invalid response", extra={"provider": provider_key})
        raise LLMUpstreamUnavailable("The LLM provider sent a response that could not be read.") from None


def _guard_error(exc: OutboundRequestBlocked, secrets: list[str]) -> LLMError | OutboundDestinationBlocked:
    if isinstance(exc, ResponseTooLarge):
        return LLMUpstreamUnavailable("The LLM provider sent a response larger than allowed.")
    return OutboundDestinationBlocked(redact(exc, secrets))
