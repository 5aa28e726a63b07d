"""Agent CRUD through the API: validation, filters, ordering and limits defaults."""

import pytest

from tests.agents.factories import llm_setup
from tests.factories import WorkspaceFactory
from workspaces.models import Role

pytestmark = pytest.mark.django_db


def test_agent_create_returns_agent_with_default_limits(owner_client, workspace, llm, settings):
    # given
    account, model = llm
    settings.ATHENA_AGENT_MAX_STEPS = 4

    # when
    response = owner_client.post(
        "/api/v1/agents",
        {"name": "Support Bot", "model_id": str(model.pk), "account_id": str(account.pk), "limits": {"max_cost": 0.5}},
        HTTP_X_WORKSPACE=str(workspace.pk),
    )

    # then
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["slug"] == "support-bot"
    assert data["limits"]["max_steps"] == 4
    assert data["limits"]["max_cost"] == "0.5"
    assert data["model_id"] == str(model.pk)


def test_agent_create_rejects_foreign_model_and_account(owner_client, workspace, fake_llm):
    # given a model and account of another workspace
    other = WorkspaceFactory()
    account, model = llm_setup(workspace=other, base_url=fake_llm.openai_base_url)

    # when
    response = owner_client.post(
        "/api/v1/agents",
        {"name": "Thief", "model_id": str(model.pk), "account_id": str(account.pk)},
        HTTP_X_WORKSPACE=str(workspace.pk),
    )

    # then
    assert response.status_code == 422, response.content
    assert set(response.json()["errors"]) == {"model_id", "account_id"}


def test_agent_create_rejects_account_of_other_provider(owner_client, workspace, llm, fake_llm):
    # given
    _account, model = llm
    other_account, _other_model = llm_setup(workspace=workspace, base_url=fake_llm.url, protocol="anthropic")

    # when
    response = owner_client.post(
        "/api/v1/agents",
        {"name": "Mixed", "model_id": str(model.pk), "account_id": str(other_account.pk)},
        HTTP_X_WORKSPACE=str(workspace.pk),
    )

    # then
    assert response.status_code == 422, response.content
    assert "account_id" in response.json()["errors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "A", "temperature": 5}, "temperature"),
        ({"name": "A", "limits": {"max_steps": 0}}, "limits.max_steps"),
        ({"name": "A", "limits": {"max_speed": 1}}, "limits.max_speed"),
        ({"name": "A", "tools": [{"type": "teleport"}]}, "tools.0"),
        ({"name": "A", "tools": [{"type": "http", "name": "x", "url": "ftp://example.com"}]}, "tools.0"),
    ],
)
def test_agent_create_validation_errors(owner_client, workspace, body, field):
    response = owner_client.post("/api/v1/agents", body, HTTP_X_WORKSPACE=str(workspace.pk))

    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["errors"]


def test_agent_slug_conflict_is_validation_error(owner_client, workspace, make_agent):
    make_agent(name="Helper", slug="helper")

    response = owner_client.post(
        "/api/v1/agents", {"name": "Other", "slug": "helper"}, HTTP_X_WORKSPACE=str(workspace.pk)
    )

    assert response.status_code == 422, response.content
    assert "slug" in response.json()["errors"]


def test_agent_list_filters_and_orders(owner_client, workspace, make_agent, llm):
    # given
    _account, model = llm
    make_agent(name="Billing helper")
    make_agent(name="Alpha", model_id=None, account_id=None)

    # when
    searched = owner_client.get("/api/v1/agents?search=billing", HTTP_X_WORKSPACE=str(workspace.pk))
    by_model = owner_client.get(f"/api/v1/agents?model_id={model.pk}", HTTP_X_WORKSPACE=str(workspace.pk))
    ordered = owner_client.get("/api/v1/agents?ordering=name", HTTP_X_WORKSPACE=str(workspace.pk))

    # then
    assert [item["name"] for item in searched.json()["data"]] == ["Billing helper"]
    assert [item["name"] for item in by_model.json()["data"]] == ["Billing helper"]
    assert [item["name"] for item in ordered.json()["data"]] == ["Alpha", "Billing helper"]


def test_agent_update_and_delete(owner_client, agent):
    patched = owner_client.patch(f"/api/v1/agents/{agent.pk}", {"instructions": "Be brief."})
    deleted = owner_client.delete(f"/api/v1/agents/{agent.pk}")
    missing = owner_client.get(f"/api/v1/agents/{agent.pk}")

    assert patched.status_code == 200, patched.content
    assert patched.json()["data"]["instructions"] == "Be brief."
    assert deleted.status_code == 204
    assert missing.status_code == 404


def test_agent_private_is_hidden_from_other_members(make_client, member_of, make_agent, workspace):
    # given a private agent of the owner and an editor of the same workspace
    agent = make_agent(name="Mine", visibility="private")
    editor = member_of(Role.EDITOR)

    # when
    response = make_client(editor).get(f"/api/v1/agents/{agent.pk}")

    # then
    assert response.status_code == 404, response.content


def test_agent_registered_in_workspace_registries():
    from workspaces import registries

    assert "agents" in registries.metric_counters()
    assert "agent" in registries.registered_reference_kinds()


def test_agent_avatar_unset_reads_null(owner_client, workspace):
    created = owner_client.post(
        "/api/v1/agents", {"name": "Plain"}, format="json", HTTP_X_WORKSPACE=str(workspace.pk)
    ).json()["data"]
    assert created["avatar"] is None

    url = f"/api/v1/agents/{created['id']}"
    updated = owner_client.patch(url, {"avatar": "https://cdn.example.com/bot.png"}, format="json")
    assert updated.status_code == 200, updated.content
    assert updated.json()["data"]["avatar"] == "https://cdn.example.com/bot.png"

    cleared = owner_client.patch(url, {"avatar": None}, format="json")
    assert cleared.status_code == 200, cleared.content
    assert cleared.json()["data"]["avatar"] is None
