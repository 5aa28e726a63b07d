"""Domain errors of the providers app and of the LLM gateway, each with a stable code."""

from athena_site.api.errors import ApplicationError


class ProviderReadOnly(ApplicationError):
    status_code = 403
    code = "provider_read_only"
    message = "Built-in providers and catalogue models are read-only; create your own instead."


class AccountTestUnavailable(ApplicationError):
    status_code = 422
    code = "account_test_unavailable"
    message = "This provider has no test path, so the account cannot be tested."


class OutboundDestinationBlocked(ApplicationError):
    status_code = 422
    code = "outbound_request_blocked"
    message = "The provider's address is not allowed for outbound requests."


class OAuthRefreshFailed(ApplicationError):
    status_code = 502
    code = "oauth_refresh_failed"
    message = "The provider did not refresh the access token. Try again later."


class AccountNeedsReconnect(ApplicationError):
    status_code = 409
    code = "account_needs_reconnect"
    message = "The provider no longer accepts this account's grant. Connect the account again."


class LLMError(ApplicationError):
    """Base of the gateway's errors. `transient` errors may succeed when retried."""

    transient = False


class LLMAuthenticationFailed(LLMError):
    # 502, not 401: the vendor rejected the stored key, the caller's own credentials are fine.
    status_code = 502
    code = "llm_authentication_failed"
    message = "The LLM provider rejected the account's credentials. Check or replace the key."


class LLMRateLimited(LLMError):
    status_code = 429
    code = "llm_rate_limited"
    message = "The LLM provider is rate limiting this account. Try again later."
    transient = True

    def __init__(self, message: str | None = None, *, retry_after: float | None = None, **kwargs) -> None:
        self.retry_after = retry_after
        headers = kwargs.pop("headers", None) or {}
        if retry_after is not None:
            headers["Retry-After"] = str(max(1, round(retry_after)))
        super().__init__(message, headers=headers, **kwargs)


class LLMContextTooLong(LLMError):
    status_code = 422
    code = "llm_context_too_long"
    message = "The messages do not fit in the model's context window. Shorten them or pick a larger model."


class LLMUpstreamUnavailable(LLMError):
    status_code = 503
    code = "llm_upstream_unavailable"
    message = "The LLM provider is unavailable or sent an invalid response. Try again later."
    transient = True


class LLMTimeout(LLMError):
    status_code = 504
    code = "llm_timeout"
    message = "The LLM provider did not answer in time."
    transient = True


class LLMRequestRejected(LLMError):
    status_code = 422
    code = "llm_request_rejected"
    message = "The LLM provider rejected the request."


class LLMUnsupported(LLMError):
    status_code = 422
    code = "llm_unsupported"
    message = "The model or provider does not support this operation."
