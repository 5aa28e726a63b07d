"""Vendor adapters of the gateway: the official `openai` and `anthropic` SDKs over guarded httpx2 clients.

Messages and tools come in OpenAI's Chat Completions shape (`{"role", "content"}`,
`{"type": "function", "function": {...}}`) and the Anthropic adapter converts them. The SDKs'
own retries are disabled (`max_retries=0`): the gateway retries once, in one place.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx2
import openai

from athena_site.http import guarded_httpx_client
from providers.llm.types import ChatResult, EmbeddingResult, TextDelta, ToolCall, Usage
from providers.models import Account, AuthStrategy, LLMProtocol

DEFAULT_ANTHROPIC_MAX_TOKENS = 4096
# Embedding responses of large batches are far bigger than chat responses.
EMBEDDING_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
# A placeholder for servers that need no key (Ollama, llama.cpp): the SDKs insist on one.
NO_KEY = "not-needed"
# Adapters kept per process for reuse, so their clients keep connections and TLS sessions open.
ADAPTER_CACHE_SIZE = 64

_ANTHROPIC_FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


@dataclass(frozen=True)
class SdkCredentials:
    """The SDK arguments that authenticate: its own key argument, or extra headers and query parameters."""

    api_key: str | None
    headers: dict[str, str]
    query: dict[str, str]
    bearer: bool


def sdk_credentials(account: Account, *, native_headers: tuple[str, ...]) -> SdkCredentials:
    """Map the provider's strategy onto SDK arguments; `native_headers` are the headers the SDK fills from its key."""
    config = account.provider.authentication_config or {}
    strategy = config.get("strategy", AuthStrategy.NONE)
    credentials = account.credentials.reveal() if account.credentials else {}

    if strategy == AuthStrategy.OAUTH2:
        return SdkCredentials(credentials.get("access_token"), {}, {}, True)
    if strategy not in (AuthStrategy.API_KEY, AuthStrategy.BEARER):
        return SdkCredentials(None, {}, {}, False)

    secret = credentials.get("api_key" if strategy == AuthStrategy.API_KEY else "token", "")
    name, prefix, placement = config.get("name", ""), config.get("prefix", ""), config.get("placement", "header")
    if placement == "header" and name.lower() in native_headers and prefix in ("", "Bearer "):
        return SdkCredentials(secret, {}, {}, prefix == "Bearer ")
    if placement == "header":
        return SdkCredentials(None, {name: f"{prefix}{secret}"}, {}, False)
    if placement == "query":
        return SdkCredentials(None, {}, {name: f"{prefix}{secret}"}, False)
    # NOTE: a key placed in the body is not supported for LLM calls; the SDKs own the body.
    return SdkCredentials(None, {}, {}, False)


SAMPLING_KEYS = ("temperature", "top_p")


def sampling_arguments(sampling: dict[str, Any] | None) -> dict[str, Any]:
    """Return the sampling settings both vendor APIs accept, leaving out unset ones."""
    return {key: sampling[key] for key in SAMPLING_KEYS if sampling and sampling.get(key) is not None}


class OpenAIAdapter:
    """OpenAI and every server that speaks its API (Ollama, vLLM, LM Studio, llama.cpp, Groq, Together, Mistral)."""

    def __init__(self, account: Account, *, timeout: float, max_response_bytes: int | None = None) -> None:
        auth = sdk_credentials(account, native_headers=("authorization",))
        self.client = openai.OpenAI(
            api_key=auth.api_key or NO_KEY,
            base_url=account.provider.base_url or None,
            http_client=guarded_httpx_client(timeout=timeout, max_response_bytes=max_response_bytes),
            max_retries=0,
            timeout=timeout,
            default_headers=auth.headers or None,
            default_query=auth.query or None,
        )

    def close(self) -> None:
        self.client.close()

    def _arguments(
        self,
        model: str,
        messages: list,
        tools: list | None,
        response_format: dict | None,
        max_tokens: int | None,
        sampling: dict | None = None,
    ) -> dict:
        arguments: dict[str, Any] = {"model": model, "messages": messages, **sampling_arguments(sampling)}
        if max_tokens:
            arguments["max_tokens"] = max_tokens
        if tools:
            arguments["tools"] = tools
        if response_format:
            arguments["response_format"] = response_format
        return arguments

    def chat(
        self,
        *,
        model: str,
        messages: list,
        tools: list | None,
        response_format: dict | None,
        max_tokens: int | None = None,
        sampling: dict | None = None,
        **_: Any,
    ) -> ChatResult:
        arguments = self._arguments(model, messages, tools, response_format, max_tokens, sampling)
        completion = self.client.chat.completions.create(**arguments)
        if not completion.choices:
            raise ValueError("The completion has no choices.")
        choice = completion.choices[0]
        calls = [
            ToolCall(id=call.id, name=call.function.name, arguments=call.function.arguments or "")
            for call in (choice.message.tool_calls or [])
            if getattr(call, "function", None) is not None
        ]
        usage = completion.usage
        return ChatResult(
            text=choice.message.content or "",
            tool_calls=calls,
            finish_reason=choice.finish_reason,
            usage=Usage(usage.prompt_tokens or 0, usage.completion_tokens or 0) if usage else Usage(),
            model=completion.model or model,
        )

    def stream(
        self,
        *,
        model: str,
        messages: list,
        tools: list | None,
        response_format: dict | None,
        max_tokens: int | None = None,
        sampling: dict | None = None,
        **_: Any,
    ) -> Iterator[TextDelta | ChatResult]:
        arguments = self._arguments(model, messages, tools, response_format, max_tokens, sampling)
        stream = self.client.chat.completions.create(**arguments, stream=True, stream_options={"include_usage": True})
        parts: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        finish_reason = None
        usage = Usage()
        with stream:
            for chunk in stream:
                if chunk.usage:
                    usage = Usage(chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0)
                for choice in chunk.choices:
                    delta = choice.delta
                    if delta and delta.content:
                        parts.append(delta.content)
                        yield TextDelta(delta.content)
                    for call in (delta.tool_calls if delta else None) or []:
                        slot = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                        slot["id"] = call.id or slot["id"]
                        if call.function:
                            slot["name"] = call.function.name or slot["name"]
                            slot["arguments"] += call.function.arguments or ""
                    finish_reason = choice.finish_reason or finish_reason
        yield ChatResult(
            text="".join(parts),
            tool_calls=[ToolCall(**calls[index]) for index in sorted(calls)],
            finish_reason=finish_reason,
            usage=usage,
            model=model,
        )

    def embed(self, *, model: str, texts: list[str]) -> EmbeddingResult:
        response = self.client.embeddings.create(model=model, input=texts)
        vectors = [item.embedding for item in sorted(response.data, key=lambda item: item.index)]
        tokens = response.usage.prompt_tokens if response.usage else 0
        return EmbeddingResult(vectors=vectors, usage=Usage(tokens, 0), model=response.model or model)

    def list_models(self) -> list[str]:
        return [item.id for item in self.client.models.list()]


def anthropic_messages(messages: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Convert OpenAI-shaped messages into Anthropic's system text and message list."""
    system: list[str] = []
    converted: list[dict[str, Any]] = []

    def append(role: str, blocks: list[dict[str, Any]]) -> None:
        # Anthropic expects user and assistant turns to alternate, so same-role turns merge.
        if converted and converted[-1]["role"] == role:
            converted[-1]["content"].extend(blocks)
        else:
            converted.append({"role": role, "content": blocks})

    for message in messages:
        role = message.get("role")
        content = message.get("content")
        if role == "system":
            system.append(content if isinstance(content, str) else json.dumps(content))
        elif role == "tool":
            text = content if isinstance(content, str) else json.dumps(content)
            append("user", [{"type": "tool_result", "tool_use_id": message.get("tool_call_id", ""), "content": text}])
        elif role == "assistant":
            blocks = _content_blocks(content)
            for call in message.get("tool_calls") or []:
                function = call.get("function", {})
                try:
                    arguments = json.loads(function.get("arguments") or "{}")
                except ValueError:
                    arguments = {}
                blocks.append(
                    {"type": "tool_use", "id": call.get("id", ""), "name": function.get("name", ""), "input": arguments}
                )
            append("assistant", blocks)
        else:
            append("user", _content_blocks(content))
    return "\n\n".join(system), converted


def _content_blocks(content: Any) -> list[dict[str, Any]]:
    if content is None or content == "":
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    blocks: list[dict[str, Any]] = []
    for part in content:
        if part.get("type") == "text":
            blocks.append({"type": "text", "text": part.get("text", "")})
        elif part.get("type") == "image_url":
            url = (part.get("image_url") or {}).get("url", "")
            if url.startswith("data:") and ";base64," in url:
                media_type, data = url[5:].split(";base64,", 1)
                blocks.append({"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}})
            else:
                blocks.append({"type": "image", "source": {"type": "url", "url": url}})
    return blocks


def anthropic_tools(tools: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Convert OpenAI function tools into Anthropic tool definitions."""
    converted = []
    for tool in tools or []:
        function = tool.get("function", tool)
        converted.append(
            {
                "name": function.get("name", ""),
                "description": function.get("description", ""),
                "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
            }
        )
    return converted


class AnthropicAdapter:
    """Anthropic's Messages API."""

    def __init__(self, account: Account, *, timeout: float, max_response_bytes: int | None = None) -> None:
        # Anthropic documents the x-api-key header, but the SDK picks the header for its key itself.
        # anthropic 2.17 sends it as a bearer token, so both headers count as the SDK's own key.
        auth = sdk_credentials(account, native_headers=("x-api-key", "authorization"))
        options: dict[str, Any] = {"auth_token": auth.api_key} if auth.bearer else {"api_key": auth.api_key or NO_KEY}
        self.client = anthropic.Anthropic(
            **options,
            base_url=account.provider.base_url or None,
            http_client=guarded_httpx_client(timeout=timeout, max_response_bytes=max_response_bytes),
            max_retries=0,
            timeout=timeout,
            default_headers=auth.headers or None,
            default_query=auth.query or None,
        )

    def close(self) -> None:
        self.client.close()

    def _arguments(
        self,
        model: str,
        messages: list,
        tools: list | None,
        response_format: dict | None,
        max_tokens: int | None,
        model_max_tokens: int | None,
        sampling: dict | None = None,
    ) -> dict[str, Any]:
        system, converted = anthropic_messages(messages)
        if response_format and response_format.get("type") in ("json_object", "json_schema"):
            # NOTE: JSON output is requested in the system prompt because this adapter uses no JSON mode
            # of the Messages API. The reply is not guaranteed to parse.
            system = (system + "\n\n" if system else "") + "Reply with a single JSON object and nothing else."
        arguments: dict[str, Any] = {
            "model": model,
            "messages": converted,
            # The Messages API requires max_tokens. A modest default keeps non-streaming calls
            # short, because the SDK rejects those it expects to run for more than 10 minutes.
            "max_tokens": max_tokens
            or min(DEFAULT_ANTHROPIC_MAX_TOKENS, model_max_tokens or DEFAULT_ANTHROPIC_MAX_TOKENS),
            **sampling_arguments(sampling),
        }
        if system:
            arguments["system"] = system
        if tools:
            arguments["tools"] = anthropic_tools(tools)
        return arguments

    def chat(
        self,
        *,
        model: str,
        messages: list,
        tools: list | None,
        response_format: dict | None,
        max_tokens: int | None = None,
        model_max_tokens: int | None = None,
        sampling: dict | None = None,
    ) -> ChatResult:
        arguments = self._arguments(model, messages, tools, response_format, max_tokens, model_max_tokens, sampling)
        message = self.client.messages.create(**arguments)
        texts, calls = [], []
        for block in message.content:
            if block.type == "text":
                texts.append(block.text)
            elif block.type == "tool_use":
                calls.append(ToolCall(id=block.id, name=block.name, arguments=json.dumps(block.input)))
        return ChatResult(
            text="".join(texts),
            tool_calls=calls,
            finish_reason=_ANTHROPIC_FINISH_REASONS.get(message.stop_reason or "", message.stop_reason),
            usage=Usage(message.usage.input_tokens or 0, message.usage.output_tokens or 0),
            model=message.model or model,
        )

    def stream(
        self,
        *,
        model: str,
        messages: list,
        tools: list | None,
        response_format: dict | None,
        max_tokens: int | None = None,
        model_max_tokens: int | None = None,
        sampling: dict | None = None,
    ) -> Iterator[TextDelta | ChatResult]:
        arguments = self._arguments(model, messages, tools, response_format, max_tokens, model_max_tokens, sampling)
        stream = self.client.messages.create(**arguments, stream=True)
        parts: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        input_tokens = output_tokens = 0
        stop_reason = None
        with stream:
            for event in stream:
                if event.type == "message_start":
                    input_tokens = event.message.usage.input_tokens or 0
                    output_tokens = event.message.usage.output_tokens or 0
                elif event.type == "content_block_start" and event.content_block.type == "tool_use":
                    block = event.content_block
                    calls[event.index] = {"id": block.id, "name": block.name, "arguments": ""}
                elif event.type == "content_block_delta":
                    if event.delta.type == "text_delta":
                        parts.append(event.delta.text)
                        yield TextDelta(event.delta.text)
                    elif event.delta.type == "input_json_delta" and event.index in calls:
                        calls[event.index]["arguments"] += event.delta.partial_json
                elif event.type == "message_delta":
                    stop_reason = event.delta.stop_reason or stop_reason
                    output_tokens = event.usage.output_tokens or output_tokens
        if stop_reason is None:
            # A stream that ends without message_delta was cut off by the server.
            raise ValueError("The stream ended before the message was complete.")
        yield ChatResult(
            text="".join(parts),
            tool_calls=[ToolCall(**calls[index]) for index in sorted(calls)],
            finish_reason=_ANTHROPIC_FINISH_REASONS.get(stop_reason, stop_reason),
            usage=Usage(input_tokens, output_tokens),
            model=model,
        )

    def embed(self, *, model: str, texts: list[str]) -> EmbeddingResult:
        from providers.errors import LLMUnsupported

        raise LLMUnsupported("Anthropic's API has no embeddings endpoint; use an OpenAI-compatible provider.")

    def list_models(self) -> list[str]:
        return [item.id for item in self.client.models.list()]


_adapters: OrderedDict[tuple, Any] = OrderedDict()
_adapters_lock = threading.Lock()


def _adapter_key(adapter_class: type, account: Account, timeout: float, max_response_bytes: int | None) -> tuple:
    # A digest of everything the client is built from, so new credentials or a new base URL get a new client.
    provider = account.provider
    credentials = account.credentials.reveal() if account.credentials else {}
    built_from = [credentials, provider.authentication_config, provider.base_url]
    digest = hashlib.sha256(json.dumps(built_from, sort_keys=True, default=str).encode()).hexdigest()
    return (adapter_class, account.pk, digest, timeout, max_response_bytes)


def adapter_for(account: Account, *, timeout: float, max_response_bytes: int | None = None) -> Any:
    """Return the adapter for the account's provider protocol, reusing the one built for the same settings.

    The SDK clients are safe to share between threads, and a shared one keeps its connections to
    the vendor open between calls. Raises OutboundDestinationBlocked when the provider's base URL
    cannot be parsed.
    """
    from providers.errors import OutboundDestinationBlocked

    adapter_class = AnthropicAdapter if account.provider.llm_protocol == LLMProtocol.ANTHROPIC else OpenAIAdapter
    key = _adapter_key(adapter_class, account, timeout, max_response_bytes)
    with _adapters_lock:
        adapter = _adapters.get(key)
        if adapter is not None:
            _adapters.move_to_end(key)
            return adapter
    try:
        adapter = adapter_class(account, timeout=timeout, max_response_bytes=max_response_bytes)
    except httpx2.InvalidURL:
        # The SDK parses the base URL when the client is built, before the guard sees it, and
        # refuses legacy IPv4 spellings such as octal ones.
        raise OutboundDestinationBlocked("The provider's base URL is not a valid URL.") from None
    with _adapters_lock:
        adapter = _adapters.setdefault(key, adapter)
        while len(_adapters) > ADAPTER_CACHE_SIZE:
            # Not closed here: another thread may still be using it. Its sockets close when it is collected.
            _adapters.popitem(last=False)
    return adapter
