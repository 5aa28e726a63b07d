"""Retry from the failed node, and schedules kept as django-celery-beat periodic tasks."""

import json

import pytest
from django_celery_beat.models import PeriodicTask

from athena_site.api.errors import Conflict
from tests.workflows.conftest import chain, node, node_runs, trigger
from workflows.models import WorkflowExecution
from workflows.schedules import task_name
from workflows.services.executions import execution_retry
from workflows.services.workflows import workflow_delete, workflow_fire_schedule, workflow_update


def _http(node_id, url, **fields):
    return node(node_id, "http_request", parameters={"method": "POST", "url": url}, **fields)


def test_retry_reruns_only_failed_node_and_successors(make_workflow, run_workflow, http_server, owner, on_commit):
    http_server.statuses["/second"] = [500]
    workflow = make_workflow(
        [
            trigger(),
            _http("one", f"{http_server.url}/first"),
            _http("two", f"{http_server.url}/second"),
            node("end", "noop"),
        ],
        chain("start", "one", "two", "end"),
    )
    failed = run_workflow(workflow, {})
    assert failed.status == "failed"

    with on_commit():
        retry = execution_retry(execution=failed, user=owner)
    retry.refresh_from_db()

    runs = node_runs(retry)
    assert retry.status == "succeeded", retry.error
    assert retry.mode == "retry"
    assert http_server.count("/first") == 1
    assert http_server.count("/second") == 2
    assert runs["one"].reused is True
    assert runs["two"].reused is False


def test_retry_from_node_and_latest_version(make_workflow, run_workflow, http_server, owner, on_commit):
    workflow = make_workflow(
        [trigger(), _http("one", f"{http_server.url}/first"), _http("two", f"{http_server.url}/second")],
        chain("start", "one", "two"),
    )
    done = run_workflow(workflow, {})
    nodes = [*workflow.nodes, node("three", "set", parameters={"values": {"v": 3}})]
    workflow_update(
        workflow=workflow, user=owner, data={"nodes": nodes, "edges": [*workflow.edges, *chain("two", "three")]}
    )

    with on_commit():
        retry = execution_retry(execution=done, user=owner, from_node="one", use_latest_version=True)
    retry.refresh_from_db()

    assert retry.status == "succeeded", retry.error
    assert http_server.count("/first") == 2
    assert retry.output == {"v": 3}


def test_retry_points_at_its_snapshot_version(make_workflow, run_workflow, http_server, owner, on_commit):
    workflow = make_workflow([trigger(), _http("one", f"{http_server.url}/first")], chain("start", "one"))
    done = run_workflow(workflow, {})
    nodes = [*workflow.nodes, node("two", "set", parameters={"values": {"v": 2}})]
    workflow_update(
        workflow=workflow, user=owner, data={"nodes": nodes, "edges": [*workflow.edges, *chain("one", "two")]}
    )

    with on_commit():
        retry = execution_retry(execution=done, user=owner, from_node="one")
    retry.refresh_from_db()

    assert workflow.version == 2
    assert retry.version.number == 1
    assert retry.workflow_data["workflow"]["version"] == 1


def test_test_run_of_unsaved_graph_is_not_retryable(owner, workspace):
    execution = WorkflowExecution.objects.create(
        workspace=workspace, workflow=None, mode="test", status="failed", trigger_payload={}, workflow_data={}
    )

    with pytest.raises(Conflict) as raised:
        execution_retry(execution=execution, user=owner)

    assert raised.value.code == "test_execution_not_retryable"


def test_schedule_periodic_task_created_changed_removed(make_workflow, owner):
    workflow = make_workflow(
        [trigger(kind="trigger.schedule", cron="*/5 * * * *", timezone="Europe/Paris"), node("a", "noop")],
        chain("start", "a"),
    )

    task = PeriodicTask.objects.get(name=task_name(workflow.pk))
    assert task.crontab.minute == "*/5"
    assert str(task.crontab.timezone) == "Europe/Paris"
    assert json.loads(task.args) == [str(workflow.pk), 1]

    nodes = [trigger(kind="trigger.schedule", cron="0 9 * * 1"), node("a", "noop")]
    workflow_update(workflow=workflow, user=owner, data={"nodes": nodes})
    task.refresh_from_db()
    assert task.crontab.hour == "9"
    assert json.loads(task.args) == [str(workflow.pk), 2]

    workflow_update(workflow=workflow, user=owner, data={"active": False})
    assert not PeriodicTask.objects.filter(name=task_name(workflow.pk)).exists()
    workflow_update(workflow=workflow, user=owner, data={"active": True})
    workflow_delete(workflow=workflow)
    assert not PeriodicTask.objects.filter(name=task_name(workflow.pk)).exists()


def test_schedule_old_version_never_fires(make_workflow, owner, on_commit):
    workflow = make_workflow(
        [trigger(kind="trigger.schedule", cron="* * * * *"), node("a", "noop")], chain("start", "a")
    )
    workflow_update(
        workflow=workflow,
        user=owner,
        data={
            "nodes": [trigger(kind="trigger.schedule", cron="0 * * * *"), node("b", "noop")],
            "edges": chain("start", "b"),
        },
    )

    with on_commit():
        stale = workflow_fire_schedule(workflow_id=str(workflow.pk), version=1)
        fresh = workflow_fire_schedule(workflow_id=str(workflow.pk), version=2)

    assert stale is None
    assert WorkflowExecution.objects.get(pk=fresh.pk).mode == "schedule"
    assert WorkflowExecution.objects.get(pk=fresh.pk).status == "succeeded"
