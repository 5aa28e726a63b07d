"""`GET /healthz`: the state of the database, cache, broker and workers."""

import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

WORKER_PING_TIMEOUT_SECONDS = 1.0


def check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 (any driver error means the database is down)
        logger.warning("Health check: database unreachable: %s", type(exc).__name__)
        return {"status": "down", "error": type(exc).__name__}
    return {"status": "up", "vendor": connection.vendor}


def check_cache() -> dict[str, Any]:
    key = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "1", timeout=5)
        ok = cache.get(key) == "1"
        cache.delete(key)
    except Exception as exc:  # noqa: BLE001 (any client error means the cache is down)
        logger.warning("Health check: cache unreachable: %s", type(exc).__name__)
        return {"status": "down", "error": type(exc).__name__}
    return {"status": "up" if ok else "down"}


def check_broker() -> dict[str, Any]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"status": "eager"}
    from athena_site.celery import app

    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001 (kombu raises many transport-specific errors)
        logger.warning("Health check: broker unreachable: %s", type(exc).__name__)
        return {"status": "down", "error": type(exc).__name__}
    return {"status": "up"}


def check_workers(broker_up: bool) -> dict[str, Any]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"status": "eager", "count": 0}
    if not broker_up:
        return {"status": "unknown", "count": 0}
    from athena_site.celery import app

    try:
        replies = app.control.ping(timeout=WORKER_PING_TIMEOUT_SECONDS) or []
    except Exception as exc:  # noqa: BLE001 (a broker failure during the broadcast)
        logger.warning("Health check: worker ping failed: %s", type(exc).__name__)
        return {"status": "unknown", "count": 0}
    return {"status": "up" if replies else "none", "count": len(replies)}


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Report each dependency; 503 names what is down. Workers are reported, never required."""
    checks = {"database": check_database(), "cache": check_cache(), "broker": check_broker()}
    checks["workers"] = check_workers(checks["broker"]["status"] == "up")
    down = [name for name in ("database", "cache", "broker") if checks[name]["status"] == "down"]
    body = {"status": "down" if down else "ok", "down": down, "checks": checks}
    return JsonResponse(body, status=503 if down else 200)
