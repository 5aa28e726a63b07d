"""Error codes of the agents app."""

from athena_site.api.errors import ApplicationError


class AgentLimitExceeded(ApplicationError):
    """A run reached one of its limits; `limit` names it (max_steps, max_tokens, max_cost, max_seconds)."""

    status_code = 422
    code = "agent_limit_exceeded"

    def __init__(self, limit: str, message: str) -> None:
        self.limit = limit
        super().__init__(message)


class RunCanceled(ApplicationError):
    status_code = 499
    code = "run_canceled"
    message = "The client disconnected, so the run was stopped."


class AgentNotConfigured(ApplicationError):
    status_code = 422
    code = "agent_not_configured"
    message = "The agent has no model or account. Set model_id and account_id first."


class GenerationFailed(ApplicationError):
    status_code = 502
    code = "generation_failed"
    message = "The model did not return a valid agent definition."


class PublicRunRateLimited(ApplicationError):
    status_code = 429
    code = "throttled"
    message = "Too many runs through this link. Try again later."


class ToolError(Exception):
    """A tool failed in a way the model should hear about; the message is sent back to it."""
