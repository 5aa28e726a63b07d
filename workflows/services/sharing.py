"""Share workflows with users or by public link, through the agents app's `Share` model."""

import logging
from typing import Any

from django.contrib.auth import get_user_model

from agents import selectors as share_selectors
from agents.models import Share
from agents.services.shares import share_create, share_delete
from athena_site.api.errors import ValidationFailed
from workflows.models import ExecutionMode, Workflow, WorkflowExecution
from workflows.selectors import WORKFLOW_SHARE_TARGET
from workflows.services.workflows import workflow_run

logger = logging.getLogger(__name__)


def workflow_share(
    *, workflow: Workflow, permission: str, created_by: Any, user_email: str | None = None
) -> tuple[Share, str | None]:
    """Grant `permission` on the workflow to the user with `user_email`, or create a public link.

    Returns the share and, for a public link, its token (shown once, stored hashed). Sharing
    again with the same user changes the permission. Raises ValidationFailed for an unknown
    email address or for sharing with oneself.
    """
    grantee = None
    if user_email:
        grantee = get_user_model().objects.filter(email__iexact=user_email).first()
        if grantee is None:
            raise ValidationFailed(errors={"user_email": ["No user has this email address."]})
        if grantee.pk == getattr(created_by, "pk", None):
            raise ValidationFailed(errors={"user_email": ["You cannot share a workflow with yourself."]})
    return share_create(
        workspace_id=workflow.workspace_id,
        target_type=WORKFLOW_SHARE_TARGET,
        target_id=workflow.pk,
        permission=permission,
        created_by=created_by,
        user=grantee,
    )


def workflow_share_list(*, workflow: Workflow) -> Any:
    """Return the workflow's shares, newest first."""
    return share_selectors.share_list(target_type=WORKFLOW_SHARE_TARGET, target_id=workflow.pk)


def workflow_share_revoke(*, workflow: Workflow, share_id: Any) -> None:
    """Revoke one share of the workflow; raises NotFound when the workflow has no such share."""
    share = share_selectors.share_get(target_type=WORKFLOW_SHARE_TARGET, target_id=workflow.pk, share_id=share_id)
    share_delete(share=share)


def workflow_run_public(*, share: Share, workflow: Workflow, body: Any) -> WorkflowExecution:
    """Queue an execution started through a public link, with no user recorded as its starter.

    Raises Conflict (`workflow_inactive`) for an inactive workflow.
    """
    execution = workflow_run(workflow=workflow, user=None, body=body, mode=ExecutionMode.API)
    logger.info(
        "Workflow run through a public link",
        extra={"workflow_id": str(workflow.pk), "execution_id": str(execution.pk), "share_id": str(share.pk)},
    )
    return execution
