"""The gateway's public functions: retries of transient failures, cost accounting and account bookkeeping."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings

from athena_site.api.errors import ValidationFailed
from providers.authentication import secret_values
from providers.errors import LLMAuthenticationFailed, LLMError, LLMUnsupported
from providers.http import backoff_seconds
from providers.llm.adapters import EMBEDDING_MAX_RESPONSE_BYTES, adapter_for
from providers.llm.errors import translated_errors
from providers.llm.types import ChatResult, EmbeddingResult, TextDelta, Usage
from providers.models import Account, AccountStatus, AuthStrategy, Capability, LargeLanguageModel

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 60.0
MAX_ATTEMPTS = 3
# A Retry-After longer than this is not waited for: the caller gets llm_rate_limited at once.
MAX_RETRY_WAIT_SECONDS = 20.0
MAX_EMBEDDING_TEXTS = 2048
MILLION = Decimal(1_000_000)

# Tests replace this seam to observe waits without sleeping.
_sleep: Callable[[float], None] = time.sleep

T = TypeVar("T")


def cost_for(llm: LargeLanguageModel, usage: Usage) -> Decimal | None:
    """Return the cost in US dollars of `usage` at the model's prices, or None when a price is missing."""
    if llm.input_price_per_million is None or llm.output_price_per_million is None:
        return None
    input_price = Decimal(str(llm.input_price_per_million))
    output_price = Decimal(str(llm.output_price_per_million))
    return (Decimal(usage.input_tokens) * input_price + Decimal(usage.output_tokens) * output_price) / MILLION


def _timeout(timeout: float | None) -> float:
    """Return the timeout of one attempt: the caller's, but never more than ATHENA_LLM_TIMEOUT_SECONDS.

    Callers pass what is left of their own deadline (an agent's max_seconds), which can be far
    longer than one stalled request should hold a worker.
    """
    limit = float(getattr(settings, "ATHENA_LLM_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
    if timeout is None:
        return limit
    return min(float(timeout), limit)


def _prepare(account: Account) -> Account:
    """Check the account can be used and refresh its OAuth2 token when it is about to expire."""
    from providers import oauth

    if account.status in (AccountStatus.EXPIRED, AccountStatus.REVOKED):
        raise LLMAuthenticationFailed("The account is expired or revoked. Connect it again or replace its key.")
    if account.provider.strategy == AuthStrategy.OAUTH2:
        account = oauth.account_ensure_fresh_token(account=account)
    return account


def _check_pair(llm: LargeLanguageModel, account: Account) -> None:
    if llm.provider_id != account.provider_id:
        raise ValidationFailed(errors={"account_id": ["The account belongs to another provider than the model."]})
    if llm.workspace_id is not None and llm.workspace_id != account.workspace_id:
        raise ValidationFailed(errors={"model_id": ["The model belongs to another workspace than the account."]})


def _retrying(call: Callable[[], T], *, provider_key: str) -> T:
    """Run `call`, retrying transient LLM errors with capped backoff."""
    attempt = 1
    while True:
        try:
            return call()
        except LLMError as exc:
            retry_after = getattr(exc, "retry_after", None)
            if not exc.transient or attempt >= MAX_ATTEMPTS:
                raise
            if retry_after is not None and retry_after > MAX_RETRY_WAIT_SECONDS:
                raise
            wait = backoff_seconds(attempt, retry_after, cap=MAX_RETRY_WAIT_SECONDS)
            logger.warning(
                "Retrying LLM request after %s",
                exc.code,
                extra={"provider": provider_key, "attempt": attempt, "wait_seconds": round(wait, 2)},
            )
            _sleep(wait)
            attempt += 1


def _record_failure(account: Account, exc: LLMError) -> None:
    from providers import services

    if isinstance(exc, LLMAuthenticationFailed) and account.status == AccountStatus.ACTIVE:
        services.account_mark_failed(account=account, status=AccountStatus.ERROR, error=exc.message)


def chat(
    *,
    model: LargeLanguageModel,
    account: Account,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None = None,
    response_format: dict[str, Any] | None = None,
    stream: bool = False,
    timeout: float | None = None,
    max_tokens: int | None = None,
    sampling: dict[str, float] | None = None,
) -> ChatResult | Iterator[TextDelta | ChatResult]:
    """Send a chat to `model` as `account` and return the result, or an iterator when `stream` is true.

    Messages and tools use OpenAI's Chat Completions shape whatever the vendor. `max_tokens`
    caps the reply; without it OpenAI-compatible servers use their own default and Anthropic
    gets 4096 or the model's maximum output, whichever is smaller. `sampling` passes
    `temperature` and `top_p` when set. A stream yields
    TextDelta items and ends with one ChatResult carrying the tool calls, usage and cost.
    Transient failures are retried up to 3 attempts (a stream only before its first delta).
    Raises an LLMError subclass: LLMAuthenticationFailed, LLMRateLimited, LLMContextTooLong,
    LLMUpstreamUnavailable, LLMTimeout or LLMRequestRejected.
    """
    from providers import services

    _check_pair(model, account)
    account = _prepare(account)
    secrets = secret_values(account.credentials.reveal() if account.credentials else None)
    arguments = {
        "model": model.model,
        "messages": messages,
        "tools": tools,
        "response_format": response_format,
        "max_tokens": max_tokens,
        "model_max_tokens": model.max_output_tokens,
        "sampling": sampling,
    }
    seconds = _timeout(timeout)
    provider_key = account.provider.key

    if stream:
        return _stream(model, account, arguments, seconds, secrets)

    def call() -> ChatResult:
        adapter = adapter_for(account, timeout=seconds)
        with translated_errors(secrets=secrets, provider_key=provider_key):
            return adapter.chat(**arguments)

    started = time.monotonic()
    try:
        result = _retrying(call, provider_key=provider_key)
    except LLMError as exc:
        _record_failure(account, exc)
        raise
    services.account_mark_used(account=account)
    logger.info(
        "LLM chat finished",
        extra={
            "provider": provider_key,
            "model": model.model,
            "input_tokens": result.usage.input_tokens,
            "output_tokens": result.usage.output_tokens,
            "duration_ms": round((time.monotonic() - started) * 1000),
        },
    )
    return ChatResult(
        text=result.text,
        tool_calls=result.tool_calls,
        finish_reason=result.finish_reason,
        usage=result.usage,
        cost=cost_for(model, result.usage),
        model=result.model,
    )


def _stream(
    model: LargeLanguageModel, account: Account, arguments: dict[str, Any], seconds: float, secrets: list[str]
) -> Iterator[TextDelta | ChatResult]:
    from providers import services

    provider_key = account.provider.key
    attempt = 1
    while True:
        emitted = False
        adapter = adapter_for(account, timeout=seconds)
        try:
            with translated_errors(secrets=secrets, provider_key=provider_key):
                for item in adapter.stream(**arguments):
                    if isinstance(item, ChatResult):
                        services.account_mark_used(account=account)
                        yield ChatResult(
                            text=item.text,
                            tool_calls=item.tool_calls,
                            finish_reason=item.finish_reason,
                            usage=item.usage,
                            cost=cost_for(model, item.usage),
                            model=item.model,
                        )
                        return
                    emitted = True
                    yield item
        except LLMError as exc:
            retry_after = getattr(exc, "retry_after", None)
            retryable = exc.transient and not emitted and attempt < MAX_ATTEMPTS
            if not retryable or (retry_after is not None and retry_after > MAX_RETRY_WAIT_SECONDS):
                _record_failure(account, exc)
                raise
            wait = backoff_seconds(attempt, retry_after, cap=MAX_RETRY_WAIT_SECONDS)
            logger.warning(
                "Retrying LLM stream after %s",
                exc.code,
                extra={"provider": provider_key, "attempt": attempt, "wait_seconds": round(wait, 2)},
            )
            _sleep(wait)
            attempt += 1


def embed(
    *, model: LargeLanguageModel, account: Account, texts: list[str], timeout: float | None = None
) -> EmbeddingResult:
    """Return one embedding vector per text, with usage and cost.

    Raises LLMUnsupported for a model without the `embeddings` capability or a provider
    without an embeddings API, and the other LLMError subclasses as `chat` does.
    """
    from providers import services

    _check_pair(model, account)
    if not model.has_capability(Capability.EMBEDDINGS):
        raise LLMUnsupported("The model does not have the embeddings capability.")
    if not texts or len(texts) > MAX_EMBEDDING_TEXTS:
        raise ValidationFailed(errors={"texts": [f"Send between 1 and {MAX_EMBEDDING_TEXTS} texts."]})
    account = _prepare(account)
    secrets = secret_values(account.credentials.reveal() if account.credentials else None)
    seconds = _timeout(timeout)
    provider_key = account.provider.key

    def call() -> EmbeddingResult:
        adapter = adapter_for(account, timeout=seconds, max_response_bytes=EMBEDDING_MAX_RESPONSE_BYTES)
        with translated_errors(secrets=secrets, provider_key=provider_key):
            return adapter.embed(model=model.model, texts=texts)

    try:
        result = _retrying(call, provider_key=provider_key)
    except LLMError as exc:
        _record_failure(account, exc)
        raise
    services.account_mark_used(account=account)
    return EmbeddingResult(
        vectors=result.vectors, usage=result.usage, cost=cost_for(model, result.usage), model=result.model
    )


def list_models(*, account: Account, timeout: float | None = None) -> list[str]:
    """Return the vendor model strings the provider lists for the account.

    Raises an LLMError subclass when the provider cannot be reached or rejects the account.
    """
    account = _prepare(account)
    secrets = secret_values(account.credentials.reveal() if account.credentials else None)
    seconds = _timeout(timeout)
    provider_key = account.provider.key

    def call() -> list[str]:
        adapter = adapter_for(account, timeout=seconds)
        with translated_errors(secrets=secrets, provider_key=provider_key):
            return adapter.list_models()

    return _retrying(call, provider_key=provider_key)
