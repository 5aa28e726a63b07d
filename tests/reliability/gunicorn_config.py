"""Gunicorn settings of the live server in the reliability tests.

The master imports Django, the WSGI application and the URL configuration (with every view
module) once, and the workers fork from it ready to serve. Django would otherwise import the
URL configuration on each worker's first request, which timed out the first requests when the
machine was busy.
"""

import sys
from typing import Any

preload_app = True
WARM_MESSAGE = "Master loaded the URL configuration"


def when_ready(server: Any) -> None:
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (the property access performs the import)
    # Printed, not logged, because Django's logging configuration disables gunicorn's loggers.
    print(WARM_MESSAGE, file=sys.stderr, flush=True)
