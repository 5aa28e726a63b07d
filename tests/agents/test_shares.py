"""Shares: grants to users, public links with rate limits, and revocation."""

import pytest
from django.core.cache import cache

from agents.models import AgentRun
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()


def test_share_grant_lets_grantee_run_and_list(owner_client, make_client, agent, fake_llm):
    # given
    grantee = UserFactory()
    response = owner_client.post(f"/api/v1/agents/{agent.pk}/share", {"user_email": grantee.email, "permission": "run"})
    assert response.status_code == 201, response.content
    client = make_client(grantee)

    # when
    listed = client.get("/api/v1/agents?shared=true")
    own = client.get("/api/v1/agents")
    ran = client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Hi", "variables": {"company": "Acme"}})
    edited = client.patch(f"/api/v1/agents/{agent.pk}", {"name": "Taken over"})
    reshared = client.post(f"/api/v1/agents/{agent.pk}/share", {"public": True, "permission": "run"})

    # then
    assert [item["id"] for item in listed.json()["data"]] == [str(agent.pk)]
    assert own.json()["data"] == []
    assert ran.status_code == 200, ran.content
    assert edited.status_code == 403
    assert reshared.status_code == 403


def test_share_revocation_removes_access(owner_client, make_client, agent):
    grantee = UserFactory()
    share = owner_client.post(f"/api/v1/agents/{agent.pk}/share", {"user_email": grantee.email}).json()["data"]

    revoked = owner_client.delete(f"/api/v1/agents/{agent.pk}/shares/{share['id']}")
    response = make_client(grantee).get(f"/api/v1/agents/{agent.pk}")

    assert revoked.status_code == 204
    assert response.status_code == 404


def test_share_unknown_email_is_422(owner_client, agent):
    response = owner_client.post(f"/api/v1/agents/{agent.pk}/share", {"user_email": "nobody@example.com"})

    assert response.status_code == 422, response.content
    assert "user_email" in response.json()["errors"]


def test_public_link_runs_without_account(owner_client, api_client, agent, fake_llm):
    # given
    created = owner_client.post(f"/api/v1/agents/{agent.pk}/share", {"public": True, "permission": "run"})
    url = created.json()["data"]["url"]
    path = url[url.index("/api/v1/") :]
    fake_llm.reply("Hello stranger.")

    # when
    response = api_client.post(path, {"input": "Hi", "variables": {"company": "Acme"}}, format="json")

    # then
    assert response.status_code == 200, response.content
    assert response.json()["data"]["output"] == "Hello stranger."
    assert AgentRun.objects.get().source == "public"
    listed = owner_client.get(f"/api/v1/agents/{agent.pk}/shares").json()["data"]
    assert listed[0]["url"] is None


def test_public_link_is_rate_limited(owner_client, api_client, agent, fake_llm, settings):
    settings.ATHENA_AGENT_PUBLIC_RUNS_PER_WINDOW = 1
    url = owner_client.post(f"/api/v1/agents/{agent.pk}/share", {"public": True, "permission": "run"}).json()["data"]
    path = url["url"][url["url"].index("/api/v1/") :]
    body = {"input": "Hi", "variables": {"company": "Acme"}}

    first = api_client.post(path, body, format="json")
    second = api_client.post(path, body, format="json")

    assert first.status_code == 200, first.content
    assert second.status_code == 429, second.content
    assert int(second["Retry-After"]) >= 1


def test_public_link_revoked_or_unknown_is_404(owner_client, api_client, agent):
    data = owner_client.post(f"/api/v1/agents/{agent.pk}/share", {"public": True, "permission": "run"}).json()["data"]
    path = data["url"][data["url"].index("/api/v1/") :]
    owner_client.delete(f"/api/v1/agents/{agent.pk}/shares/{data['id']}")

    revoked = api_client.post(path, {"input": "Hi"}, format="json")
    unknown = api_client.post("/api/v1/public/agents/" + "a" * 32 + "/run", {"input": "Hi"}, format="json")

    assert revoked.status_code == 404
    assert unknown.status_code == 404


def test_public_view_link_cannot_run(owner_client, api_client, agent):
    data = owner_client.post(f"/api/v1/agents/{agent.pk}/share", {"public": True, "permission": "view"}).json()["data"]
    path = data["url"][data["url"].index("/api/v1/") :]

    response = api_client.post(path, {"input": "Hi"}, format="json")

    assert response.status_code == 403
