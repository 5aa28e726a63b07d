"""Isolation matrix cases of the agents, memories and prompts routes (collected by tests/isolation)."""

from agents import services
from agents.models import AgentRun, TrainingJob
from tests.agents.factories import agent_in
from tests.isolation.harness import EndpointCase
from workspaces.models import Role

EDITOR = Role.EDITOR


def _agent(world):
    return agent_in(world.workspace)


def _agent_url(world, agent):
    return f"/api/v1/agents/{agent.pk}"


def _share(world):
    agent = _agent(world)
    share, _token = services.share_create(
        workspace_id=world.workspace.pk,
        target_type="agent",
        target_id=agent.pk,
        permission="run",
        created_by=world.owner,
    )
    return {"agent": agent, "share": share}


def _job(world):
    agent = _agent(world)
    job = TrainingJob.objects.create(workspace=world.workspace, agent=agent, payload={})
    return {"agent": agent, "job": job}


def _run(world):
    agent = _agent(world)
    run = AgentRun.objects.create(workspace=world.workspace, agent=agent, status="succeeded", input="Hi")
    return {"agent": agent, "run": run}


def _memory(world):
    return services.memory_create(workspace_id=world.workspace.pk, data={"content": "The office opens at 9."})


def _memory_url(world, memory):
    return f"/api/v1/memories/{memory.pk}"


def _prompt(world):
    return services.prompt_create(
        workspace=world.workspace,
        user=world.owner,
        data={"name": "Greet", "template": "Hello {{ name }}", "variables": [{"name": "name"}]},
    )


def _prompt_url(world, prompt):
    return f"/api/v1/prompts/{prompt.pk}"


AGENT_BODY = {"name": "Renamed"}
PROMPT_BODY = {"name": "Renamed", "template": "Hi {{ name }}", "variables": [{"name": "name"}]}

CASES = [
    # Agents
    EndpointCase("agents", "GET", lambda w, o: "/api/v1/agents", "agents:read", scope="context"),
    EndpointCase(
        "agents",
        "POST",
        lambda w, o: "/api/v1/agents",
        "agents:write",
        min_role=EDITOR,
        scope="context",
        body=AGENT_BODY,
    ),
    EndpointCase("agents/{pk}", "GET", _agent_url, "agents:read", factory=_agent),
    EndpointCase("agents/{pk}", "PUT", _agent_url, "agents:write", min_role=EDITOR, factory=_agent, body=AGENT_BODY),
    EndpointCase("agents/{pk}", "PATCH", _agent_url, "agents:write", min_role=EDITOR, factory=_agent, body=AGENT_BODY),
    EndpointCase("agents/{pk}", "DELETE", _agent_url, "agents:delete", min_role=EDITOR, factory=_agent),
    EndpointCase(
        "agents/{pk}/run",
        "POST",
        lambda w, o: f"{_agent_url(w, o)}/run",
        "agents:run",
        min_role=EDITOR,
        factory=_agent,
        body={"input": "Hello"},
    ),
    EndpointCase(
        "agents/{pk}/train",
        "POST",
        lambda w, o: f"{_agent_url(w, o)}/train",
        "agents:write",
        min_role=EDITOR,
        factory=_agent,
        body={"examples": [{"input": "Hi", "output": "Hello"}]},
    ),
    EndpointCase(
        "agents/{pk}/training-jobs/{job_id}",
        "GET",
        lambda w, o: f"{_agent_url(w, o['agent'])}/training-jobs/{o['job'].pk}",
        "agents:read",
        factory=_job,
    ),
    EndpointCase(
        "agents/generate",
        "POST",
        lambda w, o: "/api/v1/agents/generate",
        "agents:write",
        min_role=EDITOR,
        scope="context",
        body={"description": "An agent that greets people."},
    ),
    EndpointCase(
        "agents/{pk}/share",
        "POST",
        lambda w, o: f"{_agent_url(w, o)}/share",
        "agents:write",
        min_role=EDITOR,
        factory=_agent,
        body={"public": True, "permission": "run"},
    ),
    EndpointCase(
        "agents/{pk}/shares",
        "GET",
        lambda w, o: f"{_agent_url(w, o['agent'])}/shares",
        "agents:read",
        factory=_share,
    ),
    EndpointCase(
        "agents/{pk}/shares/{share_id}",
        "DELETE",
        lambda w, o: f"{_agent_url(w, o['agent'])}/shares/{o['share'].pk}",
        "agents:write",
        min_role=EDITOR,
        factory=_share,
    ),
    EndpointCase(
        "agents/leaderboard", "GET", lambda w, o: "/api/v1/agents/leaderboard", "agents:read", scope="context"
    ),
    EndpointCase(
        "agents/{pk}/runs/{run_id}/rating",
        "POST",
        lambda w, o: f"{_agent_url(w, o['agent'])}/runs/{o['run'].pk}/rating",
        "agents:run",
        min_role=EDITOR,
        factory=_run,
        body={"rating": 5},
    ),
    # Memories
    EndpointCase("memories", "GET", lambda w, o: "/api/v1/memories", "memories:read", scope="context"),
    EndpointCase(
        "memories",
        "POST",
        lambda w, o: "/api/v1/memories",
        "memories:write",
        min_role=EDITOR,
        scope="context",
        body={"content": "Injected"},
    ),
    EndpointCase("memories/{pk}", "GET", _memory_url, "memories:read", factory=_memory),
    EndpointCase(
        "memories/{pk}", "PUT", _memory_url, "memories:write", min_role=EDITOR, factory=_memory, body={"content": "X"}
    ),
    EndpointCase(
        "memories/{pk}", "PATCH", _memory_url, "memories:write", min_role=EDITOR, factory=_memory, body={"content": "X"}
    ),
    EndpointCase("memories/{pk}", "DELETE", _memory_url, "memories:delete", min_role=EDITOR, factory=_memory),
    # Prompts
    EndpointCase("prompts", "GET", lambda w, o: "/api/v1/prompts", "prompts:read", scope="context"),
    EndpointCase(
        "prompts",
        "POST",
        lambda w, o: "/api/v1/prompts",
        "prompts:write",
        min_role=EDITOR,
        scope="context",
        body=PROMPT_BODY,
    ),
    EndpointCase("prompts/{pk}", "GET", _prompt_url, "prompts:read", factory=_prompt),
    EndpointCase(
        "prompts/{pk}", "PUT", _prompt_url, "prompts:write", min_role=EDITOR, factory=_prompt, body=PROMPT_BODY
    ),
    EndpointCase(
        "prompts/{pk}", "PATCH", _prompt_url, "prompts:write", min_role=EDITOR, factory=_prompt, body={"name": "X"}
    ),
    EndpointCase("prompts/{pk}", "DELETE", _prompt_url, "prompts:delete", min_role=EDITOR, factory=_prompt),
    EndpointCase(
        "prompts/{pk}/run",
        "POST",
        lambda w, o: f"{_prompt_url(w, o)}/run",
        "prompts:run",
        min_role=EDITOR,
        factory=_prompt,
        body={"variables": {"name": "Ada"}},
    ),
    EndpointCase(
        "prompts/{pk}/versions", "GET", lambda w, o: f"{_prompt_url(w, o)}/versions", "prompts:read", factory=_prompt
    ),
]
