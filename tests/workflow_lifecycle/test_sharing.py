"""Workflow shares: grants to users by permission, public run links, their rate limit and revocation."""

from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.workspaces.conftest import client_for
from workflows.models import WorkflowExecution
from workspaces.models import Role

pytestmark = pytest.mark.django_db


def _share(client, workflow, **body):
    response = client.post(f"/api/v1/workflows/{workflow.pk}/share", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["data"]


def _public_url(share: dict) -> str:
    return urlsplit(share["url"]).path


def test_share_view_grant_is_read_only(owner_client, workflow, stranger):
    _share(owner_client, workflow, user_email=stranger.email, permission="view")
    client = client_for(stranger)

    listed = client.get("/api/v1/workflows?shared=true")
    own = client.get("/api/v1/workflows")
    read = client.get(f"/api/v1/workflows/{workflow.pk}")
    ran = client.post(f"/api/v1/workflows/{workflow.pk}/run", {"input": {}}, format="json")
    edited = client.patch(f"/api/v1/workflows/{workflow.pk}", {"name": "Taken over"}, format="json")

    assert [item["id"] for item in listed.json()["data"]] == [str(workflow.pk)]
    assert own.json()["data"] == []
    assert read.status_code == 200, read.content
    assert ran.status_code == 403, ran.content
    assert ran.json()["code"] == "forbidden"
    assert edited.status_code == 403, edited.content


def test_share_run_grant_runs_but_cannot_edit(owner_client, workflow, stranger, on_commit):
    _share(owner_client, workflow, user_email=stranger.email, permission="run")
    client = client_for(stranger)

    with on_commit():
        ran = client.post(f"/api/v1/workflows/{workflow.pk}/run", {"input": {"name": "Ada"}}, format="json")
    edited = client.patch(f"/api/v1/workflows/{workflow.pk}", {"name": "Taken over"}, format="json")

    assert ran.status_code == 202, ran.content
    assert WorkflowExecution.objects.get(pk=ran.json()["data"]["id"]).status == "succeeded"
    assert edited.status_code == 403, edited.content


def test_share_edit_grant_limits(owner_client, workflow, stranger):
    _share(owner_client, workflow, user_email=stranger.email, permission="edit")
    client = client_for(stranger)

    edited = client.patch(f"/api/v1/workflows/{workflow.pk}", {"name": "Renamed"}, format="json")
    deleted = client.delete(f"/api/v1/workflows/{workflow.pk}")
    reshared = client.post(f"/api/v1/workflows/{workflow.pk}/share", {"public": True, "permission": "run"})
    shares = client.get(f"/api/v1/workflows/{workflow.pk}/shares")

    assert edited.status_code == 200, edited.content
    assert edited.json()["data"]["name"] == "Renamed"
    assert deleted.status_code == 403, deleted.content
    assert reshared.status_code == 403, reshared.content
    assert shares.status_code == 403, shares.content


def test_share_again_changes_permission(owner_client, workflow, stranger):
    first = _share(owner_client, workflow, user_email=stranger.email, permission="view")
    second = _share(owner_client, workflow, user_email=stranger.email, permission="edit")

    listed = owner_client.get(f"/api/v1/workflows/{workflow.pk}/shares").json()["data"]

    assert first["id"] == second["id"]
    assert [(item["permission"], item["user"]["email"]) for item in listed] == [("edit", stranger.email)]


def test_share_revocation_removes_access(owner_client, workflow, stranger):
    share = _share(owner_client, workflow, user_email=stranger.email, permission="run")

    revoked = owner_client.delete(f"/api/v1/workflows/{workflow.pk}/shares/{share['id']}")
    after = client_for(stranger).get(f"/api/v1/workflows/{workflow.pk}")

    assert revoked.status_code == 204, revoked.content
    assert after.status_code == 404, after.content


def test_share_delete_unknown_share_is_404(owner_client, workflow):
    for share_id in ("not-a-uuid", "3f2e1d0c-9b8a-4765-a4f3-e2d1c0b9a876"):
        response = owner_client.delete(f"/api/v1/workflows/{workflow.pk}/shares/{share_id}")

        assert response.status_code == 404, response.content
        assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user_email": "nobody@example.com"}, "user_email"),
        ({"user_email": "not-an-email"}, "user_email"),
        ({}, "user_email"),
        ({"public": True, "user_email": "a@example.com"}, "user_email"),
        ({"public": True, "permission": "own"}, "permission"),
        ({"public": "maybe"}, "public"),
    ],
)
def test_share_bad_input_is_422(owner_client, workflow, body, field):
    response = owner_client.post(f"/api/v1/workflows/{workflow.pk}/share", body, format="json")

    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]


def test_share_with_self_is_422(owner_client, workflow, owner):
    response = owner_client.post(f"/api/v1/workflows/{workflow.pk}/share", {"user_email": owner.email}, format="json")

    assert response.status_code == 422, response.content
    assert "user_email" in response.json()["errors"]


def test_share_viewer_member_cannot_share(viewer_client, workflow, stranger):
    response = viewer_client.post(f"/api/v1/workflows/{workflow.pk}/share", {"user_email": stranger.email})

    assert response.status_code == 403, response.content


def test_share_public_link_runs_and_shows_token_once(owner_client, workflow, settings):
    settings.WORKFLOWS_SYNC_WEBHOOK_TIMEOUT_SECONDS = 0.1
    share = _share(owner_client, workflow, public=True, permission="run")

    listed = owner_client.get(f"/api/v1/workflows/{workflow.pk}/shares").json()["data"]
    response = Client().post(_public_url(share), {"input": {"name": "Ada"}}, content_type="application/json")

    assert share["url"].endswith("/run")
    assert "/public/workflows/" in share["url"]
    assert listed[0]["url"] is None
    assert listed[0]["token_prefix"] == share["token_prefix"]
    assert response.status_code == 202, response.content
    execution = WorkflowExecution.objects.get(pk=response.json()["data"]["execution_id"])
    assert execution.workflow_id == workflow.pk
    assert execution.trigger_payload["body"] == {"name": "Ada"}
    assert execution.created_by is None


@pytest.mark.django_db(transaction=True)
def test_share_public_link_answers_with_output(make_workflow, owner, settings):
    settings.WORKFLOWS_SYNC_WEBHOOK_TIMEOUT_SECONDS = 10
    workflow = make_workflow(
        [
            {"id": "start", "type": "trigger.manual"},
            {"id": "greet", "type": "set", "parameters": {"values": {"hi": "{{ input.name }}"}}},
        ],
        [{"source": "start", "target": "greet"}],
    )
    share = _share(client_for(owner), workflow, public=True, permission="run")

    response = Client().post(_public_url(share), {"input": {"name": "Ada"}}, content_type="application/json")

    assert response.status_code == 200, response.content
    assert response.json()["data"]["status"] == "succeeded"
    assert response.json()["data"]["output"] == {"hi": "Ada"}


def test_share_public_view_link_cannot_run(owner_client, workflow):
    share = _share(owner_client, workflow, public=True, permission="view")

    response = Client().post(_public_url(share), {}, content_type="application/json")

    assert response.status_code == 403, response.content
    assert not WorkflowExecution.objects.filter(workflow=workflow).exists()


def test_share_public_link_revoked_is_404(owner_client, workflow):
    share = _share(owner_client, workflow, public=True, permission="run")
    owner_client.delete(f"/api/v1/workflows/{workflow.pk}/shares/{share['id']}")

    response = Client().post(_public_url(share), {}, content_type="application/json")

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"


def test_share_public_unknown_token_is_404():
    response = Client().post(
        "/api/v1/public/workflows/aaaaaaaaaaaaaaaaaaaaaaaa/run", {}, content_type="application/json"
    )

    assert response.status_code == 404, response.content


def test_share_public_link_rate_limited(owner_client, workflow, settings):
    settings.WORKFLOWS_SYNC_WEBHOOK_TIMEOUT_SECONDS = 0
    settings.WORKFLOWS_PUBLIC_RUNS_PER_WINDOW = 2
    share = _share(owner_client, workflow, public=True, permission="run")

    answers = [Client().post(_public_url(share), {}, content_type="application/json") for _ in range(3)]

    assert [answer.status_code for answer in answers] == [202, 202, 429]
    assert answers[2].json()["code"] == "throttled"
    assert int(answers[2]["Retry-After"]) >= 1


def test_share_public_link_of_inactive_workflow_is_409(owner_client, workflow):
    share = _share(owner_client, workflow, public=True, permission="run")
    owner_client.patch(f"/api/v1/workflows/{workflow.pk}", {"active": False}, format="json")

    response = Client().post(_public_url(share), {}, content_type="application/json")

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "workflow_inactive"


def test_share_public_link_malformed_body_is_400(owner_client, workflow):
    share = _share(owner_client, workflow, public=True, permission="run")

    response = Client().post(_public_url(share), b"{not json", content_type="application/json")

    assert response.status_code == 400, response.content


def test_share_viewer_lists_shares_grantee_cannot_delete(owner_client, workflow, stranger, member):
    _share(owner_client, workflow, user_email=stranger.email, permission="view")

    viewer = member(Role.VIEWER).get(f"/api/v1/workflows/{workflow.pk}/shares")
    grantee = client_for(stranger).delete(f"/api/v1/workflows/{workflow.pk}")

    assert viewer.status_code == 200, viewer.content
    assert grantee.status_code == 403, grantee.content
