"""Athena's URLs plus `bench/bare`, the baseline that API overhead is measured against.

The bare view runs behind the same middleware on the same server and returns a fixed JSON body of
`?bytes=` bytes. The gap between it and an API endpoint of the same response size is therefore what
the API layer adds: authentication, throttling, workspace resolution, queries and serialization.
"""

import json
from functools import lru_cache

from django.http import HttpRequest, HttpResponse
from django.urls import path

from athena_site.urls import urlpatterns as athena_urlpatterns

MAX_BARE_BYTES = 1024 * 1024


@lru_cache(maxsize=16)
def _fixed_body(size: int) -> bytes:
    # The padding keeps the body valid JSON whatever its size.
    skeleton = json.dumps({"data": {"padding": ""}}).encode()
    return json.dumps({"data": {"padding": "x" * max(0, size - len(skeleton))}}).encode()


def bare_view(request: HttpRequest) -> HttpResponse:
    """Return a fixed JSON body of `?bytes=` bytes (up to 1 MiB) without touching the database."""
    try:
        size = min(MAX_BARE_BYTES, max(0, int(request.GET.get("bytes", "1024"))))
    except ValueError:
        size = 1024
    return HttpResponse(_fixed_body(size), content_type="application/json")


urlpatterns = [path("bench/bare", bare_view), *athena_urlpatterns]
