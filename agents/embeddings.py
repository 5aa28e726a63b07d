"""Embeddings of memories and queries, with the model the operator configured.

`ATHENA_AGENT_EMBEDDING_MODEL_ID` and `ATHENA_AGENT_EMBEDDING_ACCOUNT_ID` name a
LargeLanguageModel with the `embeddings` capability and the Account to call it with. Without
them, or when the rows are gone, memories are ranked by full-text search only.
"""

from __future__ import annotations

import logging

from agents.conf import agent_setting
from providers import llm
from providers.errors import LLMError
from providers.models import Account, LargeLanguageModel

logger = logging.getLogger(__name__)

BATCH_SIZE = 64


def embedding_configured() -> bool:
    return bool(agent_setting("ATHENA_AGENT_EMBEDDING_MODEL_ID") and agent_setting("ATHENA_AGENT_EMBEDDING_ACCOUNT_ID"))


def _model_and_account() -> tuple[LargeLanguageModel, Account] | None:
    if not embedding_configured():
        return None
    model = (
        LargeLanguageModel.objects.select_related("provider")
        .filter(pk=agent_setting("ATHENA_AGENT_EMBEDDING_MODEL_ID"))
        .first()
    )
    account = (
        Account.objects.select_related("provider").filter(pk=agent_setting("ATHENA_AGENT_EMBEDDING_ACCOUNT_ID")).first()
    )
    if model is None or account is None:
        logger.warning("The configured embedding model or account does not exist; using full-text search")
        return None
    return model, account


def embed_texts(texts: list[str]) -> tuple[list[list[float]], str] | None:
    """Return one vector per text and the model string, or None when embeddings are off or failed.

    A failure is logged and not raised: memories without embeddings are still found by full-text search.
    """
    pair = _model_and_account()
    if pair is None or not texts:
        return None
    model, account = pair
    vectors: list[list[float]] = []
    try:
        for start in range(0, len(texts), BATCH_SIZE):
            result = llm.embed(model=model, account=account, texts=texts[start : start + BATCH_SIZE])
            vectors.extend(result.vectors)
    except LLMError as exc:
        logger.warning(
            "Embedding failed with %s; using full-text search", exc.code, extra={"provider": account.provider.key}
        )
        return None
    return vectors, model.model


def embed_query(text: str) -> list[float] | None:
    embedded = embed_texts([text])
    return embedded[0][0] if embedded else None
