"""The public run of a shared workflow link: no account, rate limited per link."""

import time
from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.services.shares import public_link_rate_check
from athena_site.api.errors import Forbidden, NotFound
from workflows import selectors
from workflows.api import lifecycle_examples as examples
from workflows.api.lifecycle_serializers import PublicRunResultSerializer, PublicRunSerializer
from workflows.models import FINISHED_STATUSES, ExecutionStatus, WorkflowExecution
from workflows.services.sharing import workflow_run_public

POLL_INTERVAL_SECONDS = 0.05


def check_public_rate(token: str) -> None:
    """Count one run of the link; raises 429 with Retry-After past the limit."""
    public_link_rate_check(
        scope="workflows",
        token=token,
        limit=settings.WORKFLOWS_PUBLIC_RUNS_PER_WINDOW,
        window=settings.WORKFLOWS_PUBLIC_WINDOW_SECONDS,
    )


def _wait_until_finished(execution: WorkflowExecution, timeout: float) -> WorkflowExecution:
    deadline = time.monotonic() + timeout
    while execution.status not in FINISHED_STATUSES and time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL_SECONDS)
        execution.refresh_from_db(fields=["status", "output", "error"])
    return execution


def _result(execution: WorkflowExecution) -> dict[str, Any]:
    error = execution.error or None
    if error is not None:
        # Only the message and code: node details may hold data of the workflow's owners.
        error = {"message": error.get("message"), "code": error.get("code")}
    output = execution.output if execution.status == ExecutionStatus.SUCCEEDED else None
    return {"execution_id": execution.pk, "status": execution.status, "output": output, "error": error}


class PublicWorkflowRunView(APIView):
    """Run a workflow shared by public link. The token is the only credential; it reaches nothing else."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes: list = []

    @extend_schema(
        tags=["Workflow"],
        summary="Run a shared workflow by public link",
        description="No account needed. Rate limited per link (429 with Retry-After). Waits up to the "
        "synchronous timeout: 200 with the output when the execution finished by then, else 202 with its id "
        "and status. A link with the `view` permission cannot run (403).",
        parameters=[OpenApiParameter("share_token", OpenApiTypes.STR, OpenApiParameter.PATH)],
        request=PublicRunSerializer,
        responses={200: PublicRunResultSerializer, 202: PublicRunResultSerializer},
        examples=[examples.PUBLIC_RUN, examples.PUBLIC_RUN_RESULT],
        auth=[],
    )
    def post(self, request: Request, share_token: str) -> Response:
        found = selectors.workflow_find_by_share_token(token=share_token)
        if found is None:
            raise NotFound()
        share, workflow = found
        if share.permission not in ("run", "edit"):
            raise Forbidden("This link allows viewing the workflow, not running it.")
        check_public_rate(share_token)

        serializer = PublicRunSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        execution = workflow_run_public(share=share, workflow=workflow, body=serializer.validated_data.get("input"))
        execution = _wait_until_finished(execution, float(settings.WORKFLOWS_SYNC_WEBHOOK_TIMEOUT_SECONDS))
        code = status.HTTP_200_OK if execution.status in FINISHED_STATUSES else status.HTTP_202_ACCEPTED
        return Response(PublicRunResultSerializer(_result(execution)).data, status=code)
