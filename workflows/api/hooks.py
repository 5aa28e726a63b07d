"""The public webhook: a plain Django view, so it reads the raw body and any method or content type."""

import logging
import time
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from athena_site.api.errors import ApplicationError
from workflows.engine import execution_run
from workflows.models import FINISHED_STATUSES, ExecutionStatus, WorkflowExecution
from workflows.services.executions import execution_dispatch
from workflows.services.webhooks import responds_to_webhook, webhook_receive

logger = logging.getLogger(__name__)

POLL_INTERVAL_SECONDS = 0.05
# Seconds a sender should wait before retrying while the database is unreachable.
UNAVAILABLE_RETRY_AFTER_SECONDS = 5


def _error(exc: ApplicationError) -> JsonResponse:
    response = JsonResponse(exc.as_body(), status=exc.status_code)
    for name, value in exc.headers.items():
        response[name] = value
    return response


def _unavailable() -> JsonResponse:
    logger.warning("Webhook rejected with 503: the database is unavailable")
    body = {"message": "The service is temporarily unavailable. Retry later.", "code": "service_unavailable"}
    response = JsonResponse(body, status=503)
    response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER_SECONDS)
    return response


def _accepted(execution: WorkflowExecution, replayed: bool) -> JsonResponse:
    body = {"data": {"execution_id": str(execution.pk), "status": execution.status}}
    response = JsonResponse(body, status=202)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _run_in_request(execution: WorkflowExecution, deadline: float) -> tuple[bool, dict[str, Any] | None]:
    """Run the execution in this request until it responds, stops or hands off; return `(settled, response)`.

    `settled` is True when the execution responded or finished here, so nothing is left to wait
    for. The execution was stored before, so whatever happens here, it is not lost: a runner
    that dies leaves a lease that runs out, and the reaper gives the execution to a worker.
    """
    try:
        ran = execution_run(
            execution_id=str(execution.pk),
            hand_off_after=max(0.0, deadline - time.monotonic()),
            answer_first=True,
            leased=execution if execution.status == ExecutionStatus.RUNNING else None,
        )
        if ran is None:
            # Not acquired: the workflow already runs its maximum of concurrent executions, and
            # a worker admits this one when a slot frees up.
            execution_dispatch(execution=execution)
            return False, None
    except (OperationalError, InterfaceError):
        logger.warning(
            "Webhook execution stopped: the database is unavailable", extra={"execution_id": str(execution.pk)}
        )
        return True, None
    return ran.response is not None or ran.status in FINISHED_STATUSES, ran.response


def _wait_for_response(execution: WorkflowExecution, deadline: float) -> dict[str, Any] | None:
    """Poll the execution until a `respond_to_webhook` node responded, it finished, or time ran out."""
    while True:
        row = WorkflowExecution.objects.filter(pk=execution.pk).values("response", "status").first()
        if row is None or row["response"] is not None or row["status"] in FINISHED_STATUSES:
            return row["response"] if row else None
        if time.monotonic() >= deadline:
            return None
        time.sleep(POLL_INTERVAL_SECONDS)


def _answer(response: dict[str, Any]) -> HttpResponse:
    body = response.get("body")
    headers = {str(key): str(value) for key, value in (response.get("headers") or {}).items()}
    if isinstance(body, (dict, list, int, float, bool)) or body is None:
        reply = JsonResponse(body, status=response.get("status", 200), safe=False)
    else:
        reply = HttpResponse(str(body), status=response.get("status", 200), content_type="text/plain; charset=utf-8")
    for name, value in headers.items():
        if name.lower() not in ("content-length", "transfer-encoding", "connection"):
            reply[name] = value
    return reply


@csrf_exempt
def public_webhook(request: HttpRequest, webhook_token: str) -> HttpResponse:
    """Start the workflow that owns `webhook_token`: 202 with the execution id, or its webhook response.

    A workflow that responds to its caller runs inside this request when WORKFLOWS_SYNC_WEBHOOK_INLINE
    is on, which spares the round trip through the queue. Otherwise a worker runs it and this
    request polls the execution for the response.
    """
    inline = settings.WORKFLOWS_SYNC_WEBHOOK_INLINE
    raw_body = request.body
    if len(raw_body) > settings.ATHENA_MAX_REQUEST_BYTES:
        return JsonResponse({"message": "The request body is too large.", "code": "payload_too_large"}, status=413)
    try:
        execution, replayed = webhook_receive(
            token=webhook_token,
            method=request.method or "POST",
            headers=dict(request.headers),
            query={key: values[0] if len(values) == 1 else values for key, values in request.GET.lists()},
            raw_body=raw_body,
            content_type=request.content_type or "",
            run_answering_inline=inline,
        )
    except ApplicationError as exc:
        return _error(exc)
    except (OperationalError, InterfaceError):
        # The event was not stored, so the sender must send it again. If the connection broke
        # during the commit itself, a retry with the same Idempotency-Key finds the stored event.
        return _unavailable()

    if not responds_to_webhook((execution.workflow_data or {}).get("nodes", [])):
        return _accepted(execution, replayed)
    deadline = time.monotonic() + settings.WORKFLOWS_SYNC_WEBHOOK_TIMEOUT_SECONDS
    settled, response = _run_in_request(execution, deadline) if inline and not replayed else (False, None)
    if not settled:
        try:
            response = _wait_for_response(execution, deadline)
        except (OperationalError, InterfaceError):
            # The execution is stored and runs once the database is back, so it is still accepted.
            response = None
    if response is not None:
        return _answer(response)
    return _accepted(execution, replayed)
