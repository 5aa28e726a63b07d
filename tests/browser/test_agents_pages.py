"""Agent, sharing, leaderboard, prompt and memory pages, driven in Chromium and checked with the test client."""

import re
from decimal import Decimal

import pytest
from django.test import Client

from agents import services as agent_services
from agents.models import Agent, AgentRun, Memory, Prompt, RunStatus, Share
from tests.agents.factories import llm_setup
from tests.browser.conftest import ARTIFACTS
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from workspaces import services as workspace_services
from workspaces.models import Role


@pytest.fixture
def team(db, fake_llm):
    """An owner whose current workspace has a model on the fake LLM server and an account for it."""
    owner = UserFactory(name="Ada Owner")
    workspace = WorkspaceFactory(owner=owner, name="Support team")
    workspace_services.workspace_set_current(user=owner, workspace=workspace)
    account, model = llm_setup(workspace=workspace, base_url=fake_llm.openai_base_url)
    return {"owner": owner, "workspace": workspace, "account": account, "model": model}


def _agent(team, **fields):
    data = {"name": "Helper", "model_id": team["model"].pk, "account_id": team["account"].pk, **fields}
    return agent_services.agent_create(workspace=team["workspace"], user=team["owner"], data=data)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _member(team, role):
    user = UserFactory()
    MembershipFactory(user=user, workspace=team["workspace"], role=role)
    workspace_services.workspace_set_current(user=user, workspace=team["workspace"])
    return user


# --- agents in the browser -------------------------------------------------------------------


def test_agent_form_creates_edits_and_deletes(page, sign_in, screenshot, team):
    # given the owner on the new agent form
    sign_in(team["owner"]).goto("/agents/new/")

    # when they add a second HTTP tool row from the keyboard, focus moves into it
    page.focus("[data-formset-add=http]")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "id_http-1-name"
    assert page.input_value("#id_http-TOTAL_FORMS") == "2"

    # when they fill it in with an HTTP tool whose URL is not http(s)
    page.fill("#id_name", "Order desk")
    page.get_by_label("Instructions").fill("Answer questions about orders.")
    page.select_option("#id_model_id", str(team["model"].pk))
    page.select_option("#id_account_id", str(team["account"].pk))
    page.get_by_label("memory_search tool").check()
    page.fill("#id_max_steps", "4")
    page.fill("#id_http-0-name", "get_order")
    page.fill("#id_http-0-url", "ftp://orders.example/{order_id}")
    page.fill("#id_http-0-parameters", '{"type": "object", "properties": {"order_id": {"type": "string"}}}')
    page.click("text=Create agent")

    # then the error appears next to the URL field and nothing is saved
    page.wait_for_selector("#id_http-0-url_error")
    assert "absolute http or https URL" in page.inner_text("#id_http-0-url_error")
    assert not Agent.objects.filter(name="Order desk").exists()

    # when the URL is fixed and the form is sent again
    page.fill("#id_http-0-url", "https://orders.example/{order_id}")
    page.click("text=Create agent")
    page.wait_for_selector("text=Order desk was created")
    screenshot("agent-form")

    # then the agent is stored with its tools and limits
    agent = Agent.objects.get(name="Order desk")
    assert [tool["type"] for tool in agent.tools] == ["memory_search", "http"]
    assert agent.tools[1]["parameters"]["properties"]["order_id"] == {"type": "string"}
    assert agent.limits == {"max_steps": 4}
    assert agent.model_id == team["model"].pk

    # when the owner removes the HTTP tool and saves
    page.check("#id_http-0-DELETE")
    page.click("text=Save changes")
    page.wait_for_selector("text=Order desk was saved")
    agent.refresh_from_db()
    assert [tool["type"] for tool in agent.tools] == ["memory_search"]

    # when they search the list, then delete the agent after confirming
    page.goto("/agents/?q=order")
    screenshot("agents")
    assert page.locator("[data-testid=agent-table] tbody tr").count() == 1
    page.click("text=Order desk")
    page.click("text=Delete Order desk…")
    page.click("button:has-text('Delete Order desk')")
    page.wait_for_selector("text=Order desk was deleted")
    assert not Agent.objects.filter(pk=agent.pk).exists()


def test_agent_share_link_opens_public_chat(page, sign_in, screenshot, team, fake_llm):
    # given an agent and its owner on its page
    agent = _agent(team, name="Concierge", description="Answers visitors.")
    fake_llm.reply("Welcome to the support desk.")
    sign_in(team["owner"]).goto(f"/agents/{agent.pk}/")

    # when the owner creates a public link that may run the agent
    page.click("summary:has-text('Share Concierge')")
    page.check("#share-audience_0")
    page.select_option("#share-permission", "run")
    page.click("text=Create share")

    # then the link and the iframe snippet are shown once
    link = page.inner_text("#share-link").strip()
    snippet = page.inner_text("#share-iframe")
    screenshot("agent-share")
    assert f'<iframe src="{link}"' in snippet
    path = "/" + link.split("/", 3)[3]
    assert re.fullmatch(r"/shared/agents/[A-Za-z0-9_-]{16,64}/", path), path
    page.goto(f"/agents/{agent.pk}/")
    assert link not in page.content()

    # when a visitor without an account opens the link and chats
    visitor = page.context.browser.new_context(base_url=page.url.split("/agents/")[0])
    try:
        public = visitor.new_page()
        response = public.goto(path)
        assert "X-Frame-Options" not in response.headers
        assert "frame-ancestors 'none'" not in response.headers.get("content-security-policy", "")
        public.fill("#composer-input", "Hello")
        public.keyboard.press("Enter")
        public.wait_for_selector(".chat-assistant .chat-text:has-text('Welcome to the support desk.')")
        public.wait_for_selector("[data-chat][data-state=idle]")
        assert int(public.get_attribute("[data-chat]", "data-stream-deltas")) > 1
        public.screenshot(path=str(ARTIFACTS / "public-chat.png"), full_page=True)

        # then revoking the link makes the page a 404
        page.click("button[aria-label^='Revoke link']")
        page.wait_for_selector("text=was revoked")
        assert not Share.objects.filter(target_id=agent.pk).exists()
        assert public.goto(path).status == 404
    finally:
        visitor.close()


def test_leaderboard_ranks_agents_by_score(page, sign_in, screenshot, team):
    # given two agents, one that always succeeds and one that always fails
    good, bad = _agent(team, name="Reliable"), _agent(team, name="Flaky")
    for agent, status in ((good, RunStatus.SUCCEEDED), (bad, RunStatus.FAILED)):
        for _ in range(3):
            AgentRun.objects.create(
                workspace=team["workspace"], agent=agent, status=status, latency_ms=800, cost=Decimal("0.001")
            )

    sign_in(team["owner"]).goto("/agents/leaderboard/?period=7d")
    screenshot("leaderboard")

    rows = page.locator("[data-testid=leaderboard] tbody tr")
    assert rows.count() == 2
    assert "Reliable" in rows.nth(0).inner_text()
    assert "100%" in rows.nth(0).inner_text()
    assert "Flaky" in rows.nth(1).inner_text()


# --- prompts and memories in the browser -------------------------------------------------------


def test_prompt_versions_restore_run_and_delete(page, sign_in, screenshot, team, fake_llm):
    # given the owner on the new prompt form
    sign_in(team["owner"]).goto("/prompts/new/")

    # when they write a template, the variables it reads are listed as they type
    page.fill("#id_name", "Summary")
    page.get_by_label("Template").fill("Summarise {{ topic }} for {{ audience }}.")
    assert page.inner_text("[data-testid=detected-variables]") == "audience, topic"
    page.select_option("#id_model_id", str(team["model"].pk))
    page.select_option("#id_account_id", str(team["account"].pk))
    page.click("text=Create prompt")
    page.wait_for_selector("text=Summary was created at version 1")

    # then a second template makes version 2, and restoring version 1 makes version 3
    page.get_by_label("Template").fill("Explain {{ topic }} briefly.")
    page.click("text=Save changes")
    page.wait_for_selector("text=saved at version 2")
    page.click("[data-testid=prompt-versions] >> text=Version 1")
    assert "Summarise {{ topic }}" in page.inner_text("[data-testid=version-template]")
    page.click("text=Restore as a new version")
    page.wait_for_selector("text=Version 1 was restored as version 3")
    prompt = Prompt.objects.get(name="Summary")
    assert prompt.version == 3
    assert prompt.template == "Summarise {{ topic }} for {{ audience }}."

    # when they run it with one variable missing, then with both
    page.fill("#run-topic", "tides")
    page.click("text=Run with the prompt's model")
    assert "audience" in page.inner_text("[data-testid=prompt-run-error]")
    fake_llm.reply("Tides rise twice a day.")
    page.fill("#run-topic", "tides")
    page.fill("#run-audience", "children")
    page.click("text=Run with the prompt's model")
    assert "Tides rise twice a day." in page.inner_text("[data-testid=prompt-run-output]")
    assert "Summarise tides for children." in str(fake_llm.last_request.body)
    screenshot("prompt")

    # when they delete it after confirming
    page.goto(f"/prompts/{prompt.pk}/")
    page.click("text=Delete…")
    page.click("button:has-text('Delete prompt')")
    page.wait_for_selector("text=Summary was deleted")
    assert not Prompt.objects.filter(pk=prompt.pk).exists()


def test_memories_create_search_edit_and_delete(page, sign_in, screenshot, team):
    agent = _agent(team, name="Gardener")
    sign_in(team["owner"])

    agent_services.memory_create(workspace_id=team["workspace"].pk, data={"content": "The office closes at six."})

    # when the owner adds a memory for the agent
    page.goto("/memories/new/")
    page.get_by_label("Content").fill("Tomatoes need full sun.")
    page.select_option("#id_agent_id", label="Gardener")
    page.click("text=Save memory")
    page.wait_for_selector("text=The memory was saved")
    assert page.locator("[data-testid=memory-table] tbody tr").count() == 2

    # then a search ranks the matching memory first
    page.fill("#id_q", "tomatoes sun")
    page.click("form[role=search] button")
    rows = page.locator("[data-testid=memory-table] tbody tr")
    assert rows.count() == 1
    assert "Tomatoes need full sun." in rows.nth(0).inner_text()
    assert "Gardener" in rows.nth(0).inner_text()
    screenshot("memories")

    # when they edit it with an importance out of range, then a valid one
    page.click("a[aria-label='Edit memory 1']")
    page.get_by_label("Importance").fill("3")
    page.click("text=Save memory")
    assert "less than or equal to 1" in page.inner_text("#id_importance_error")
    page.get_by_label("Importance").fill("0.9")
    page.click("text=Save memory")
    page.wait_for_selector("text=The memory was saved.")
    memory = Memory.objects.get(content="Tomatoes need full sun.")
    assert memory.importance == 0.9
    assert memory.agent_id == agent.pk

    # when they delete it after confirming
    page.goto(f"/memories/{memory.pk}/delete/")
    page.click("button:has-text('Delete memory')")
    page.wait_for_selector("text=The memory was deleted")
    assert not Memory.objects.filter(pk=memory.pk).exists()


# --- the same pages without a browser: access and bad input ---------------------------------------

PAGES = (
    "/agents/",
    "/agents/new/",
    "/agents/leaderboard/",
    "/prompts/",
    "/prompts/new/",
    "/memories/",
    "/memories/new/",
)


@pytest.mark.parametrize("path", PAGES)
def test_agent_pages_require_sign_in(db, path):
    response = Client().get(path)

    assert response.status_code == 302, response.content
    assert response["Location"].startswith("/accounts/login/")


def test_agent_pages_hide_other_workspaces(team):
    agent = _agent(team)
    prompt = agent_services.prompt_create(
        workspace=team["workspace"], user=team["owner"], data={"name": "P", "template": "Hi"}
    )
    memory = agent_services.memory_create(workspace_id=team["workspace"].pk, data={"content": "A fact."})
    outsider = UserFactory()
    workspace_services.workspace_set_current(user=outsider, workspace=WorkspaceFactory(owner=outsider))
    client = _client(outsider)

    for path in (
        f"/agents/{agent.pk}/",
        f"/agents/{agent.pk}/delete/",
        f"/prompts/{prompt.pk}/",
        f"/prompts/{prompt.pk}/versions/1/",
        f"/memories/{memory.pk}/",
    ):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/agents/{agent.pk}/delete/").status_code == 404
    assert Agent.objects.filter(pk=agent.pk).exists()


def test_agent_pages_private_agent_hidden_from_members(team):
    private = _agent(team, name="Secret helper", visibility="private")
    editor = _member(team, Role.EDITOR)

    response = _client(editor).get("/agents/")

    assert "Secret helper" not in response.content.decode()
    assert _client(editor).get(f"/agents/{private.pk}/").status_code == 404


def test_agent_pages_viewer_gets_no_edit_controls(team):
    agent = _agent(team)
    viewer = _member(team, Role.VIEWER)
    client = _client(viewer)

    listing = client.get("/agents/").content.decode()
    detail = client.get(f"/agents/{agent.pk}/").content.decode()

    assert "New agent" not in listing
    assert "Save changes" not in detail
    assert "Create share" not in detail
    assert client.get("/agents/new/").status_code == 403
    assert client.post(f"/agents/{agent.pk}/", {"name": "Renamed"}).status_code == 403
    assert client.post(f"/agents/{agent.pk}/share/", {"audience": "public", "permission": "run"}).status_code == 403
    assert client.post(f"/agents/{agent.pk}/delete/").status_code == 403
    assert client.post("/prompts/new/", {"name": "P", "template": "Hi"}).status_code == 403
    assert client.post("/memories/new/", {"content": "x", "kind": "fact"}).status_code == 403
    agent.refresh_from_db()
    assert agent.name == "Helper"


def _agent_post(**fields):
    data = {
        "name": "Bad input",
        "visibility": "workspace",
        "http-TOTAL_FORMS": "1",
        "http-INITIAL_FORMS": "0",
        "http-0-method": "GET",
        "mcp-TOTAL_FORMS": "0",
        "mcp-INITIAL_FORMS": "0",
    }
    data.update(fields)
    return data


@pytest.mark.parametrize(
    ("fields", "error_id", "expected"),
    [
        ({"name": "n" * 121}, "id_name_error", "at most 120 characters"),
        ({"temperature": "7"}, "id_temperature_error", "less than or equal to 2"),
        ({"max_steps": "500"}, "id_max_steps_error", "from 1 to 100"),
        ({"temperature": "warm"}, "id_temperature_error", "Enter a number"),
        (
            {"http-0-name": "lookup", "http-0-url": "https://a.example/", "http-0-parameters": "{not json"},
            "id_http-0-parameters_error",
            "not valid JSON",
        ),
        ({"model_id": "00000000-0000-0000-0000-000000000000"}, "id_model_id_error", "Select a valid choice"),
    ],
)
def test_agent_form_rejects_bad_input(team, fields, error_id, expected):
    response = _client(team["owner"]).post("/agents/new/", _agent_post(**fields))

    assert response.status_code == 422, response.content
    error = re.search(rf'id="{re.escape(error_id)}"[^>]*>(.*?)</div>', response.content.decode(), re.S)
    assert error is not None, re.findall(r"errorlist.{0,300}", response.content.decode())
    assert expected in error.group(1)
    assert not Agent.objects.filter(name="Bad input").exists()


def test_agent_form_rejects_account_of_other_provider(team, fake_llm):
    other_account, _other_model = llm_setup(
        workspace=team["workspace"], base_url=fake_llm.openai_base_url, protocol="anthropic", key="other"
    )

    response = _client(team["owner"]).post(
        "/agents/new/", _agent_post(model_id=str(team["model"].pk), account_id=str(other_account.pk))
    )

    assert response.status_code == 422, response.content
    assert "another provider than the model" in response.content.decode()


def test_public_chat_unknown_or_view_only_link(team):
    agent = _agent(team)
    _share, token = agent_services.share_create(
        workspace_id=team["workspace"].pk,
        target_type="agent",
        target_id=agent.pk,
        permission="view",
        created_by=team["owner"],
    )
    client = Client()

    unknown = client.get("/shared/agents/" + "x" * 32 + "/")
    view_only = client.get(f"/shared/agents/{token}/")

    assert unknown.status_code == 404
    assert view_only.status_code == 200
    assert "not chat with it" in view_only.content.decode()
    assert "composer-input" not in view_only.content.decode()
    assert view_only["Cache-Control"] == "no-store"


def test_agent_page_itself_denies_framing(team):
    agent = _agent(team)

    response = _client(team["owner"]).get(f"/agents/{agent.pk}/")

    assert response["X-Frame-Options"] == "DENY"


def test_agent_form_saves_mcp_server(team):
    client = _client(team["owner"])
    fields = {
        "mcp-TOTAL_FORMS": "1",
        "mcp-0-name": "files",
        "mcp-0-url": "https://mcp.example/mcp",
        "mcp-0-account_id": "",
        "mcp-0-allowed_tools": "read_file, list_files",
    }

    rejected = client.post("/agents/new/", _agent_post(**{**fields, "mcp-0-url": "https://user:pw@mcp.example/"}))
    saved = client.post("/agents/new/", _agent_post(**fields))

    assert rejected.status_code == 422, rejected.content
    assert re.search(r'id="id_mcp-0-url_error".*?remove the user name and password', rejected.content.decode(), re.S)
    assert saved.status_code == 302, saved.content
    agent = Agent.objects.get(name="Bad input")
    assert agent.tools == [
        {
            "type": "mcp",
            "name": "files",
            "url": "https://mcp.example/mcp",
            "account_id": None,
            "allowed_tools": ["read_file", "list_files"],
        }
    ]
    form = client.get(f"/agents/{agent.pk}/").content.decode()
    assert 'value="read_file, list_files"' in form
