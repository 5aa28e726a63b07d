"""Workspace deletion through a real Celery worker (needs PostgreSQL and Redis; skipped otherwise)."""

import time

import pytest

from tests.factories import VariableFactory, WorkspaceFactory
from tests.workspaces.conftest import client_for
from workspaces.models import Variable, Workspace


@pytest.mark.integration
def test_workspace_deletion_by_worker(celery_worker_process, transactional_db):
    # given a workspace with data, deleted through the API so the task is sent on commit
    workspace = WorkspaceFactory()
    VariableFactory(workspace=workspace, key="REGION")
    client = client_for(workspace.owner)

    # when
    response = client.delete(f"/api/v1/workspaces/{workspace.pk}?confirm={workspace.slug}")

    # then the worker deletes the rows
    assert response.status_code == 204, response.content
    deadline = time.monotonic() + 30
    while Workspace.objects.filter(pk=workspace.pk).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Workspace.objects.filter(pk=workspace.pk).exists()
    assert not Variable.objects.filter(workspace_id=workspace.pk).exists()
