"""Isolation matrix cases of the metrics routes (collected by tests/isolation).

Every metric acts in the workspace named by `X-Workspace`: an outsider gets 404
`workspace_not_found`, every member may read, and a token needs the metric's read ability.
"""

from tests.isolation.harness import EndpointCase

ABILITIES = {
    "agents": "agents:read",
    "workflows": "workflows:read",
    "threads": "threads:read",
    "messages": "threads:read",
    "workflow-executions": "executions:read",
}


def _url(name: str):
    return lambda world, obj: f"/api/v1/metrics/{name}?from=2025-03-01&to=2025-03-08"


CASES = [
    EndpointCase(f"metrics/{name}", "GET", _url(name), ability, scope="context") for name, ability in ABILITIES.items()
]
