"""Give a thread a short title written by its agent's model."""

from __future__ import annotations

import logging

from agents.errors import AgentNotConfigured
from providers import llm
from threads import selectors
from threads.models import MessageRole, Thread

logger = logging.getLogger(__name__)

NAME_MAX_CHARS = 80
# Messages and characters per message the title is drawn from.
NAME_SOURCE_MESSAGES = 6
NAME_SOURCE_CHARS = 1000
NAME_INSTRUCTIONS = (
    "Write a short title, at most six words, for the conversation below. "
    "Answer with the title only: no quotes, no punctuation at the end."
)


def clean_name(text: str) -> str:
    """Return the first line of a model's answer without quotes or a trailing full stop, cut to size."""
    line = next((line for line in text.strip().splitlines() if line.strip()), "")
    line = line.strip().strip("\"'`*#").strip().removeprefix("Title:").strip().rstrip(".")
    return line[:NAME_MAX_CHARS].strip()


def thread_generate_name(*, thread: Thread) -> Thread:
    """Ask the thread's model for a title from its first messages, save it and return the thread.

    Raises AgentNotConfigured when the agent has no model or account, and an LLMError subclass
    when the model call failed. A thread without messages keeps its name.
    """
    agent = thread.agent
    if agent.model is None or agent.account is None:
        raise AgentNotConfigured()
    messages = [
        message
        for message in selectors.message_list(thread=thread)[: NAME_SOURCE_MESSAGES * 2]
        if message.role in (MessageRole.USER, MessageRole.ASSISTANT) and message.content
    ][:NAME_SOURCE_MESSAGES]
    if not messages:
        return thread
    transcript = "\n\n".join(f"{message.role}: {message.content[:NAME_SOURCE_CHARS]}" for message in messages)

    chat = llm.chat(
        model=agent.model,
        account=agent.account,
        messages=[{"role": "system", "content": NAME_INSTRUCTIONS}, {"role": "user", "content": transcript}],
        max_tokens=30,
    )

    name = clean_name(chat.text)
    if name:
        thread.name = name
        thread.save(update_fields=["name", "updated_at"])
        logger.info("Thread named", extra={"thread_id": str(thread.pk)})
    return thread
