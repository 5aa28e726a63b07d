"""The Celery application; tasks carry the request id of the request that queued them."""

import os
from typing import Any

from celery import Celery, signals

from athena_site.logging import get_request_id, set_request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "athena_site.settings.local")

app = Celery("athena", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

REQUEST_ID_HEADER = "athena_request_id"


@signals.before_task_publish.connect
def _add_request_id_header(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    request_id = get_request_id()
    if headers is not None and request_id:
        headers[REQUEST_ID_HEADER] = request_id


@signals.task_prerun.connect
def _bind_request_id(task: Any = None, **kwargs: Any) -> None:
    request = getattr(task, "request", None)
    set_request_id(getattr(request, REQUEST_ID_HEADER, None) if request is not None else None)


@signals.task_postrun.connect
def _unbind_request_id(**kwargs: Any) -> None:
    set_request_id(None)


@signals.setup_logging.connect
def _use_django_logging(**kwargs: Any) -> None:
    # Connecting this signal stops Celery from replacing Django's LOGGING configuration,
    # so worker logs carry the same request-id filter and formatter as the web process.
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
