"""Reads and permission scoping of the providers app.

Global providers and catalogue models (workspace null) are visible to everyone; workspace rows
only to members of their workspace.
"""

import uuid
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from providers.models import Account, LargeLanguageModel, Provider


def provider_list(*, workspace_ids: Iterable[uuid.UUID]) -> QuerySet[Provider]:
    """Return the global providers and those owned by the given workspaces."""
    return Provider.objects.filter(Q(workspace__isnull=True) | Q(workspace_id__in=list(workspace_ids))).order_by(
        "name", "id"
    )


def provider_find(*, provider_id: Any) -> Provider | None:
    """Return a provider by id, or None."""
    try:
        return Provider.objects.filter(pk=uuid.UUID(str(provider_id))).first()
    except ValueError:
        return None


def provider_visible_to_workspace(*, provider: Provider, workspace_id: uuid.UUID) -> bool:
    """Tell whether accounts and models of `workspace_id` may use `provider`."""
    return provider.workspace_id is None or provider.workspace_id == workspace_id


def account_list(*, workspace_ids: Iterable[uuid.UUID]) -> QuerySet[Account]:
    """Return the accounts of the given workspaces with their providers."""
    return (
        Account.objects.filter(workspace_id__in=list(workspace_ids)).select_related("provider").order_by("name", "id")
    )


def account_get(*, account_id: Any, workspace_ids: Iterable[uuid.UUID]) -> Account | None:
    """Return one account of the given workspaces, or None when there is no such account there."""
    try:
        account_uuid = uuid.UUID(str(account_id))
    except ValueError:
        return None
    return account_list(workspace_ids=workspace_ids).filter(pk=account_uuid).first()


def llm_list(*, workspace_ids: Iterable[uuid.UUID]) -> QuerySet[LargeLanguageModel]:
    """Return the catalogue models and the models defined by the given workspaces."""
    return (
        LargeLanguageModel.objects.filter(Q(workspace__isnull=True) | Q(workspace_id__in=list(workspace_ids)))
        .select_related("provider")
        .order_by("display_name", "id")
    )


def llm_find(*, provider: Provider, model: str, workspace_id: uuid.UUID | None) -> LargeLanguageModel | None:
    """Return the model row a workspace uses for a vendor model string: its own row first, then the catalogue's."""
    rows = LargeLanguageModel.objects.filter(provider=provider, model=model)
    if workspace_id is not None:
        own = rows.filter(workspace_id=workspace_id).first()
        if own is not None:
            return own
    return rows.filter(workspace__isnull=True).first()
