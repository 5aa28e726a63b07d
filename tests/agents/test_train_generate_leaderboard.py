"""Training jobs, agent generation and the leaderboard."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import AgentRun, Memory
from agents.services.training import chunk_text

pytestmark = pytest.mark.django_db

DEFINITION = {"name": "Refund helper", "description": "Drafts replies.", "instructions": "Be kind.", "tools": []}


def test_chunk_text_overlaps():
    chunks = chunk_text("one two three four five six seven eight nine ten", size=20, overlap=5)

    assert all(len(chunk) <= 20 for chunk in chunks)
    assert len(chunks) >= 3
    assert chunks[0].startswith("one")
    assert chunks[-1].endswith("ten")


def test_train_then_run_retrieves_document(
    owner_client, agent, fake_llm, eager_celery, settings, django_capture_on_commit_callbacks
):
    # given
    settings.ATHENA_AGENT_CHUNK_SIZE = 60
    settings.ATHENA_AGENT_CHUNK_OVERLAP = 10
    body = {
        "documents": [{"title": "Policy", "content": "Returns are accepted within thirty days. " * 3}],
        "examples": [{"input": "Hi", "output": "Hello!"}],
    }

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(f"/api/v1/agents/{agent.pk}/train", body)
    job = owner_client.get(f"/api/v1/agents/{agent.pk}/training-jobs/{response.json()['data']['id']}")
    owner_client.post(
        f"/api/v1/agents/{agent.pk}/run", {"input": "Are returns accepted?", "variables": {"company": "A"}}
    )

    # then
    assert response.status_code == 202, response.content
    assert job.json()["data"]["status"] == "succeeded"
    assert job.json()["data"]["counts"]["examples"] == 1
    assert job.json()["data"]["counts"]["chunks"] >= 2
    sent = fake_llm.last_request.body["messages"]
    assert "Returns are accepted within thirty days." in sent[0]["content"]
    assert sent[1] == {"role": "user", "content": "Hi"}


def test_train_with_embeddings_uses_embedding_model(
    owner_client, agent, llm, fake_llm, eager_celery, settings, django_capture_on_commit_callbacks
):
    # given embeddings configured on the fake model
    account, model = llm
    settings.ATHENA_AGENT_EMBEDDING_MODEL_ID = str(model.pk)
    settings.ATHENA_AGENT_EMBEDDING_ACCOUNT_ID = str(account.pk)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(
            f"/api/v1/agents/{agent.pk}/train", {"documents": [{"content": "Shipping is free over 50 euros."}]}
        )
    owner_client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Is shipping free?", "variables": {"company": "A"}})

    # then
    memory = Memory.objects.get(kind="document")
    assert memory.embedding is not None
    assert len(fake_llm.calls_to("/v1/embeddings")) == 2
    assert (
        "Shipping is free over 50 euros."
        in fake_llm.calls_to("/v1/chat/completions")[-1].body["messages"][0]["content"]
    )


def test_train_feedback_rates_run_and_stores_correction(
    agent, owner_client, eager_celery, django_capture_on_commit_callbacks
):
    run = AgentRun.objects.create(workspace=agent.workspace, agent=agent, status="succeeded", input="Opening hours?")

    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(
            f"/api/v1/agents/{agent.pk}/train",
            {"feedback": [{"run_id": str(run.pk), "rating": 2, "correction": "We open at 9."}]},
        )

    run.refresh_from_db()
    assert run.rating == 2
    assert Memory.objects.filter(content__contains="We open at 9.").exists()


def test_train_empty_is_422(owner_client, agent):
    response = owner_client.post(f"/api/v1/agents/{agent.pk}/train", {})

    assert response.status_code == 422


def test_generate_valid_saves_agent(owner_client, workspace, llm, fake_llm):
    fake_llm.reply(json.dumps({**DEFINITION, "tools": ["memory_search"]}))

    response = owner_client.post(
        "/api/v1/agents/generate", {"description": "Refund replies", "save": True}, HTTP_X_WORKSPACE=str(workspace.pk)
    )

    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["agent"]["name"] == "Refund helper"
    assert data["agent"]["tools"] == [{"type": "memory_search"}]
    assert fake_llm.last_request.body["messages"][1]["content"] == "Refund replies"


def test_generate_invalid_then_valid_retries(owner_client, workspace, llm, fake_llm):
    fake_llm.reply("not json at all")
    fake_llm.reply(json.dumps(DEFINITION))

    response = owner_client.post("/api/v1/agents/generate", {"description": "x"}, HTTP_X_WORKSPACE=str(workspace.pk))

    assert response.status_code == 200, response.content
    assert response.json()["data"]["agent"] is None
    assert len(fake_llm.calls_to("/v1/chat/completions")) == 2


def test_generate_always_invalid_is_502(owner_client, workspace, llm, fake_llm):
    fake_llm.reply("nope")
    fake_llm.reply(json.dumps({"name": "No instructions"}))

    response = owner_client.post("/api/v1/agents/generate", {"description": "x"}, HTTP_X_WORKSPACE=str(workspace.pk))

    assert response.status_code == 502, response.content
    assert response.json()["code"] == "generation_failed"


def test_leaderboard_numbers(owner_client, workspace, make_agent):
    # given two agents with runs
    good = make_agent(name="Good")
    poor = make_agent(name="Poor")
    for latency, rating in ((100, 5), (300, 4)):
        AgentRun.objects.create(
            workspace=workspace, agent=good, status="succeeded", latency_ms=latency, rating=rating, cost="0.001"
        )
    AgentRun.objects.create(workspace=workspace, agent=poor, status="failed", latency_ms=900, rating=1)
    AgentRun.objects.create(workspace=workspace, agent=poor, status="succeeded", latency_ms=1100)
    old = AgentRun.objects.create(workspace=workspace, agent=poor, status="succeeded", latency_ms=10)
    AgentRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))

    # when
    response = owner_client.get("/api/v1/agents/leaderboard?period=30d", HTTP_X_WORKSPACE=str(workspace.pk))

    # then
    assert response.status_code == 200, response.content
    rows = response.json()["data"]
    assert [row["agent"]["name"] for row in rows] == ["Good", "Poor"]
    assert rows[0]["runs"] == 2
    assert rows[0]["success_rate"] == 1.0
    assert rows[0]["average_rating"] == 4.5
    assert rows[0]["p50_latency_ms"] == 200
    assert rows[1]["runs"] == 2
    assert rows[1]["success_rate"] == 0.5
    assert rows[1]["p50_latency_ms"] == 1000


def test_rating_feeds_run(owner_client, agent):
    run = AgentRun.objects.create(workspace=agent.workspace, agent=agent, status="succeeded")

    response = owner_client.post(f"/api/v1/agents/{agent.pk}/runs/{run.pk}/rating", {"rating": 4, "comment": "Good"})
    invalid = owner_client.post(f"/api/v1/agents/{agent.pk}/runs/{run.pk}/rating", {"rating": 9})

    assert response.status_code == 200, response.content
    assert response.json()["data"]["rating"] == 4
    assert invalid.status_code == 422
