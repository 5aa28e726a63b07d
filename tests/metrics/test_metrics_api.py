"""The metrics endpoints: zero-filled buckets in the workspace's timezone, totals, filters and errors."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from athena_site import metrics
from workflows.models import ExecutionMode, ExecutionStatus, WorkflowExecution
from workspaces import services as workspace_services


def _execution(workflow, created_at: datetime, status: str = ExecutionStatus.SUCCEEDED) -> WorkflowExecution:
    execution = WorkflowExecution.objects.create(
        workspace_id=workflow.workspace_id, workflow=workflow, status=status, mode=ExecutionMode.API
    )
    # created_at is set on insert; move it to the moment the test needs.
    WorkflowExecution.objects.filter(pk=execution.pk).update(created_at=created_at)
    return execution


def _moment(day: int, hour: int = 12) -> datetime:
    return datetime(2025, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def client(owner, workspace, token_client):
    return token_client(owner)


def test_metrics_executions_fill_every_day_with_zeros(client, workflow):
    # given executions on the 1st and 3rd of March
    _execution(workflow, _moment(1))
    _execution(workflow, _moment(3), ExecutionStatus.FAILED)
    _execution(workflow, _moment(3))

    # when
    response = client.get("/api/v1/metrics/workflow-executions?from=2025-03-01&to=2025-03-04&interval=day")

    # then
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert [bucket["count"] for bucket in data["series"]] == [1, 0, 2, 0]
    assert data["series"][0]["start"] == "2025-03-01T00:00:00.000000Z"
    assert data["total"] == 3
    assert data["by_status"]["succeeded"] == 2
    assert data["by_status"]["failed"] == 1
    assert data["series"][2]["by_status"]["failed"] == 1


def test_metrics_buckets_follow_the_workspace_timezone(client, workspace, workflow):
    # given a workspace in Paris (UTC+1 in March) and an execution at 23:30 UTC on the 1st
    workspace_services.workspace_update(workspace=workspace, data={"timezone": "Europe/Paris"})
    _execution(workflow, datetime(2025, 3, 1, 23, 30, tzinfo=UTC))

    # when
    response = client.get("/api/v1/metrics/workflow-executions?from=2025-03-01&to=2025-03-02")

    # then the execution counts on the 2nd, Paris time, and buckets start at Paris midnight
    data = response.json()["data"]
    assert data["timezone"] == "Europe/Paris"
    assert [bucket["start"] for bucket in data["series"]] == [
        "2025-02-28T23:00:00.000000Z",
        "2025-03-01T23:00:00.000000Z",
    ]
    assert [bucket["count"] for bucket in data["series"]] == [0, 1]


@pytest.mark.parametrize(
    ("interval", "query", "expected"),
    [
        ("hour", "from=2025-03-03T10:00:00Z&to=2025-03-03T14:00:00Z", [0, 0, 1, 0]),
        ("week", "from=2025-03-01&to=2025-03-16", [0, 1, 0]),
        ("month", "from=2025-01-15&to=2025-03-31", [0, 0, 1]),
    ],
)
def test_metrics_intervals(client, workflow, interval, query, expected):
    _execution(workflow, _moment(3))

    response = client.get(f"/api/v1/metrics/workflow-executions?{query}&interval={interval}")

    assert response.status_code == 200, response.content
    assert [bucket["count"] for bucket in response.json()["data"]["series"]] == expected


def test_metrics_previous_period_and_change(client, workflow):
    # given one execution in the three days before the range and three inside it
    _execution(workflow, _moment(2))
    for day in (5, 6, 7):
        _execution(workflow, _moment(day))

    response = client.get("/api/v1/metrics/workflow-executions?from=2025-03-05&to=2025-03-07")

    data = response.json()["data"]
    assert (data["total"], data["previous_total"], data["change_percent"]) == (3, 1, 200.0)


def test_metrics_filters_by_status_and_workflow(client, workflow, workspace, owner):
    from tests.metrics.conftest import GRAPH
    from workflows.services.workflows import workflow_create

    other = workflow_create(workspace=workspace, user=owner, data={"name": "Other", **GRAPH})
    _execution(workflow, _moment(3), ExecutionStatus.FAILED)
    _execution(workflow, _moment(3))
    _execution(other, _moment(3), ExecutionStatus.FAILED)

    by_status = client.get("/api/v1/metrics/workflow-executions?from=2025-03-01&to=2025-03-04&status=failed")
    by_workflow = client.get(
        f"/api/v1/metrics/workflow-executions?from=2025-03-01&to=2025-03-04&workflow={workflow.pk}"
    )

    assert by_status.json()["data"]["total"] == 2
    assert by_workflow.json()["data"]["total"] == 2


def test_metrics_series_is_one_grouped_query(client, workflow):
    for day in (1, 2, 3):
        _execution(workflow, _moment(day))

    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/metrics/workflow-executions?from=2025-03-01&to=2025-03-31")

    assert response.status_code == 200, response.content
    execution_queries = [query for query in captured.captured_queries if "workflows_workflowexecution" in query["sql"]]
    # One grouped query for the series and one count for the previous period.
    assert len(execution_queries) == 2, execution_queries
    assert "GROUP BY" in execution_queries[0]["sql"].upper()


def test_metrics_default_range_is_thirty_days_by_day(client, workflow):
    response = client.get("/api/v1/metrics/workflows")

    data = response.json()["data"]
    assert data["interval"] == "day"
    assert len(data["series"]) == 31
    assert data["total"] == 1


@pytest.mark.parametrize("name", ["agents", "messages"])
def test_metrics_usage_placeholders_answer_zeros_with_tokens_and_cost(client, name):
    response = client.get(f"/api/v1/metrics/{name}?from=2025-03-01&to=2025-03-03")

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert (data["total"], data["tokens"], data["cost"]) == (0, 0, "0.00000000")
    assert [bucket["count"] for bucket in data["series"]] == [0, 0, 0]
    assert data["series"][0]["tokens"] == 0


def test_metrics_threads_placeholder(client):
    response = client.get("/api/v1/metrics/threads?from=2025-03-01&to=2025-03-02&interval=hour")

    assert response.status_code == 200, response.content
    assert len(response.json()["data"]["series"]) == 48


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("interval=year", "interval"),
        ("from=yesterday", "from"),
        ("to=2025-13-01", "to"),
        ("from=2025-03-05&to=2025-03-01", "to"),
        ("from=2020-01-01&to=2025-01-01&interval=hour", "interval"),
        ("workflow=not-a-uuid", "workflow"),
        ("status=exploded", "status"),
    ],
)
def test_metrics_invalid_parameters_are_422_naming_them(client, query, parameter):
    response = client.get(f"/api/v1/metrics/workflow-executions?{query}")

    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert list(body["errors"]) == [parameter]


def test_metrics_viewer_may_read(member_of, token_client):
    viewer = member_of("viewer")

    response = token_client(viewer).get("/api/v1/metrics/workflow-executions")

    assert response.status_code == 200, response.content


def test_metrics_token_without_ability_is_refused(owner, workspace, token_client):
    client = token_client(owner, abilities=("workflows:read",))

    response = client.get("/api/v1/metrics/workflow-executions")

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "insufficient_ability"


def test_metrics_other_workspace_is_not_found(workspace, token_client):
    from tests.factories import UserFactory

    outsider = UserFactory()
    client = token_client(outsider, with_workspace=False)

    response = client.get("/api/v1/metrics/workflows", HTTP_X_WORKSPACE=str(workspace.pk))

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "workspace_not_found"


def test_metrics_registry_placeholder_never_replaces_a_real_source(monkeypatch):
    monkeypatch.setattr(metrics, "_sources", {})
    real = metrics.MetricSource(name="agents", ability="agents:read", queryset=lambda *args: None)
    placeholder = metrics.MetricSource(name="agents", ability="agents:read", queryset=None, placeholder=True)

    metrics.register_source(placeholder)
    metrics.register_source(real)
    metrics.register_source(placeholder)

    assert metrics.source_get("agents") is real
    with pytest.raises(ImproperlyConfigured):
        metrics.register_source(metrics.MetricSource(name="agents", ability="agents:read", queryset=None))


def test_metrics_bucket_count_matches_bucket_starts():
    from zoneinfo import ZoneInfo

    tzinfo = ZoneInfo("America/New_York")
    start = datetime(2025, 3, 1, tzinfo=UTC)
    end = start + timedelta(days=40)
    for interval in metrics.INTERVALS:
        starts = metrics.bucket_starts(start=start, end=end, interval=interval, tzinfo=tzinfo)
        assert metrics.bucket_count(start=start, end=end, interval=interval, tzinfo=tzinfo) >= len(starts)


def test_metrics_agents_counts_runs_with_tokens_and_cost(client, workspace):
    from decimal import Decimal

    from agents.models import AgentRun
    from tests.agents.factories import agent_in

    agent = agent_in(workspace)
    for tokens, cost in ((100, "0.25"), (50, "0.50")):
        run = AgentRun.objects.create(
            workspace=workspace, agent=agent, input_tokens=tokens, output_tokens=tokens, cost=Decimal(cost)
        )
        AgentRun.objects.filter(pk=run.pk).update(created_at="2025-03-02T12:00:00Z")

    response = client.get(f"/api/v1/metrics/agents?from=2025-03-01&to=2025-03-03&agent={agent.pk}")

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["total"] == 2
    assert data["tokens"] == 300
    assert Decimal(data["cost"]) == Decimal("0.75")
    assert [bucket["count"] for bucket in data["series"]] == [0, 2, 0]
