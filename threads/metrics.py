"""Metric sources of the threads app: threads started and messages written over time."""

from athena_site.metrics import MetricSource
from threads.selectors import messages_for_metrics, threads_for_metrics

THREADS = MetricSource(name="threads", ability="threads:read", queryset=threads_for_metrics, filters={"agent": "uuid"})

MESSAGES = MetricSource(
    name="messages",
    ability="threads:read",
    queryset=messages_for_metrics,
    filters={"agent": "uuid"},
    sums={"tokens": "tokens", "cost": "cost"},
)
