"""Page-number pagination rendered as `{data, links, meta}`."""

import math
from typing import Any

from django.core.paginator import Paginator
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

DEFAULT_PER_PAGE = 15
MAX_PER_PAGE = 100

LINKS_EXAMPLE = {
    "first": "https://athena.example.com/api/v1/agents",
    "last": "https://athena.example.com/api/v1/agents?page=3",
    "prev": None,
    "next": "https://athena.example.com/api/v1/agents?page=2",
}
META_EXAMPLE = {
    "current_page": 1,
    "from": 1,
    "last_page": 3,
    "path": "https://athena.example.com/api/v1/agents",
    "per_page": 15,
    "to": 15,
    "total": 42,
}


def _positive_int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: [f"The {name} must be an integer."]}) from None
    if value < 1:
        raise ValidationError({name: [f"The {name} must be at least 1."]})
    return value


class EnvelopePagination(BasePagination):
    """Paginate with `?page=` and `?per_page=` (default 15, capped at 100).

    A page past the last one returns an empty `data` with correct meta rather than 404,
    so clients can loop until `links.next` is null.
    """

    page_query_param = "page"
    per_page_query_param = "per_page"

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        self.request = request
        self.page_number = _positive_int(request, self.page_query_param, 1)
        self.per_page = min(_positive_int(request, self.per_page_query_param, DEFAULT_PER_PAGE), MAX_PER_PAGE)
        paginator = Paginator(queryset, self.per_page)
        self.total = paginator.count
        self.last_page = max(1, math.ceil(self.total / self.per_page))
        if self.page_number > self.last_page:
            self.items: list[Any] = []
        else:
            self.items = list(paginator.page(self.page_number).object_list)
        return self.items

    def _page_link(self, page: int | None) -> str | None:
        if page is None:
            return None
        url = self.request.build_absolute_uri()
        if page == 1:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, page)

    def get_paginated_response(self, data: Any) -> Response:
        start = (self.page_number - 1) * self.per_page
        has_items = bool(self.items)
        previous_page = min(self.page_number - 1, self.last_page) if self.page_number > 1 else None
        next_page = self.page_number + 1 if self.page_number < self.last_page else None
        body = {
            "data": data,
            "links": {
                "first": self._page_link(1),
                "last": self._page_link(self.last_page),
                "prev": self._page_link(previous_page),
                "next": self._page_link(next_page),
            },
            "meta": {
                "current_page": self.page_number,
                "from": start + 1 if has_items else None,
                "last_page": self.last_page,
                "path": self.request.build_absolute_uri(self.request.path),
                "per_page": self.per_page,
                "to": start + len(self.items) if has_items else None,
                "total": self.total,
            },
        }
        response = Response(body)
        response.is_enveloped = True
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["data", "links", "meta"],
            "properties": {
                "data": schema,
                # allOf lets the reference carry an example, which drf-spectacular uses to wrap
                # list examples in the full envelope.
                "links": {"allOf": [{"$ref": "#/components/schemas/PaginationLinks"}], "example": LINKS_EXAMPLE},
                "meta": {"allOf": [{"$ref": "#/components/schemas/PaginationMeta"}], "example": META_EXAMPLE},
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "in": "query",
                "required": False,
                "description": "Page number, starting at 1.",
                "schema": {"type": "integer", "minimum": 1, "default": 1},
            },
            {
                "name": self.per_page_query_param,
                "in": "query",
                "required": False,
                "description": f"Items per page; values above {MAX_PER_PAGE} are capped.",
                "schema": {"type": "integer", "minimum": 1, "default": DEFAULT_PER_PAGE},
            },
        ]


def paginated_response(*, request: Request, items: Any, serialize: Any, view: Any = None) -> Response:
    """Paginate `items` (a queryset or list) and render the page with `serialize(page)`."""
    paginator = EnvelopePagination()
    page = paginator.paginate_queryset(items, request, view=view)
    return paginator.get_paginated_response(serialize(page))
