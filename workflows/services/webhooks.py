"""The public webhook: signature, rate limit and idempotency around creating an execution."""

import hashlib
import hmac
import json
import logging
import time
from contextlib import nullcontext
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from redis.exceptions import RedisError

from athena_site.api.errors import ApplicationError, NotFound
from workflows.engine import new_runner_id
from workflows.models import ExecutionMode, Workflow, WorkflowExecution, WorkflowVersion
from workflows.services.executions import execution_create, trigger_payload

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Athena-Signature"
TIMESTAMP_HEADER = "X-Athena-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY_LENGTH = 255


class InvalidSignature(ApplicationError):
    status_code = 401
    code = "invalid_signature"
    message = "The webhook signature is missing, wrong or expired."


class WebhookRateLimited(ApplicationError):
    status_code = 429
    code = "throttled"
    message = "Too many webhook requests for this workflow."


def parse_body(raw: bytes, content_type: str) -> Any:
    """Return the parsed body (JSON or form) when it parses, else the raw text."""
    text = raw.decode("utf-8", errors="replace")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not raw:
        return None
    if media_type == "application/json" or media_type.endswith("+json"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    if media_type == "application/x-www-form-urlencoded":
        fields = parse_qs(text, keep_blank_values=True)
        return {key: values[0] if len(values) == 1 else values for key, values in fields.items()}
    return text


def signature_check(*, secret: str, timestamp: str | None, signature: str | None, raw_body: bytes) -> None:
    """Raise InvalidSignature unless `signature` is the HMAC of "{timestamp}.{body}" and the timestamp is recent."""
    if not timestamp or not signature or not signature.startswith("sha256="):
        raise InvalidSignature("Signed webhooks need the X-Athena-Timestamp and X-Athena-Signature headers.")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise InvalidSignature("X-Athena-Timestamp must be Unix seconds.") from None
    if abs(time.time() - sent_at) > settings.WORKFLOWS_SIGNATURE_WINDOW_SECONDS:
        raise InvalidSignature("The signature timestamp is outside the 5-minute window.")
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + raw_body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.removeprefix("sha256=")):
        raise InvalidSignature("The webhook signature does not match.")


def _rate_limit(workflow: Workflow) -> None:
    limit = workflow.webhook_rate_limit
    if not limit:
        return
    window = int(time.time() // 60)
    key = f"workflows:webhook-rate:{workflow.pk}:{window}"
    try:
        count = _count_request(key)
    except (RedisError, OSError):
        # The limit protects the workers, not the data. While the cache is down the event is
        # stored and gets its 202 as usual, because many senders never retry a refused webhook.
        logger.warning("Webhook rate limit skipped: the cache is unavailable", extra={"workflow_id": str(workflow.pk)})
        return
    if count > limit:
        retry_after = max(1, 60 - int(time.time() % 60))
        raise WebhookRateLimited(headers={"Retry-After": str(retry_after)})


def _count_request(key: str) -> int:
    cache.add(key, 0, timeout=120)
    try:
        return cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=120)
        return 1


def responds_to_webhook(nodes: list[dict]) -> bool:
    """Tell whether a graph responds to its webhook caller itself, through an enabled `respond_to_webhook` node."""
    return any(node.get("type") == "respond_to_webhook" and not node.get("disabled") for node in nodes)


def webhook_receive(
    *,
    token: str,
    method: str,
    headers: dict[str, str],
    query: dict[str, Any],
    raw_body: bytes,
    content_type: str,
    run_answering_inline: bool = False,
) -> tuple[WorkflowExecution, bool]:
    """Check the request and start the workflow; return `(execution, replayed)`.

    `replayed` is True when the Idempotency-Key was seen within 24 hours: the earlier
    execution is returned and nothing new runs. With `run_answering_inline`, an execution of a
    workflow that responds to its caller is not sent to a worker, because the caller runs it:
    it is stored `running` under a new runner's lease, or `queued` when the workflow has a
    concurrency limit. Raises
    NotFound for an unknown or inactive token or a workspace being deleted, InvalidSignature
    (401) and WebhookRateLimited (429).
    """
    current_version = WorkflowVersion.objects.filter(workflow=OuterRef("pk"), number=OuterRef("version"))
    workflow = (
        Workflow.objects.filter(webhook_token=token, active=True, workspace__deleting_at__isnull=True)
        .select_related("workspace")
        .annotate(current_version_id=Subquery(current_version.values("pk")[:1]))
        .first()
    )
    if workflow is None:
        raise NotFound()
    if workflow.webhook_secret is not None and workflow.webhook_secret.reveal():
        signature_check(
            secret=str(workflow.webhook_secret.reveal()),
            timestamp=headers.get(TIMESTAMP_HEADER),
            signature=headers.get(SIGNATURE_HEADER),
            raw_body=raw_body,
        )

    key = (headers.get(IDEMPOTENCY_HEADER) or "").strip()[:MAX_IDEMPOTENCY_KEY_LENGTH] or None
    if key is not None:
        existing = _recent_execution(workflow, key)
        if existing is not None:
            return existing, True
    _rate_limit(workflow)

    payload = trigger_payload(
        body=parse_body(raw_body, content_type), headers=_visible_headers(headers), query=query, method=method
    )
    inline = run_answering_inline and responds_to_webhook(workflow.nodes)
    # A workflow with a concurrency limit is admitted by `execution_acquire`, so it starts queued.
    admitted = inline and not (workflow.settings or {}).get("max_concurrency")
    start = {"dispatch": not inline, "runner_id": new_runner_id() if admitted else None}
    # Outside a transaction the insert commits by itself, which spares a BEGIN and a COMMIT. Inside
    # one, a savepoint keeps the caller's transaction usable after a duplicate key.
    savepoint = transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()
    try:
        with savepoint:
            execution = execution_create(
                workflow=workflow, mode=ExecutionMode.WEBHOOK, payload=payload, idempotency_key=key, **start
            )
    except IntegrityError:
        # A concurrent request with the same key won the insert, or an old execution holds the key.
        existing = _recent_execution(workflow, key)
        if existing is not None:
            return existing, True
        WorkflowExecution.objects.filter(workflow=workflow, idempotency_key=key).update(idempotency_key=None)
        execution = execution_create(
            workflow=workflow, mode=ExecutionMode.WEBHOOK, payload=payload, idempotency_key=key, **start
        )
    return execution, False


def _recent_execution(workflow: Workflow, key: str | None) -> WorkflowExecution | None:
    if key is None:
        return None
    since = timezone.now() - timedelta(seconds=settings.WORKFLOWS_IDEMPOTENCY_WINDOW_SECONDS)
    return WorkflowExecution.objects.filter(workflow=workflow, idempotency_key=key, created_at__gte=since).first()


# Credentials a caller may send along are kept out of the stored trigger payload.
_HIDDEN_HEADERS = frozenset({"authorization", "cookie", "x-athena-signature", "proxy-authorization"})


def _visible_headers(headers: dict[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items() if key.lower() not in _HIDDEN_HEADERS}
