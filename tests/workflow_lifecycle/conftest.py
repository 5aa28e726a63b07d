"""Fixtures of the workflow lifecycle tests: a workflow with a few versions, clients, samples."""

import json
from pathlib import Path

import pytest
from django.core.cache import cache

from tests.factories import MembershipFactory, UserFactory
from tests.workflows.conftest import (  # noqa: F401 (fixtures)
    chain,
    eager_unless_integration,
    make_workflow,
    node,
    on_commit,
    owner,
    owner_client,
    trigger,
    workspace,
)
from tests.workspaces.conftest import client_for
from workflows.services.workflows import workflow_update
from workspaces.models import Role

SAMPLES = Path(__file__).parent.parent / "fixtures" / "n8n"


def load_sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


def greeting_graph(text: str = "Hello") -> dict:
    return {
        "nodes": [trigger(), node("greet", "set", parameters={"values": {"text": text}})],
        "edges": chain("start", "greet"),
    }


@pytest.fixture(autouse=True)
def clear_cache():
    """Rate limit counters live in the cache; each test starts with none."""
    cache.clear()


@pytest.fixture
def workflow(make_workflow):  # noqa: F811 (fixture imported above)
    graph = greeting_graph()
    return make_workflow(graph["nodes"], graph["edges"])


@pytest.fixture
def versioned_workflow(workflow, owner):  # noqa: F811 (fixture imported above)
    """Version 1 greets; version 2 changes the text and adds a node; version 3 removes it again."""
    graph = greeting_graph("Hello {{ input.name }}")
    nodes = [*graph["nodes"], node("tag", "set", parameters={"values": {"tagged": True}})]
    workflow_update(
        workflow=workflow, user=owner, data={"nodes": nodes, "edges": [*graph["edges"], *chain("greet", "tag")]}
    )
    workflow_update(workflow=workflow, user=owner, data={"nodes": graph["nodes"], "edges": graph["edges"]})
    workflow.refresh_from_db()
    return workflow


@pytest.fixture
def member(workspace):  # noqa: F811 (fixture imported above)
    def make(role: str):
        user = UserFactory()
        MembershipFactory(user=user, workspace=workspace, role=role)
        return client_for(user)

    return make


@pytest.fixture
def viewer_client(member):
    return member(Role.VIEWER)


@pytest.fixture
def stranger():
    return UserFactory()
