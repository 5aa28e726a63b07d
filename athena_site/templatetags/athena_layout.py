"""Template tags of the site layout: the workspace switcher and the active state of navigation links."""

import json
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.inclusion_tag("layout/workspace_switcher.html", takes_context=True)
def workspace_switcher(context: template.Context) -> dict[str, Any]:
    """Render the form that changes the signed-in user's current workspace."""
    from workspaces.selectors import workspace_list_for_user

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"workspaces": []}
    return {
        "workspaces": list(workspace_list_for_user(user=user)),
        "current_id": user.current_workspace_id,
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag(takes_context=True)
def nav_current(context: template.Context, prefix: str) -> SafeString:
    """Return ` aria-current="page"` when the request path is under `prefix` (or is `/` for `/`)."""
    request = context.get("request")
    path = getattr(request, "path", "")
    matches = path == "/" if prefix == "/" else path.startswith(prefix)
    return mark_safe(' aria-current="page"' if matches else "")  # noqa: S308 (a constant attribute, no input)


@register.filter
def pretty_json(value: Any) -> str:
    """Render a stored JSON value indented, as people read it in the API."""
    if value is None:
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


@register.filter
def run_duration(run: Any) -> str:
    """Return how long a node run took, in milliseconds below a second, else in seconds."""
    if not (getattr(run, "started_at", None) and getattr(run, "finished_at", None)):
        return "—"
    seconds = (run.finished_at - run.started_at).total_seconds()
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"
