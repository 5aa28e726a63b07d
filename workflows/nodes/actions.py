"""Nodes that reach outside the execution (HTTP, sub-workflows, webhook answers) or wait."""

import json
import logging
from datetime import datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from athena_site.http import OutboundRequestBlocked, guarded_session
from workflows.expressions import redact
from workflows.nodes.base import NodeContext, NodeError, NodeResult, NodeType, Wait, register, strict_object
from workflows.nodes.logic import ANY, EXPRESSION, INTEGER_OR_EXPRESSION, NUMBER_OR_EXPRESSION

logger = logging.getLogger(__name__)

HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
MAX_HTTP_TIMEOUT_SECONDS = 300
STRING_MAP = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}, "maxProperties": 100}
# Statuses worth trying again: the peer may answer differently later.
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def _number(value: Any, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise NodeError(f"'{name}' must be a number, not {value!r}.", retryable=False) from None


def _session_for(context: NodeContext, account_id: Any, timeout: float) -> tuple[requests.Session, list[str]]:
    """Return the account's authenticated session and its secret values when an account is named, else a guarded one."""
    if not account_id:
        return guarded_session(timeout=timeout), []
    try:
        from providers.authentication import secret_values
        from providers.http import account_session
        from providers.models import Account
    except ImportError:
        raise NodeError("Accounts are not available on this server.", retryable=False) from None

    account = (
        Account.objects.filter(pk=_uuid_or_none(account_id), workspace_id=context.execution.workspace_id)
        .select_related("provider")
        .first()
    )
    if account is None:
        raise NodeError(f"Account '{account_id}' does not exist in this workspace.", retryable=False)
    secrets = secret_values(account.credentials.reveal() if account.credentials else None)
    return account_session(account=account, max_retries=0, timeout=timeout), secrets


def _uuid_or_none(value: Any) -> Any:
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _response_body(response: requests.Response) -> Any:
    content_type = response.headers.get("Content-Type", "")
    if "json" in content_type:
        try:
            return response.json()
        except ValueError:
            pass
    return response.text


@register
class HttpRequestNode(NodeType):
    type = "http_request"
    description = "Sends an HTTP request through the outbound guard, as an account when one is named."
    schema = strict_object(
        {
            "method": {"enum": HTTP_METHODS},
            "url": {"type": "string", "minLength": 1, "maxLength": 8000},
            "headers": {"anyOf": [STRING_MAP, EXPRESSION]},
            "query": {"anyOf": [STRING_MAP, EXPRESSION]},
            "body": ANY,
            "body_type": {"enum": ["json", "form", "text"]},
            "account": {"type": "string", "maxLength": 200},
            "timeout_seconds": {"anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": 300}, EXPRESSION]},
            "fail_on_status": {"type": "boolean"},
        },
        ["url"],
    )
    side_effect = True

    def execute(self, context: NodeContext) -> NodeResult:
        method = context.raw_parameters.get("method", "GET")
        url = context.text("url")
        headers = {str(key): str(value) for key, value in (context.parameter("headers") or {}).items()}
        query = context.parameter("query") or {}
        timeout = context.parameter("timeout_seconds") or context.timeout_seconds
        timeout = min(_number(timeout, "timeout_seconds"), MAX_HTTP_TIMEOUT_SECONDS) if timeout else None
        timeout = timeout or settings.ATHENA_OUTBOUND_TIMEOUT_SECONDS
        session, account_secrets = _session_for(context, context.parameter("account"), timeout)

        options: dict[str, Any] = {"headers": headers, "params": query, "timeout": timeout}
        if "body" in context.raw_parameters and method not in ("GET", "HEAD"):
            body = context.parameter("body")
            body_type = context.raw_parameters.get("body_type", "json")
            if body_type == "json":
                options["json"] = body
            elif body_type == "form":
                options["data"] = body
            else:
                options["data"] = body if isinstance(body, str) else json.dumps(body)

        try:
            with session:
                response = session.request(method, url, **options)
        except OutboundRequestBlocked as exc:
            raise NodeError(f"The request was refused: {exc}", retryable=False) from None
        except requests.Timeout:
            raise NodeError(f"The request to {url} timed out after {timeout} seconds.") from None
        except requests.RequestException as exc:
            raise NodeError(f"The request to {url} failed: {type(exc).__name__}.") from None

        output = {"status": response.status_code, "headers": dict(response.headers), "body": _response_body(response)}
        # A server may echo the account's key (a key placed in the query string comes back in
        # URLs), and node output is stored and shown, so the key is replaced before either.
        output = redact(output, account_secrets)
        if response.status_code >= 400 and context.raw_parameters.get("fail_on_status", True):
            raise NodeError(
                f"The request to {url} answered HTTP {response.status_code}.",
                retryable=response.status_code in RETRYABLE_STATUSES,
                details={"response": output},
            )
        return NodeResult(output)


def _parse_moment(value: Any) -> datetime:
    moment = parse_datetime(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        raise NodeError(f"'until' must be an ISO 8601 date-time, not {value!r}.", retryable=False)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.utc)
    return moment


@register
class DelayNode(NodeType):
    type = "delay"
    description = "Waits `seconds`, or until the date-time `until`, then passes its input through."
    schema = {
        **strict_object({"seconds": NUMBER_OR_EXPRESSION, "until": {"type": "string"}}),
        "oneOf": [{"required": ["seconds"]}, {"required": ["until"]}],
    }

    def execute(self, context: NodeContext) -> NodeResult | Wait:
        now = timezone.now()
        if "until" in context.state:
            until = _parse_moment(context.state["until"])
        elif "until" in context.raw_parameters:
            until = _parse_moment(context.parameter("until"))
        else:
            seconds = _number(context.parameter("seconds"), "seconds")
            until = now + timedelta(seconds=max(0.0, seconds))
        if until <= now:
            return NodeResult(context.input)
        return Wait(until, {"until": until.isoformat()})


@register
class ApprovalNode(NodeType):
    type = "approval"
    description = (
        "Waits until a person approves or rejects (`POST workflow-executions/{id}/resume`), "
        "then takes the `approved` or `rejected` handle."
    )
    schema = strict_object(
        {
            "message": {"type": "string", "maxLength": 10_000},
            "timeout_seconds": INTEGER_OR_EXPRESSION,
            "default_decision": {"enum": ["approve", "reject"]},
        }
    )
    output_handles = ("approved", "rejected")
    waits_for_person = True

    def execute(self, context: NodeContext) -> NodeResult | Wait:
        decision = context.state.get("decision")
        if decision is not None:
            return self._decided(decision, context.state.get("data"), context.state.get("decided_by"), False)

        now = timezone.now()
        state = dict(context.state)
        if "requested_at" not in state:
            state["requested_at"] = now.isoformat()
            state["message"] = context.text("message") if "message" in context.raw_parameters else ""
            timeout = context.parameter("timeout_seconds")
            if timeout:
                state["expires_at"] = (now + timedelta(seconds=_number(timeout, "timeout_seconds"))).isoformat()
        expires_at = _parse_moment(state["expires_at"]) if state.get("expires_at") else None
        if expires_at is not None and expires_at <= now:
            default = context.raw_parameters.get("default_decision", "reject")
            return self._decided(default, None, None, True)
        return Wait(expires_at, state)

    @staticmethod
    def _decided(decision: str, data: Any, decided_by: Any, timed_out: bool) -> NodeResult:
        handle = "approved" if decision == "approve" else "rejected"
        output = {"decision": decision, "data": data, "decided_by": decided_by, "timed_out": timed_out}
        return NodeResult(output, handles=[handle])


@register
class SubWorkflowNode(NodeType):
    type = "sub_workflow"
    description = "Runs another workflow of the workspace with `input` and outputs its result."
    schema = strict_object(
        {"workflow_id": {"type": "string", "minLength": 1, "maxLength": 200}, "input": ANY}, ["workflow_id"]
    )
    side_effect = True

    def execute(self, context: NodeContext) -> NodeResult | Wait:
        engine = context.engine
        child_id = context.state.get("child_execution_id")
        if child_id is None:
            payload = context.parameter("input") if "input" in context.raw_parameters else context.input
            child_id = engine.start_sub_workflow(context, str(context.parameter("workflow_id")), payload)
        child = engine.execution_state(child_id)
        if child is None:
            raise NodeError("The sub-workflow's execution was deleted.", retryable=False)
        status, output, error = child
        if status == "succeeded":
            return NodeResult(output)
        if status in ("failed", "canceled"):
            message = (error or {}).get("message", status)
            raise NodeError(f"The sub-workflow {status}: {message}", retryable=False)
        # A finishing child re-queues this execution; the check below is a safety net for a lost one.
        return Wait(timezone.now() + timedelta(seconds=60), {"child_execution_id": child_id})


@register
class RespondToWebhookNode(NodeType):
    type = "respond_to_webhook"
    description = "Sets the answer to the webhook request that started the execution: status, headers, body."
    interruptible = True
    schema = strict_object(
        {
            "status": {"anyOf": [{"type": "integer", "minimum": 100, "maximum": 599}, EXPRESSION]},
            "headers": {"anyOf": [STRING_MAP, EXPRESSION]},
            "body": ANY,
        }
    )

    def execute(self, context: NodeContext) -> NodeResult:
        status = context.parameter("status", 200)
        try:
            status = int(status)
        except (TypeError, ValueError):
            raise NodeError(f"'status' must be an HTTP status code, not {status!r}.", retryable=False) from None
        if not 100 <= status <= 599:
            raise NodeError(f"'status' must be between 100 and 599, not {status}.", retryable=False)
        headers = {str(key): str(value) for key, value in (context.parameter("headers") or {}).items()}
        body = context.parameter("body") if "body" in context.raw_parameters else context.input
        response = {"status": status, "headers": headers, "body": body}
        return NodeResult(response, response=response)
