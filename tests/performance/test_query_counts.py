"""Query counts of every list endpoint: a page of 50 objects needs no more queries than a page of 1.

Each case creates one listed object, counts the queries of a list request, creates 49 more and
requires the second request to stay within the first count, so an N+1 query fails here before
it reaches a benchmark. A request is sent once before counting, because the first request of a
token also records its use.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts_auth.services import personal_access_token_create, service_account_create
from agents import services as agent_services
from agents.models import AgentRun
from tests.agents.factories import agent_in
from tests.factories import CommandRoomTaskFactory, MembershipFactory, UserFactory, VariableFactory, WorkspaceFactory
from tests.providers.factories import AccountFactory, LargeLanguageModelFactory, ProviderFactory
from tests.workspaces.conftest import client_for
from threads import services as thread_services
from workflows.models import ExecutionMode, ExecutionStatus, WorkflowExecution
from workflows.services.executions import workflow_snapshot
from workflows.services.workflows import workflow_create, workflow_update
from workspaces.models import Role

# The maximum number of queries of one list request: authentication, workspace resolution, the page,
# the count, and at most two prefetches.
MAX_LIST_QUERIES = 10
PAGE = "per_page=100"


@dataclass
class Scene:
    """An owner, their workspace, and the parent objects of nested lists, created on first use."""

    owner: Any
    workspace: Any
    parents: dict[str, Any] = field(default_factory=dict)

    def parent(self, key: str, build: Callable[["Scene"], Any]) -> Any:
        if key not in self.parents:
            self.parents[key] = build(self)
        return self.parents[key]


def _graph(label: str) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "trigger.manual", "parameters": {}},
            {"id": label, "type": "noop", "parameters": {}},
        ],
        "edges": [{"id": "e1", "source": "start", "target": label}],
    }


def _workflow(scene: Scene) -> Any:
    return workflow_create(workspace=scene.workspace, user=scene.owner, data={"name": "Listed", **_graph("step")})


def _thread(scene: Scene) -> Any:
    return thread_services.thread_create(
        workspace=scene.workspace, user=scene.owner, agent=agent_in(scene.workspace), data={}
    )


def _prompt(scene: Scene) -> Any:
    return agent_services.prompt_create(
        workspace=scene.workspace, user=scene.owner, data={"name": "Greet", "template": "Hello", "variables": []}
    )


def _service_account(scene: Scene) -> Any:
    return service_account_create(
        workspace=scene.workspace, name="Robot", role=Role.EDITOR, created_by=scene.owner, actor_role=Role.OWNER
    )


def _provider(scene: Scene) -> Any:
    return ProviderFactory(workspace=scene.workspace, key="listed-provider")


def add_agents(scene: Scene, count: int) -> None:
    for _ in range(count):
        agent_in(scene.workspace)


def add_memories(scene: Scene, count: int) -> None:
    for _ in range(count):
        agent_services.memory_create(workspace_id=scene.workspace.pk, data={"content": f"Fact {uuid.uuid4().hex}"})


def add_prompts(scene: Scene, count: int) -> None:
    for _ in range(count):
        _prompt(scene)


def add_prompt_versions(scene: Scene, count: int) -> None:
    prompt = scene.parent("prompt", _prompt)
    for _ in range(count):
        agent_services.prompt_update(prompt=prompt, user=scene.owner, data={"template": f"Hello {uuid.uuid4().hex}"})


def add_agent_shares(scene: Scene, count: int) -> None:
    agent = scene.parent("agent", lambda scene: agent_in(scene.workspace))
    for _ in range(count):
        agent_services.share_create(
            workspace_id=scene.workspace.pk,
            target_type="agent",
            target_id=agent.pk,
            permission="view",
            created_by=scene.owner,
            user=UserFactory(),
        )


def add_leaderboard_rows(scene: Scene, count: int) -> None:
    for _ in range(count):
        agent = agent_in(scene.workspace)
        AgentRun.objects.create(workspace=scene.workspace, agent=agent, status="succeeded", input="Hi")


def add_providers(scene: Scene, count: int) -> None:
    for _ in range(count):
        ProviderFactory(workspace=scene.workspace, key=f"provider-{uuid.uuid4().hex[:8]}")


def add_accounts(scene: Scene, count: int) -> None:
    provider = scene.parent("provider", _provider)
    for _ in range(count):
        AccountFactory(provider=provider, workspace=scene.workspace)


def add_llms(scene: Scene, count: int) -> None:
    provider = scene.parent("provider", _provider)
    for _ in range(count):
        LargeLanguageModelFactory(provider=provider, workspace=scene.workspace, model=f"model-{uuid.uuid4().hex[:8]}")


def add_threads(scene: Scene, count: int) -> None:
    for _ in range(count):
        _thread(scene)


def add_messages(scene: Scene, count: int) -> None:
    thread = scene.parent("thread", _thread)
    for index in range(count):
        thread_services.message_create(thread=thread, user=scene.owner, role="user", content=f"Message {index}")


def add_workflows(scene: Scene, count: int) -> None:
    for _ in range(count):
        _workflow(scene)


def add_executions(scene: Scene, count: int) -> None:
    workflow = scene.parent("workflow", _workflow)
    now = timezone.now()
    for _ in range(count):
        WorkflowExecution.objects.create(
            workspace=scene.workspace,
            workflow=workflow,
            status=ExecutionStatus.SUCCEEDED,
            mode=ExecutionMode.API,
            trigger_payload={"body": {}, "headers": {}, "query": {}, "method": "POST"},
            workflow_data=workflow_snapshot(workflow=workflow),
            started_at=now,
            finished_at=now,
        )


def add_workflow_versions(scene: Scene, count: int) -> None:
    workflow = scene.parent("workflow", _workflow)
    for _ in range(count):
        workflow_update(workflow=workflow, user=scene.owner, data=_graph(f"step_{uuid.uuid4().hex[:8]}"))


def add_workflow_shares(scene: Scene, count: int) -> None:
    workflow = scene.parent("workflow", _workflow)
    for _ in range(count):
        agent_services.share_create(
            workspace_id=scene.workspace.pk,
            target_type="workflow",
            target_id=workflow.pk,
            permission="view",
            created_by=scene.owner,
            user=UserFactory(),
        )


def add_workspaces(scene: Scene, count: int) -> None:
    for _ in range(count):
        WorkspaceFactory(owner=scene.owner)


def add_members(scene: Scene, count: int) -> None:
    for _ in range(count):
        MembershipFactory(workspace=scene.workspace, role=Role.VIEWER)


def add_variables(scene: Scene, count: int) -> None:
    for _ in range(count):
        VariableFactory(workspace=scene.workspace)


def add_service_accounts(scene: Scene, count: int) -> None:
    for _ in range(count):
        _service_account(scene)


def add_service_account_tokens(scene: Scene, count: int) -> None:
    account = scene.parent("service_account", _service_account)
    for index in range(count):
        personal_access_token_create(user=account.user, name=f"robot {index}")


def add_tokens(scene: Scene, count: int) -> None:
    for index in range(count):
        personal_access_token_create(user=scene.owner, name=f"listed {index}")


def add_sessions(scene: Scene, count: int) -> None:
    for _ in range(count):
        browser = Client()
        browser.force_login(scene.owner)
        # allauth's middleware records the session on the first request made with it.
        assert browser.get("/api/v1/user").status_code == 200


def add_command_room_tasks(scene: Scene, count: int) -> None:
    for _ in range(count):
        CommandRoomTaskFactory(workspace=scene.workspace)


@dataclass(frozen=True)
class ListCase:
    name: str
    url: Callable[[Scene], str]
    add: Callable[[Scene, int], None]


CASES = [
    ListCase("agents", lambda s: "/api/v1/agents", add_agents),
    ListCase("agent shares", lambda s: f"/api/v1/agents/{s.parents['agent'].pk}/shares", add_agent_shares),
    ListCase("agent leaderboard", lambda s: "/api/v1/agents/leaderboard", add_leaderboard_rows),
    ListCase("memories", lambda s: "/api/v1/memories", add_memories),
    ListCase("prompts", lambda s: "/api/v1/prompts", add_prompts),
    ListCase("prompt versions", lambda s: f"/api/v1/prompts/{s.parents['prompt'].pk}/versions", add_prompt_versions),
    ListCase("openai models", lambda s: "/api/v1/openai/models", add_agents),
    ListCase("providers", lambda s: "/api/v1/providers", add_providers),
    ListCase("accounts", lambda s: "/api/v1/accounts", add_accounts),
    ListCase("llms", lambda s: "/api/v1/llms", add_llms),
    ListCase("threads", lambda s: "/api/v1/threads", add_threads),
    ListCase("messages", lambda s: f"/api/v1/threads/{s.parents['thread'].pk}/messages", add_messages),
    ListCase("workflows", lambda s: "/api/v1/workflows", add_workflows),
    ListCase("workflow executions", lambda s: "/api/v1/workflow-executions", add_executions),
    ListCase(
        "workflow versions", lambda s: f"/api/v1/workflows/{s.parents['workflow'].pk}/versions", add_workflow_versions
    ),
    ListCase("workflow shares", lambda s: f"/api/v1/workflows/{s.parents['workflow'].pk}/shares", add_workflow_shares),
    ListCase("workspaces", lambda s: "/api/v1/workspaces", add_workspaces),
    ListCase("workspace metrics", lambda s: "/api/v1/workspaces/metrics", add_workspaces),
    ListCase("members", lambda s: f"/api/v1/workspaces/{s.workspace.pk}/members", add_members),
    ListCase("variables", lambda s: f"/api/v1/workspaces/{s.workspace.pk}/variables", add_variables),
    ListCase(
        "service accounts", lambda s: f"/api/v1/workspaces/{s.workspace.pk}/service-accounts", add_service_accounts
    ),
    ListCase(
        "service account tokens",
        lambda s: f"/api/v1/workspaces/{s.workspace.pk}/service-accounts/{s.parents['service_account'].pk}/tokens",
        add_service_account_tokens,
    ),
    ListCase("tokens", lambda s: "/api/v1/user/tokens", add_tokens),
    ListCase("sessions", lambda s: "/api/v1/user/sessions", add_sessions),
    ListCase("command room tasks", lambda s: "/api/v1/command-room/tasks", add_command_room_tasks),
]


def _case_ids(cases: list[Any]) -> list[str]:
    return [case.values[0].name if hasattr(case, "values") else case.name for case in cases]


def _listed(response: Any) -> int:
    return len(response.json()["data"])


def _get(client: Any, scene: Scene, case: ListCase) -> Any:
    url = case.url(scene)
    separator = "&" if "?" in url else "?"
    return client.get(f"{url}{separator}{PAGE}", HTTP_X_WORKSPACE=str(scene.workspace.pk))


@pytest.mark.django_db
@pytest.mark.timeout(300)
@pytest.mark.parametrize("case", CASES, ids=_case_ids(CASES))
def test_list_queries_constant_in_page_size(case, django_assert_max_num_queries):
    owner = UserFactory()
    scene = Scene(owner=owner, workspace=WorkspaceFactory(owner=owner, name="Listed"))
    client = client_for(owner)
    case.add(scene, 1)
    warm = _get(client, scene, case)
    assert warm.status_code == 200, warm.content

    with CaptureQueriesContext(connection) as single:
        response = _get(client, scene, case)
    # Counted now: the connection keeps a bounded log, which adding 49 objects can roll over.
    queries = len(single.captured_queries)
    assert response.status_code == 200, response.content
    small = _listed(response)
    case.add(scene, 49)

    with django_assert_max_num_queries(queries):
        response = _get(client, scene, case)

    assert response.status_code == 200, response.content
    assert _listed(response) >= small + 49
    assert queries <= MAX_LIST_QUERIES
