"""The metrics endpoints: `GET /api/v1/metrics/{name}` counts a workspace's objects over time.

Each metric is a `MetricSource` from its app's `metrics.py`, registered below. Apps whose models
do not exist yet get a placeholder source that returns zeros until they register their own.
This module mounts routes over several apps, so, like the root URL configuration, it may import
them; `athena_site.metrics` itself imports none.
"""

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.urls import re_path
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents import metrics as agent_metrics
from athena_site.api.errors import ValidationFailed
from athena_site.metrics import (
    INTERVALS,
    MAX_BUCKETS,
    MetricQuery,
    MetricSource,
    bucket_count,
    metric_series,
    register_source,
    source_get,
)
from workflows import metrics as workflow_metrics
from workspaces.api.base import WORKSPACE_CONTEXT_PARAMETERS
from workspaces.permissions import check_permission
from workspaces.resolution import workspace_resolve_for_request

DEFAULT_RANGE = timedelta(days=30)
DEFAULT_INTERVAL = "day"

# Threads and messages are counted by their app once it stores them. Until then these return
# zero series of the same shape.
PLACEHOLDER_SOURCES = (
    MetricSource(name="threads", ability="threads:read", queryset=None, filters={"agent": "uuid"}, placeholder=True),
    MetricSource(
        name="messages",
        ability="threads:read",
        queryset=None,
        filters={"agent": "uuid"},
        sums={"tokens": "tokens", "cost": "cost"},
        placeholder=True,
    ),
)


def register_sources() -> None:
    """Register the apps' sources and the placeholders; calling it again changes nothing."""
    register_source(workflow_metrics.WORKFLOWS)
    register_source(workflow_metrics.WORKFLOW_EXECUTIONS)
    register_source(agent_metrics.AGENT_RUNS)
    for source in PLACEHOLDER_SOURCES:
        register_source(source)


register_sources()


# --- query parameters ------------------------------------------------------------


def workspace_tzinfo(workspace: Any) -> ZoneInfo:
    try:
        return ZoneInfo(workspace.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _parse_moment(raw: str, name: str, tzinfo: ZoneInfo, *, is_end: bool) -> datetime:
    # A bare date means the whole day in the workspace's timezone, so `to=2025-01-31` includes
    # that day: its end is the start of the next day.
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            moment = datetime.combine(day + timedelta(days=1) if is_end else day, datetime.min.time(), tzinfo=tzinfo)
        else:
            moment = parse_datetime(raw)
    except ValueError:
        moment = None
    if moment is None:
        raise ValidationFailed(
            errors={name: ["Use an ISO 8601 date (2025-01-31) or date-time (2025-01-31T12:00:00Z)."]}
        )
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=tzinfo)
    return moment


def _parse_filters(params: Mapping[str, str], source: MetricSource) -> dict[str, Any]:
    from workspaces.selectors import parse_uuid

    filters: dict[str, Any] = {}
    for name, kind in source.filters.items():
        raw = params.get(name, "").strip()
        if not raw:
            continue
        if kind == "uuid":
            value = parse_uuid(raw)
            if value is None:
                raise ValidationFailed(errors={name: [f"'{raw[:64]}' is not a valid UUID."]})
            filters[name] = value
        elif raw in kind:
            filters[name] = raw
        else:
            raise ValidationFailed(errors={name: [f"Use one of: {', '.join(kind)}."]})
    return filters


def metric_query_from_params(*, params: Mapping[str, str], source: MetricSource, workspace: Any) -> MetricQuery:
    """Validate `from`, `to`, `interval` and the source's filters; raises ValidationFailed naming the parameter."""
    tzinfo = workspace_tzinfo(workspace)
    interval = params.get("interval", "").strip() or DEFAULT_INTERVAL
    if interval not in INTERVALS:
        raise ValidationFailed(errors={"interval": [f"Use one of: {', '.join(INTERVALS)}."]})

    raw_from = params.get("from", "").strip()
    raw_to = params.get("to", "").strip()
    end = _parse_moment(raw_to, "to", tzinfo, is_end=True) if raw_to else timezone.now()
    start = _parse_moment(raw_from, "from", tzinfo, is_end=False) if raw_from else end - DEFAULT_RANGE
    if start >= end:
        raise ValidationFailed(errors={"to": ["Must be later than `from`; swap the two or widen the range."]})
    if bucket_count(start=start, end=end, interval=interval, tzinfo=tzinfo) > MAX_BUCKETS:
        raise ValidationFailed(
            errors={
                "interval": [
                    f"The range holds more than {MAX_BUCKETS} buckets of one {interval}; "
                    "choose a longer interval or a shorter range."
                ]
            }
        )

    return MetricQuery(
        workspace_id=workspace.pk,
        start=start,
        end=end,
        interval=interval,
        tzinfo=tzinfo,
        filters=_parse_filters(params, source),
    )


# --- serializers -----------------------------------------------------------------


class MetricBucketSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="Start of the bucket (UTC), aligned in the workspace's timezone.")
    count = serializers.IntegerField()


class UsageMetricBucketSerializer(MetricBucketSerializer):
    tokens = serializers.IntegerField()
    cost = serializers.DecimalField(max_digits=20, decimal_places=8, help_text="US dollars.")


class WorkflowExecutionMetricBucketSerializer(MetricBucketSerializer):
    by_status = serializers.DictField(child=serializers.IntegerField())


class MetricsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    previous_total = serializers.IntegerField(help_text="The count over the same length of time right before `from`.")
    change_percent = serializers.FloatField(allow_null=True, help_text="Null when the previous period had nothing.")
    interval = serializers.ChoiceField(choices=INTERVALS)
    timezone = serializers.CharField()
    # `from` is a Python keyword, so the field is declared in __init__.
    to = serializers.DateTimeField()
    series = MetricBucketSerializer(many=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = serializers.DateTimeField()


class UsageMetricsSerializer(MetricsSerializer):
    tokens = serializers.IntegerField()
    cost = serializers.DecimalField(max_digits=20, decimal_places=8, help_text="US dollars.")
    series = UsageMetricBucketSerializer(many=True)


class WorkflowExecutionMetricsSerializer(MetricsSerializer):
    by_status = serializers.DictField(child=serializers.IntegerField())
    series = WorkflowExecutionMetricBucketSerializer(many=True)


# --- views -----------------------------------------------------------------------

_SERIES_EXAMPLE = [
    {"start": "2025-03-01T00:00:00.000000Z", "count": 4},
    {"start": "2025-03-02T00:00:00.000000Z", "count": 0},
    {"start": "2025-03-03T00:00:00.000000Z", "count": 7},
]
_BASE_EXAMPLE = {
    "total": 11,
    "previous_total": 8,
    "change_percent": 37.5,
    "interval": "day",
    "timezone": "UTC",
    "from": "2025-03-01T00:00:00.000000Z",
    "to": "2025-03-04T00:00:00.000000Z",
}
EXAMPLES = {
    "plain": {**_BASE_EXAMPLE, "series": _SERIES_EXAMPLE},
    "usage": {
        **_BASE_EXAMPLE,
        "tokens": 5230,
        "cost": "0.01046000",
        "series": [
            {**bucket, "tokens": tokens, "cost": cost}
            for bucket, tokens, cost in zip(
                _SERIES_EXAMPLE, (1900, 0, 3330), ("0.00380000", "0.00000000", "0.00666000"), strict=True
            )
        ],
    },
    "executions": {
        **_BASE_EXAMPLE,
        "by_status": {"queued": 0, "running": 1, "waiting": 0, "succeeded": 9, "failed": 1, "canceled": 0},
        "series": [
            {**bucket, "by_status": {"running": running, "succeeded": succeeded, "failed": failed}}
            for bucket, running, succeeded, failed in zip(_SERIES_EXAMPLE, (0, 0, 1), (4, 0, 5), (0, 0, 1), strict=True)
        ],
    },
}

_DESCRIPTIONS = {
    "agents": "Agent runs started per interval, with their tokens and cost.",
    "workflows": "Workflows created per interval.",
    "threads": "Threads started per interval.",
    "messages": "Messages written per interval, with their tokens and cost.",
    "workflow-executions": "Workflow executions started per interval, with counts by status.",
}


def _parameters(source: MetricSource) -> list[OpenApiParameter]:
    parameters = [
        OpenApiParameter(
            "from",
            OpenApiTypes.STR,
            OpenApiParameter.QUERY,
            description="Start, inclusive: ISO 8601 date or date-time (default: 30 days before `to`). "
            "Dates and date-times without an offset are read in the workspace's timezone.",
        ),
        OpenApiParameter(
            "to",
            OpenApiTypes.STR,
            OpenApiParameter.QUERY,
            description="End, exclusive: ISO 8601 date-time, or a date to include that whole day (default: now).",
        ),
        OpenApiParameter(
            "interval",
            OpenApiTypes.STR,
            OpenApiParameter.QUERY,
            enum=list(INTERVALS),
            description=f"Bucket size (default: {DEFAULT_INTERVAL}); at most {MAX_BUCKETS} buckets per request.",
        ),
    ]
    for name, kind in source.filters.items():
        if kind == "uuid":
            parameters.append(
                OpenApiParameter(name, OpenApiTypes.UUID, OpenApiParameter.QUERY, description=f"Only this {name}.")
            )
        else:
            parameters.append(
                OpenApiParameter(
                    name, OpenApiTypes.STR, OpenApiParameter.QUERY, enum=list(kind), description=f"Only this {name}."
                )
            )
    return parameters + list(WORKSPACE_CONTEXT_PARAMETERS)


class MetricView(APIView):
    """Count one kind of object of the workspace in context per interval."""

    permission_classes = [IsAuthenticated]
    source_name = ""
    output_serializer: type[serializers.Serializer] = MetricsSerializer

    def get(self, request: Request) -> Response:
        source = source_get(self.source_name)
        workspace = workspace_resolve_for_request(request=request)
        check_permission(request=request, workspace=workspace, required=source.ability)
        query = metric_query_from_params(params=request.query_params, source=source, workspace=workspace)

        result = metric_series(source=source, query=query)
        body = {
            **result,
            "interval": query.interval,
            "timezone": str(query.tzinfo),
            "from": query.start,
            "to": query.end,
        }
        return Response(self.output_serializer(body).data)


def _metric_view(name: str, serializer: type[serializers.Serializer], example: str) -> Any:
    """Build the view of one metric, documented with its own parameters, response and example."""
    source = source_get(name)

    # A fresh function per view: extend_schema stores the documentation on the function itself.
    def get(self: MetricView, request: Request) -> Response:
        return MetricView.get(self, request)

    documented = extend_schema(
        operation_id=f"metrics_{name.replace('-', '_')}",
        summary=f"Count {name.replace('-', ' ')} over time",
        description=f"{_DESCRIPTIONS[name]} Needs the `{source.ability}` ability; every member may read it. "
        "The series has a bucket for every interval of the range, empty ones included.",
        tags=["Metrics"],
        parameters=_parameters(source),
        responses=serializer,
        examples=[OpenApiExample(f"{name.capitalize()} per day", value=EXAMPLES[example], response_only=True)],
    )(get)
    class_name = "".join(part.capitalize() for part in name.split("-")) + "MetricView"
    return type(class_name, (MetricView,), {"source_name": name, "output_serializer": serializer, "get": documented})


METRICS = (
    ("agents", UsageMetricsSerializer, "usage"),
    ("workflows", MetricsSerializer, "plain"),
    ("threads", MetricsSerializer, "plain"),
    ("messages", UsageMetricsSerializer, "usage"),
    ("workflow-executions", WorkflowExecutionMetricsSerializer, "executions"),
)

urlpatterns = [
    re_path(
        rf"^metrics/{name}/?$",
        _metric_view(name, serializer, example).as_view(),
        name=f"metrics-{name}",
    )
    for name, serializer, example in METRICS
]
