"""Turn a thread's stored messages into the chat a model reads, trimmed to its context window.

The trimming rule: the agent's instructions (with retrieved memories and examples) are always
kept. The thread's messages are then taken newest first while their estimated size fits in the
model's context window minus the room kept for the reply; the newest message is always sent.
A tool result whose assistant call fell outside the window is dropped with it. Sizes are
estimated at four characters per token plus a small overhead per message, and a fixed amount
per image, because the exact count depends on each vendor's tokenizer.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from providers.models import LargeLanguageModel
from threads.conf import thread_setting
from threads.errors import VisionUnsupported
from threads.models import Attachment, Message, MessageRole

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD_TOKENS = 4
IMAGE_TOKENS = 1000


def estimate_tokens(message: dict[str, Any]) -> int:
    """Estimate the tokens one chat message takes (see the module docstring)."""
    content = message.get("content")
    tokens = MESSAGE_OVERHEAD_TOKENS
    if isinstance(content, list):
        for part in content:
            if part.get("type") == "image_url":
                tokens += IMAGE_TOKENS
            else:
                tokens += len(part.get("text", "")) // CHARS_PER_TOKEN
    elif content:
        tokens += len(content) // CHARS_PER_TOKEN
    if message.get("tool_calls"):
        tokens += len(json.dumps(message["tool_calls"])) // CHARS_PER_TOKEN
    return tokens


def check_vision(*, model: LargeLanguageModel | None, attachments: list[Attachment]) -> None:
    """Raise VisionUnsupported when an image is attached but the model lacks the `vision` capability."""
    if any(attachment.is_image for attachment in attachments) and not (model and model.has_capability("vision")):
        raise VisionUnsupported()


def _attachment_text(attachment: Attachment) -> str:
    limit = int(thread_setting("ATHENA_ATTACHMENT_MAX_TEXT_CHARS"))
    text = attachment.extracted_text
    if len(text) > limit:
        text = text[:limit] + "\n[truncated]"
    return f'<attachment filename="{attachment.filename}" type="{attachment.content_type}">\n{text}\n</attachment>'


def _image_part(attachment: Attachment) -> dict[str, Any]:
    with attachment.file.open("rb") as handle:
        encoded = base64.b64encode(handle.read()).decode()
    return {"type": "image_url", "image_url": {"url": f"data:{attachment.content_type};base64,{encoded}"}}


def chat_message(message: Message, *, vision: bool) -> dict[str, Any]:
    """Return the Chat Completions form of a stored message, with its attachments inlined.

    Text attachments become text after the message; images become image parts when `vision`
    is true and a short placeholder otherwise, so an old image does not block a later turn.
    """
    if message.role == MessageRole.TOOL:
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    if message.role == MessageRole.ASSISTANT:
        chat: dict[str, Any] = {"role": "assistant", "content": message.content or None}
        if message.tool_calls:
            chat["tool_calls"] = message.tool_calls
        else:
            chat["content"] = message.content
        return chat

    attachments = list(message.attachments.all())
    texts = [message.content] if message.content else []
    images = []
    for attachment in attachments:
        if attachment.is_image:
            if vision:
                images.append(_image_part(attachment))
            else:
                texts.append(f"[image {attachment.filename} not shown: the model cannot read images]")
        else:
            texts.append(_attachment_text(attachment))
    text = "\n\n".join(texts)
    if not images:
        return {"role": message.role, "content": text}
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    return {"role": message.role, "content": parts + images}


def trimmed_history(
    *, messages: list[Message], model: LargeLanguageModel, prefix: list[dict[str, Any]], reply_tokens: int | None
) -> list[dict[str, Any]]:
    """Return the chat form of `messages` (oldest first) that fits the model's context window.

    `prefix` is what is always sent before the history (instructions, memories, examples).
    """
    vision = model.has_capability("vision")
    chat = [chat_message(message, vision=vision) for message in messages]
    if not model.context_window or not chat:
        return chat

    reserve = reply_tokens or model.max_output_tokens or int(thread_setting("ATHENA_THREAD_REPLY_RESERVE_TOKENS"))
    budget = model.context_window - reserve - sum(estimate_tokens(item) for item in prefix)
    kept: list[dict[str, Any]] = []
    for item in reversed(chat):
        cost = estimate_tokens(item)
        if kept and cost > budget:
            break
        kept.append(item)
        budget -= cost
    kept.reverse()
    while len(kept) > 1 and kept[0]["role"] == "tool":
        kept.pop(0)
    return kept
