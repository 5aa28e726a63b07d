"""Time-series metrics: the registry of metric sources and the bucketed counting they share.

Each domain app describes its metrics in its own `metrics.py` as a `MetricSource`: a scoping
queryset, the date field to bucket on, optional sums and an optional field to break counts down
by. This module imports no domain app; the module that mounts the metrics routes registers the
sources. A source registered as a placeholder (an app whose models do not exist yet) returns
zeros until the app registers its real source under the same name.
"""

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Trunc

INTERVALS = ("hour", "day", "week", "month")
MAX_BUCKETS = 1000

# queryset(workspace_id, filters) -> the rows of one workspace matching the validated filters.
ScopedQueryset = Callable[[uuid.UUID, Mapping[str, Any]], QuerySet]


@dataclass(frozen=True)
class MetricSource:
    """How to count one kind of object over time.

    `filters` maps each accepted query parameter to its kind: `uuid`, or a tuple of allowed
    values. `sums` maps an output name to the field summed per bucket. `breakdown` names a
    field whose values are counted separately in each bucket (executions by status).
    """

    name: str
    ability: str
    queryset: ScopedQueryset | None
    date_field: str = "created_at"
    filters: Mapping[str, Any] = field(default_factory=dict)
    sums: Mapping[str, str] = field(default_factory=dict)
    breakdown: str | None = None
    breakdown_values: tuple[str, ...] = ()
    placeholder: bool = False


@dataclass(frozen=True)
class MetricQuery:
    workspace_id: uuid.UUID
    start: datetime
    end: datetime
    interval: str
    tzinfo: ZoneInfo
    filters: Mapping[str, Any]


_sources: dict[str, MetricSource] = {}


def register_source(source: MetricSource) -> None:
    """Register a metric source; a real source replaces a placeholder, never another real one.

    A placeholder never replaces anything, so the order in which apps and the routes module
    register does not matter.
    """
    existing = _sources.get(source.name)
    if existing is not None:
        if source.placeholder:
            return
        if not existing.placeholder and existing is not source:
            raise ImproperlyConfigured(f"The metric '{source.name}' is already registered by another source.")
    _sources[source.name] = source


def unregister_source(name: str) -> None:
    _sources.pop(name, None)


def source_get(name: str) -> MetricSource:
    """Return the registered source named `name`; raises KeyError when there is none."""
    return _sources[name]


def registered_sources() -> dict[str, MetricSource]:
    return dict(_sources)


# --- buckets -------------------------------------------------------------------


def local_start(moment: datetime, interval: str, tzinfo: ZoneInfo) -> datetime:
    """Return the start of the bucket holding `moment`, in the workspace's timezone."""
    local = moment.astimezone(tzinfo)
    if interval == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.date()
    if interval == "week":
        day -= timedelta(days=day.weekday())
    elif interval == "month":
        day = day.replace(day=1)
    return datetime.combine(day, time(), tzinfo=tzinfo)


def _next_start(start: datetime, interval: str, tzinfo: ZoneInfo) -> datetime:
    if interval == "hour":
        # Step in UTC so a daylight-saving change neither repeats nor skips an hour.
        return local_start(start + timedelta(hours=1), interval, tzinfo)
    day = start.date()
    if interval == "day":
        day += timedelta(days=1)
    elif interval == "week":
        day += timedelta(days=7)
    else:
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return datetime.combine(day, time(), tzinfo=tzinfo)


def bucket_count(*, start: datetime, end: datetime, interval: str, tzinfo: ZoneInfo) -> int:
    """Count the buckets of a range without building them, so a huge range is refused cheaply."""
    first = local_start(start, interval, tzinfo)
    span = end - first
    if interval == "hour":
        return int(span.total_seconds() // 3600) + 1
    if interval == "day":
        return span.days + 1
    if interval == "week":
        return span.days // 7 + 1
    last = end.astimezone(tzinfo)
    return (last.year - first.year) * 12 + last.month - first.month + 1


def bucket_starts(*, start: datetime, end: datetime, interval: str, tzinfo: ZoneInfo) -> list[datetime]:
    """Return the start of every bucket that overlaps [start, end), in the workspace's timezone."""
    starts = []
    current = local_start(start, interval, tzinfo)
    while current < end:
        starts.append(current)
        current = _next_start(current, interval, tzinfo)
    return starts


# --- counting ------------------------------------------------------------------


def _empty_bucket(source: MetricSource, start: datetime) -> dict[str, Any]:
    bucket: dict[str, Any] = {"start": start, "count": 0}
    for name in source.sums:
        bucket[name] = Decimal(0) if name == "cost" else 0
    if source.breakdown:
        bucket[f"by_{source.breakdown}"] = dict.fromkeys(source.breakdown_values, 0)
    return bucket


def _key(moment: datetime) -> float:
    return moment.timestamp()


def metric_series(*, source: MetricSource, query: MetricQuery) -> dict[str, Any]:
    """Count the source's rows per bucket of the query's range, with a bucket for every interval.

    The series is one grouped query in the database, truncated in the workspace's timezone.
    The previous period, of the same length right before `start`, is one aggregate query.
    Returns `total`, `previous_total`, `change_percent` and `series`, plus the totals of the
    source's sums and breakdown.
    """
    starts = bucket_starts(start=query.start, end=query.end, interval=query.interval, tzinfo=query.tzinfo)
    buckets = {_key(start): _empty_bucket(source, start) for start in starts}
    previous_total = 0

    if source.queryset is not None:
        rows = source.queryset(query.workspace_id, query.filters).filter(
            **{f"{source.date_field}__gte": query.start, f"{source.date_field}__lt": query.end}
        )
        group_by = ["bucket", source.breakdown] if source.breakdown else ["bucket"]
        aggregates = {name: Sum(field_name) for name, field_name in source.sums.items()}
        grouped = (
            rows.order_by()
            .annotate(bucket=Trunc(source.date_field, query.interval, tzinfo=query.tzinfo))
            .values(*group_by)
            .annotate(count=Count("pk"), **aggregates)
        )
        for row in grouped:
            bucket = buckets.get(_key(row["bucket"]))
            if bucket is None:
                continue
            bucket["count"] += row["count"]
            for name in source.sums:
                bucket[name] += row[name] or 0
            if source.breakdown:
                counts = bucket[f"by_{source.breakdown}"]
                counts[row[source.breakdown]] = counts.get(row[source.breakdown], 0) + row["count"]

        length = query.end - query.start
        previous = source.queryset(query.workspace_id, query.filters).filter(
            **{f"{source.date_field}__gte": query.start - length, f"{source.date_field}__lt": query.start}
        )
        previous_total = previous.order_by().count()

    series = list(buckets.values())
    total = sum(bucket["count"] for bucket in series)
    result: dict[str, Any] = {
        "total": total,
        "previous_total": previous_total,
        "change_percent": change_percent(total, previous_total),
        "series": series,
    }
    for name in source.sums:
        result[name] = sum((bucket[name] for bucket in series), Decimal(0) if name == "cost" else 0)
    if source.breakdown:
        totals = dict.fromkeys(source.breakdown_values, 0)
        for bucket in series:
            for value, count in bucket[f"by_{source.breakdown}"].items():
                totals[value] = totals.get(value, 0) + count
        result[f"by_{source.breakdown}"] = totals
    return result


def change_percent(total: int, previous_total: int) -> float | None:
    """Return the change from the previous period in percent, or None when it had nothing."""
    if previous_total == 0:
        return None
    return round((total - previous_total) * 100 / previous_total, 1)
