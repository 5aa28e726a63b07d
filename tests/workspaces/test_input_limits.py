"""Every workspaces endpoint rejects oversized bodies and invalid pagination."""

import pytest

from tests.factories import VariableFactory
from workspaces.models import Role

WRITE_ENDPOINTS = [
    ("post", "/api/v1/workspaces"),
    ("put", "/api/v1/workspaces/{workspace}"),
    ("patch", "/api/v1/workspaces/{workspace}"),
    ("post", "/api/v1/workspaces/{workspace}/transfer-ownership"),
    ("post", "/api/v1/workspaces/{workspace}/members"),
    ("patch", "/api/v1/workspaces/{workspace}/members/{member}"),
    ("post", "/api/v1/workspaces/{workspace}/variables"),
    ("patch", "/api/v1/workspaces/{workspace}/variables/REGION"),
    ("post", "/api/v1/command-room/tasks"),
]
# Accepting an invitation reads no body, so only the size limit applies to it.
SIZE_LIMITED_ENDPOINTS = [*WRITE_ENDPOINTS, ("post", "/api/v1/workspaces/invitations/some-token/accept")]
LIST_ENDPOINTS = [
    "/api/v1/workspaces",
    "/api/v1/workspaces/metrics",
    "/api/v1/workspaces/{workspace}/members",
    "/api/v1/workspaces/{workspace}/variables",
    "/api/v1/command-room/tasks",
]


@pytest.fixture
def urls(workspace, member_of):
    member = member_of(Role.EDITOR)
    VariableFactory(workspace=workspace, key="REGION")
    return {"workspace": workspace.pk, "member": member.pk}


@pytest.mark.parametrize(("method", "template"), SIZE_LIMITED_ENDPOINTS)
def test_endpoint_rejects_oversized_body(owner_client, urls, method, template):
    body = '{"name": "' + "x" * (1024 * 1024 + 1) + '"}'

    response = getattr(owner_client, method)(
        template.format(**urls), body, content_type="application/json", HTTP_X_WORKSPACE=str(urls["workspace"])
    )

    assert response.status_code == 413, response.content
    assert response.json()["code"] == "payload_too_large"


@pytest.mark.parametrize(("method", "template"), WRITE_ENDPOINTS)
def test_endpoint_rejects_malformed_json(owner_client, urls, method, template):
    response = getattr(owner_client, method)(
        template.format(**urls), "{not json", content_type="application/json", HTTP_X_WORKSPACE=str(urls["workspace"])
    )

    assert response.status_code == 400, response.content


@pytest.mark.parametrize("template", LIST_ENDPOINTS)
@pytest.mark.parametrize("query", ["page=0", "per_page=-1", "page=abc"])
def test_list_rejects_invalid_pagination(owner_client, urls, template, query):
    response = owner_client.get(f"{template.format(**urls)}?{query}", HTTP_X_WORKSPACE=str(urls["workspace"]))

    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize("template", LIST_ENDPOINTS)
def test_list_caps_per_page(owner_client, urls, template):
    response = owner_client.get(f"{template.format(**urls)}?per_page=1000", HTTP_X_WORKSPACE=str(urls["workspace"]))

    assert response.status_code == 200, response.content
    assert response.json()["meta"]["per_page"] == 100
