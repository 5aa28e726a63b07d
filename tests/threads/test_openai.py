"""The OpenAI-compatible endpoint, called by the official `openai` client over real HTTP."""

import openai
import pytest

from accounts_auth.services import personal_access_token_create
from agents.models import AgentRun
from threads.models import Message

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client_for(live_server, workspace):
    def build(user, abilities=("*",), **headers):
        _token, raw = personal_access_token_create(user=user, name="openai", abilities=list(abilities))
        return openai.OpenAI(
            api_key=raw,
            base_url=f"{live_server.url}/api/v1/openai",
            default_headers={"X-Workspace": str(workspace.pk), **headers},
            max_retries=0,
            timeout=20,
        )

    return build


@pytest.fixture
def helper(make_agent):
    return make_agent(name="Helper", slug="helper", instructions="Answer briefly.")


def test_openai_client_chat_plain(client_for, owner, helper, fake_llm):
    fake_llm.reply("Paris.", input_tokens=9, output_tokens=2)

    completion = client_for(owner).chat.completions.create(
        model="helper",
        messages=[
            {"role": "system", "content": "Be polite."},
            {"role": "user", "content": "Capital of France?"},
        ],
    )

    assert completion.choices[0].message.content == "Paris."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.total_tokens == 11
    assert completion.model == "helper"
    sent = [(item["role"], item["content"]) for item in fake_llm.last_request.body["messages"]]
    assert sent == [("system", "Answer briefly."), ("system", "Be polite."), ("user", "Capital of France?")]
    run = AgentRun.objects.get(agent=helper)
    assert (run.source, run.status) == ("openai", "succeeded")


def test_openai_client_chat_streaming(client_for, owner, helper, fake_llm):
    fake_llm.reply("It is sunny today.")

    stream = client_for(owner).chat.completions.create(
        model=str(helper.pk),
        messages=[{"role": "user", "content": "Weather?"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == "It is sunny today."
    assert [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices][-1] == "stop"
    assert chunks[-1].usage.completion_tokens == 5


def test_openai_client_unknown_model(client_for, owner, helper):
    with pytest.raises(openai.NotFoundError) as raised:
        client_for(owner).chat.completions.create(model="nobody", messages=[{"role": "user", "content": "Hi"}])

    assert raised.value.status_code == 404
    assert raised.value.code == "model_not_found"
    assert raised.value.body["type"] == "invalid_request_error"


def test_openai_client_lists_agents_as_models(client_for, owner, helper):
    models = client_for(owner).models.list()

    assert [model.id for model in models.data] == ["helper"]


def test_openai_client_continues_a_thread(client_for, owner, helper, make_thread, fake_llm):
    thread = make_thread(helper)
    fake_llm.reply("Paris.")
    fake_llm.reply("About 2.1 million.")
    client = client_for(owner, **{"X-Athena-Thread": str(thread.pk)})

    client.chat.completions.create(model="helper", messages=[{"role": "user", "content": "Capital of France?"}])
    second = client.chat.completions.create(
        model="helper", messages=[{"role": "user", "content": "How many live there?"}]
    )

    assert second.choices[0].message.content == "About 2.1 million."
    roles = [item["role"] for item in fake_llm.last_request.body["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert Message.objects.filter(thread=thread).count() == 4
    assert {run.source for run in AgentRun.objects.filter(agent=helper)} == {"openai"}


def test_openai_errors_use_openai_shape(client_for, owner, outsider, helper, live_server, fake_llm):
    import requests

    url = f"{live_server.url}/api/v1/openai/chat/completions"
    body = {"model": "helper", "messages": [{"role": "user", "content": "Hi"}]}
    _token, outsider_token = personal_access_token_create(user=outsider, name="x", abilities=["*"])
    _token, weak_token = personal_access_token_create(user=owner, name="y", abilities=["agents:read"])
    workspace_header = {"X-Workspace": str(helper.workspace_id)}

    anonymous = requests.post(url, json=body, timeout=10)
    foreign = requests.post(
        url, json=body, headers={"Authorization": f"Bearer {outsider_token}", **workspace_header}, timeout=10
    )
    weak = requests.post(
        url, json=body, headers={"Authorization": f"Bearer {weak_token}", **workspace_header}, timeout=10
    )
    invalid = requests.post(
        url, json={"model": "helper"}, headers={"Authorization": f"Bearer {weak_token}", **workspace_header}, timeout=10
    )

    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthenticated"
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "workspace_not_found"
    assert weak.status_code == 403
    assert weak.json()["error"]["code"] == "insufficient_ability"
    assert invalid.status_code == 403
    assert not AgentRun.objects.exists()


def test_openai_failed_run_is_an_openai_error(client_for, owner, helper, fake_llm):
    for _ in range(3):
        fake_llm.fail("server_error")

    with pytest.raises(openai.APIStatusError) as raised:
        client_for(owner).chat.completions.create(model="helper", messages=[{"role": "user", "content": "Hi"}])

    assert raised.value.status_code == 502
    assert raised.value.code == "llm_upstream_unavailable"
    assert AgentRun.objects.get(agent=helper).status == "failed"


def test_openai_invalid_request_names_the_field(client_for, owner, helper):
    with pytest.raises(openai.BadRequestError) as raised:
        client_for(owner).chat.completions.create(model="helper", messages=[])

    assert raised.value.code == "validation_error"
    assert raised.value.param == "messages"
