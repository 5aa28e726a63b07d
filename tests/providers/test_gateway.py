"""The LLM gateway against the fake LLM server: both protocols, streaming, tools, embeddings, errors."""

from decimal import Decimal

import pytest

from providers.errors import (
    LLMAuthenticationFailed,
    LLMContextTooLong,
    LLMRateLimited,
    LLMTimeout,
    LLMUnsupported,
    LLMUpstreamUnavailable,
)
from providers.llm import ChatResult, TextDelta, chat, embed, list_models
from providers.models import AccountStatus
from tests.providers.conftest import make_secret
from tests.providers.factories import AccountFactory, LargeLanguageModelFactory, ProviderFactory

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "Current weather of a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.fixture
def openai_setup(db, fake_llm, workspace):
    key = make_secret()
    fake_llm.api_key = key
    provider = ProviderFactory(
        workspace=workspace,
        key="local-llm",
        kind="llm",
        llm_protocol="openai",
        base_url=fake_llm.openai_base_url,
    )
    account = AccountFactory(provider=provider, workspace=workspace, credentials={"token": key})
    llm = LargeLanguageModelFactory(provider=provider, workspace=workspace, model="fake-chat")
    return provider, account, llm


@pytest.fixture
def anthropic_setup(db, fake_llm, workspace):
    key = make_secret("sk-ant-test-")
    fake_llm.api_key = key
    provider = ProviderFactory(
        workspace=workspace,
        key="claude",
        kind="llm",
        llm_protocol="anthropic",
        base_url=fake_llm.anthropic_base_url,
        authentication_config={"strategy": "api_key", "placement": "header", "name": "x-api-key", "prefix": ""},
    )
    account = AccountFactory(provider=provider, workspace=workspace, credentials={"api_key": key})
    llm = LargeLanguageModelFactory(
        provider=provider,
        workspace=workspace,
        model="claude-fake",
        input_price_per_million="3",
        output_price_per_million="15",
    )
    return provider, account, llm


def test_chat_openai_returns_text_usage_and_cost(openai_setup, fake_llm):
    # given
    _provider, account, llm = openai_setup
    fake_llm.reply("Paris.", input_tokens=1000, output_tokens=500)

    # when
    result = chat(model=llm, account=account, messages=MESSAGES)

    # then
    assert result.text == "Paris."
    assert result.finish_reason == "stop"
    assert (result.usage.input_tokens, result.usage.output_tokens) == (1000, 500)
    assert result.cost == Decimal("0.006")
    assert fake_llm.last_request.body["messages"] == MESSAGES
    assert fake_llm.last_request.headers["authorization"] == f"Bearer {fake_llm.api_key}"


def test_chat_openai_returns_tool_calls(openai_setup, fake_llm):
    _provider, account, llm = openai_setup
    fake_llm.reply(tool_calls=[{"name": "weather", "arguments": {"city": "Paris"}}])

    result = chat(model=llm, account=account, messages=MESSAGES, tools=[WEATHER_TOOL])

    assert result.finish_reason == "tool_calls"
    assert [(call.name, call.parsed_arguments()) for call in result.tool_calls] == [("weather", {"city": "Paris"})]
    assert fake_llm.last_request.body["tools"] == [WEATHER_TOOL]


def test_chat_openai_passes_response_format(openai_setup, fake_llm):
    _provider, account, llm = openai_setup

    chat(model=llm, account=account, messages=MESSAGES, response_format={"type": "json_object"})

    assert fake_llm.last_request.body["response_format"] == {"type": "json_object"}


def test_chat_openai_stream_yields_deltas_then_usage(openai_setup, fake_llm):
    _provider, account, llm = openai_setup
    fake_llm.reply("The capital is Paris.", input_tokens=7, output_tokens=5)

    items = list(chat(model=llm, account=account, messages=MESSAGES, stream=True))

    deltas = [item.text for item in items if isinstance(item, TextDelta)]
    final = items[-1]
    assert len(deltas) > 1
    assert "".join(deltas) == "The capital is Paris."
    assert isinstance(final, ChatResult)
    assert final.text == "The capital is Paris."
    assert (final.usage.input_tokens, final.usage.output_tokens) == (7, 5)
    assert final.cost == (Decimal(7) * 2 + Decimal(5) * 8) / Decimal(1_000_000)
    assert fake_llm.last_request.body["stream_options"] == {"include_usage": True}


def test_chat_openai_stream_collects_tool_calls(openai_setup, fake_llm):
    _provider, account, llm = openai_setup
    fake_llm.reply(tool_calls=[{"name": "weather", "arguments": {"city": "Oslo"}}])

    items = list(chat(model=llm, account=account, messages=MESSAGES, tools=[WEATHER_TOOL], stream=True))

    final = items[-1]
    assert final.finish_reason == "tool_calls"
    assert final.tool_calls[0].name == "weather"
    assert final.tool_calls[0].parsed_arguments() == {"city": "Oslo"}


def test_chat_anthropic_converts_messages_and_returns_text(anthropic_setup, fake_llm):
    _provider, account, llm = anthropic_setup
    fake_llm.reply("Paris.", input_tokens=100, output_tokens=10)

    result = chat(model=llm, account=account, messages=MESSAGES)

    body = fake_llm.last_request.body
    assert result.text == "Paris."
    assert result.finish_reason == "stop"
    assert result.cost == (Decimal(100) * 3 + Decimal(10) * 15) / Decimal(1_000_000)
    assert body["system"] == "Be brief."
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Capital of France?"}]}]
    assert body["max_tokens"] == 1024
    headers = fake_llm.last_request.headers
    assert fake_llm.api_key in (headers.get("x-api-key"), headers.get("authorization", "").removeprefix("Bearer "))


def test_chat_anthropic_tool_round_trip(anthropic_setup, fake_llm):
    _provider, account, llm = anthropic_setup
    fake_llm.reply(tool_calls=[{"name": "weather", "arguments": {"city": "Rome"}}])
    history = [
        *MESSAGES,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "Sunny"},
    ]

    result = chat(model=llm, account=account, messages=history, tools=[WEATHER_TOOL])

    body = fake_llm.last_request.body
    assert result.finish_reason == "tool_calls"
    assert result.tool_calls[0].parsed_arguments() == {"city": "Rome"}
    assert body["tools"][0]["name"] == "weather"
    assert body["tools"][0]["input_schema"]["properties"] == {"city": {"type": "string"}}
    assert body["messages"][1]["content"][0]["type"] == "tool_use"
    assert body["messages"][2]["content"][0] == {"type": "tool_result", "tool_use_id": "call_1", "content": "Sunny"}


def test_chat_anthropic_stream_yields_deltas_then_usage(anthropic_setup, fake_llm):
    _provider, account, llm = anthropic_setup
    fake_llm.reply("Rome is the capital.", input_tokens=20, output_tokens=6)

    items = list(chat(model=llm, account=account, messages=MESSAGES, stream=True))

    assert "".join(item.text for item in items if isinstance(item, TextDelta)) == "Rome is the capital."
    assert (items[-1].usage.input_tokens, items[-1].usage.output_tokens) == (20, 6)
    assert items[-1].finish_reason == "stop"


def test_embed_returns_vectors_usage_and_cost(openai_setup, fake_llm, workspace):
    provider, account, _llm = openai_setup
    model = LargeLanguageModelFactory(
        provider=provider,
        workspace=workspace,
        model="fake-embed",
        capabilities=["embeddings"],
        input_price_per_million="0.02",
        output_price_per_million="0",
    )

    result = embed(model=model, account=account, texts=["one two", "three"])

    assert result.vectors == [[7.0, 8.0, 9.0], [5.0, 6.0, 7.0]]
    assert result.usage.input_tokens == 3
    assert result.cost == Decimal(3) * Decimal("0.02") / Decimal(1_000_000)


def test_embed_rejects_model_without_capability(openai_setup):
    _provider, account, llm = openai_setup

    with pytest.raises(LLMUnsupported) as raised:
        embed(model=llm, account=account, texts=["x"])

    assert raised.value.code == "llm_unsupported"


def test_list_models_reads_both_protocols(openai_setup, anthropic_setup, fake_llm):
    _provider, openai_account, _llm = openai_setup
    _provider, anthropic_account, _llm = anthropic_setup
    fake_llm.api_key = None

    assert list_models(account=openai_account) == ["fake-chat", "fake-embed"]
    assert list_models(account=anthropic_account) == ["fake-chat", "fake-embed"]


def test_chat_retries_rate_limit_honouring_retry_after(openai_setup, fake_llm, waits):
    _provider, account, llm = openai_setup
    fake_llm.fail("rate_limit", retry_after=2).reply("Done.")

    result = chat(model=llm, account=account, messages=MESSAGES)

    assert result.text == "Done."
    assert waits == [2.0]
    assert len(fake_llm.calls_to("/v1/chat/completions")) == 2


def test_chat_rate_limited_after_capped_attempts(openai_setup, fake_llm, waits):
    _provider, account, llm = openai_setup
    for _ in range(3):
        fake_llm.fail("rate_limit", retry_after=1)

    with pytest.raises(LLMRateLimited) as raised:
        chat(model=llm, account=account, messages=MESSAGES)

    assert raised.value.code == "llm_rate_limited"
    assert raised.value.retry_after == 1.0
    assert raised.value.headers["Retry-After"] == "1"
    assert len(fake_llm.calls_to("/v1/chat/completions")) == 3
    assert waits == [1.0, 1.0]


def test_chat_long_retry_after_is_not_waited_for(openai_setup, fake_llm, waits):
    _provider, account, llm = openai_setup
    fake_llm.fail("rate_limit", retry_after=120)

    with pytest.raises(LLMRateLimited):
        chat(model=llm, account=account, messages=MESSAGES)

    assert waits == []
    assert len(fake_llm.calls_to("/v1/chat/completions")) == 1


def test_chat_server_error_is_retried_then_unavailable(openai_setup, fake_llm, waits):
    _provider, account, llm = openai_setup
    for _ in range(3):
        fake_llm.fail("server_error")

    with pytest.raises(LLMUpstreamUnavailable) as raised:
        chat(model=llm, account=account, messages=MESSAGES)

    assert raised.value.code == "llm_upstream_unavailable"
    assert len(fake_llm.calls_to("/v1/chat/completions")) == 3
    assert len(waits) == 2


def test_chat_wrong_key_is_authentication_failed_and_redacted(openai_setup, fake_llm):
    _provider, account, llm = openai_setup
    fake_llm.api_key = "another-key-the-server-expects"
    used_key = account.credentials.reveal()["token"]

    with pytest.raises(LLMAuthenticationFailed) as raised:
        chat(model=llm, account=account, messages=MESSAGES)

    account.refresh_from_db()
    assert raised.value.code == "llm_authentication_failed"
    assert used_key not in str(raised.value)
    assert account.status == AccountStatus.ERROR
    assert used_key not in account.last_error
    assert len(fake_llm.calls_to("/v1/chat/completions")) == 1


def test_chat_context_too_long_for_both_protocols(openai_setup, anthropic_setup, fake_llm):
    _provider, openai_account, openai_llm = openai_setup
    _provider, anthropic_account, anthropic_llm = anthropic_setup
    fake_llm.api_key = None
    fake_llm.fail("context_too_long").fail("context_too_long")

    with pytest.raises(LLMContextTooLong) as openai_error:
        chat(model=openai_llm, account=openai_account, messages=MESSAGES)
    with pytest.raises(LLMContextTooLong) as anthropic_error:
        chat(model=anthropic_llm, account=anthropic_account, messages=MESSAGES)

    assert openai_error.value.code == "llm_context_too_long"
    assert anthropic_error.value.code == "llm_context_too_long"


def test_chat_slow_upstream_times_out(openai_setup, fake_llm, waits):
    _provider, account, llm = openai_setup
    for _ in range(3):
        fake_llm.fail("slow", delay=1.0)

    with pytest.raises(LLMTimeout) as raised:
        chat(model=llm, account=account, messages=MESSAGES, timeout=0.2)

    assert raised.value.code == "llm_timeout"
    assert raised.value.status_code == 504


def test_chat_malformed_json_is_upstream_unavailable(openai_setup, fake_llm, waits):
    _provider, account, llm = openai_setup
    for _ in range(3):
        fake_llm.fail("malformed_json")

    with pytest.raises(LLMUpstreamUnavailable):
        chat(model=llm, account=account, messages=MESSAGES)


def test_chat_dropped_connection_is_retried(openai_setup, fake_llm, waits):
    _provider, account, llm = openai_setup
    fake_llm.fail("drop").reply("Recovered.")

    result = chat(model=llm, account=account, messages=MESSAGES)

    assert result.text == "Recovered."
    assert len(waits) == 1


@pytest.mark.parametrize("setup", ["openai_setup", "anthropic_setup"])
def test_stream_dropped_mid_stream_is_not_retried(request, setup, fake_llm, waits):
    _provider, account, llm = request.getfixturevalue(setup)
    fake_llm.fail("drop")
    received = []

    with pytest.raises(LLMUpstreamUnavailable):
        for item in chat(model=llm, account=account, messages=MESSAGES, stream=True):
            received.append(item)

    assert [item.text for item in received] == ["Hello "]
    assert waits == []


def test_chat_rejects_account_of_other_provider(openai_setup, anthropic_setup):
    _provider, openai_account, _llm = openai_setup
    _provider, _account, anthropic_llm = anthropic_setup

    with pytest.raises(Exception) as raised:
        chat(model=anthropic_llm, account=openai_account, messages=MESSAGES)

    assert raised.value.code == "validation_error"
    assert "account_id" in raised.value.errors


def test_chat_to_blocked_address_is_refused(db, workspace, settings):
    # given a provider on a loopback address that the allow-list does not cover
    settings.ATHENA_OUTBOUND_ALLOWLIST = []
    provider = ProviderFactory(workspace=workspace, kind="llm", llm_protocol="openai", base_url="http://127.0.0.1:9/v1")
    account = AccountFactory(provider=provider, workspace=workspace, credentials={"token": make_secret()})
    llm = LargeLanguageModelFactory(provider=provider, workspace=workspace)

    with pytest.raises(Exception) as raised:
        chat(model=llm, account=account, messages=MESSAGES)

    assert raised.value.code == "outbound_request_blocked"


def test_chat_openai_sends_max_tokens_only_when_given(openai_setup, fake_llm):
    _provider, account, llm = openai_setup

    chat(model=llm, account=account, messages=MESSAGES)
    without = fake_llm.last_request.body
    chat(model=llm, account=account, messages=MESSAGES, max_tokens=64)
    with_limit = fake_llm.last_request.body

    assert "max_tokens" not in without
    assert with_limit["max_tokens"] == 64


def test_chat_reuses_adapter_for_same_account(openai_setup, fake_llm):
    from providers.llm.adapters import adapter_for

    _provider, account, llm = openai_setup
    fake_llm.reply("One.")
    chat(model=llm, account=account, messages=MESSAGES)

    first = adapter_for(account, timeout=5)
    second = adapter_for(account, timeout=5)

    assert first is second


def test_chat_uses_new_key_after_rotation(openai_setup, fake_llm):
    from providers.llm.adapters import adapter_for

    _provider, account, llm = openai_setup
    fake_llm.reply("Before.")
    chat(model=llm, account=account, messages=MESSAGES)
    before = adapter_for(account, timeout=5)
    new_key = make_secret()
    fake_llm.api_key = new_key
    account.credentials = {"token": new_key}
    account.save()
    account.refresh_from_db()
    fake_llm.reply("After.")

    result = chat(model=llm, account=account, messages=MESSAGES)

    assert result.text == "After."
    assert fake_llm.last_request.headers["authorization"] == f"Bearer {new_key}"
    assert adapter_for(account, timeout=5) is not before
