"""Memories API and retrieval; prompts with versions and variable checks."""

import pytest

from agents import selectors, services

pytestmark = pytest.mark.django_db


def test_memory_crud_and_search(owner_client, workspace, agent):
    # given
    created = owner_client.post(
        "/api/v1/memories",
        {"agent_id": str(agent.pk), "content": "The warehouse closes at six.", "kind": "fact"},
        HTTP_X_WORKSPACE=str(workspace.pk),
    )
    owner_client.post("/api/v1/memories", {"content": "Lunch is at noon."}, HTTP_X_WORKSPACE=str(workspace.pk))
    memory_id = created.json()["data"]["id"]

    # when
    searched = owner_client.get("/api/v1/memories?search=warehouse", HTTP_X_WORKSPACE=str(workspace.pk))
    by_agent = owner_client.get(f"/api/v1/memories?agent={agent.pk}", HTTP_X_WORKSPACE=str(workspace.pk))
    patched = owner_client.patch(f"/api/v1/memories/{memory_id}", {"content": "The warehouse closes at seven."})
    deleted = owner_client.delete(f"/api/v1/memories/{memory_id}")

    # then
    assert created.status_code == 201, created.content
    assert [item["content"] for item in searched.json()["data"]] == ["The warehouse closes at six."]
    assert len(by_agent.json()["data"]) == 1
    assert patched.json()["data"]["content"] == "The warehouse closes at seven."
    assert deleted.status_code == 204


def test_memory_validation(owner_client, workspace):
    blank = owner_client.post("/api/v1/memories", {"content": "  "}, HTTP_X_WORKSPACE=str(workspace.pk))
    kind = owner_client.post("/api/v1/memories", {"content": "x", "kind": "dream"}, HTTP_X_WORKSPACE=str(workspace.pk))

    assert blank.status_code == 422
    assert kind.status_code == 422


def test_memory_retrieve_ranks_relevant_first(workspace, agent):
    for content in ("Cats like fish.", "Invoices are due monthly; invoices go out on the first.", "Dogs bark."):
        services.memory_create(workspace_id=workspace.pk, data={"agent": agent, "content": content})

    found = selectors.memory_retrieve(
        workspace_id=workspace.pk, agent_id=agent.pk, query="when are invoices due", limit=2
    )

    assert found[0].content.startswith("Invoices")


@pytest.fixture
def prompt_body(llm):
    account, model = llm
    return {
        "name": "Summarize",
        "template": "Summarize in {{ words }} words: {{ text }}",
        "variables": [{"name": "text"}, {"name": "words", "type": "integer", "required": False, "default": 20}],
        "model_id": str(model.pk),
        "account_id": str(account.pk),
    }


def test_prompt_versions_increase_on_template_change(owner_client, workspace, prompt_body):
    created = owner_client.post("/api/v1/prompts", prompt_body, HTTP_X_WORKSPACE=str(workspace.pk))
    prompt_id = created.json()["data"]["id"]

    renamed = owner_client.patch(f"/api/v1/prompts/{prompt_id}", {"name": "Short summary"})
    changed = owner_client.patch(f"/api/v1/prompts/{prompt_id}", {"template": "Briefly ({{ words }}): {{ text }}"})
    versions = owner_client.get(f"/api/v1/prompts/{prompt_id}/versions")

    assert created.json()["data"]["version"] == 1
    assert renamed.json()["data"]["version"] == 1
    assert changed.json()["data"]["version"] == 2
    assert [item["number"] for item in versions.json()["data"]] == [2, 1]


def test_prompt_undeclared_template_variable_is_422(owner_client, workspace, prompt_body):
    response = owner_client.post(
        "/api/v1/prompts", {**prompt_body, "template": "{{ text }} {{ secret }}"}, HTTP_X_WORKSPACE=str(workspace.pk)
    )

    assert response.status_code == 422
    assert "secret" in response.json()["errors"]["template"][0]


def test_prompt_run_renders_and_calls_model(owner_client, workspace, prompt_body, fake_llm):
    prompt_id = owner_client.post("/api/v1/prompts", prompt_body, HTTP_X_WORKSPACE=str(workspace.pk)).json()["data"][
        "id"
    ]
    fake_llm.reply("Short.")

    response = owner_client.post(f"/api/v1/prompts/{prompt_id}/run", {"variables": {"text": "A long story."}})

    assert response.status_code == 200, response.content
    assert response.json()["data"]["output"] == "Short."
    assert response.json()["data"]["version"] == 1
    assert fake_llm.last_request.body["messages"] == [
        {"role": "user", "content": "Summarize in 20 words: A long story."}
    ]


@pytest.mark.parametrize(
    ("variables", "field"),
    [({}, "variables.text"), ({"text": "x", "extra": 1}, "variables.extra")],
)
def test_prompt_run_variable_errors_do_not_call_model(owner_client, workspace, prompt_body, fake_llm, variables, field):
    prompt_id = owner_client.post("/api/v1/prompts", prompt_body, HTTP_X_WORKSPACE=str(workspace.pk)).json()["data"][
        "id"
    ]

    response = owner_client.post(f"/api/v1/prompts/{prompt_id}/run", {"variables": variables})

    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert fake_llm.requests == []


def test_prompt_sandbox_blocks_internals(owner_client, workspace, prompt_body, fake_llm):
    body = {**prompt_body, "template": "{{ text.__class__.__mro__ }}", "variables": [{"name": "text"}]}
    prompt_id = owner_client.post("/api/v1/prompts", body, HTTP_X_WORKSPACE=str(workspace.pk)).json()["data"]["id"]

    response = owner_client.post(f"/api/v1/prompts/{prompt_id}/run", {"variables": {"text": "x"}})

    assert response.status_code == 422, response.content
    assert fake_llm.requests == []
