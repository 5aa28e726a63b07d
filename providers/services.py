"""Writes of the providers app: every create, update and delete goes through a function here."""

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from django.db import IntegrityError, transaction
from django.utils import timezone

from athena_site.api.errors import Conflict, ValidationFailed
from athena_site.crypto import Secret
from athena_site.http import OutboundRequestBlocked
from providers.authentication import (
    credentials_hint,
    secret_values,
    validate_authentication_config,
    validate_credentials,
)
from providers.errors import (
    AccountNeedsReconnect,
    AccountTestUnavailable,
    LLMError,
    OAuthRefreshFailed,
    OutboundDestinationBlocked,
)
from providers.models import Account, AccountStatus, AuthStrategy, LargeLanguageModel, Provider, ProviderKind
from providers.redaction import redact

logger = logging.getLogger(__name__)

# last_used_at is written at most this often per account, so busy accounts do not write on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_SYNCED_MODELS = 500

PROVIDER_FIELDS = ("key", "name", "kind", "llm_protocol", "base_url", "docs_url", "icon", "test_path")
LLM_FIELDS = (
    "model",
    "display_name",
    "context_window",
    "max_output_tokens",
    "input_price_per_million",
    "output_price_per_million",
    "capabilities",
    "active",
)


# --- providers ----------------------------------------------------------------


def _apply_provider_fields(provider: Provider, data: dict[str, Any]) -> None:
    for field in PROVIDER_FIELDS:
        if field in data:
            setattr(provider, field, data[field])
    if provider.kind == ProviderKind.LLM and not provider.llm_protocol:
        provider.llm_protocol = "openai"
    if provider.kind == ProviderKind.SERVICE:
        provider.llm_protocol = ""

    if "authentication_config" in data:
        config, client_secret = validate_authentication_config(
            data["authentication_config"], has_stored_secret=bool(provider.oauth_client_secret)
        )
        provider.authentication_config = config
        if config["strategy"] != AuthStrategy.OAUTH2:
            provider.oauth_client_secret = None
        elif client_secret is not None:
            provider.oauth_client_secret = Secret(client_secret)


def _save_provider(provider: Provider) -> Provider:
    try:
        with transaction.atomic():
            provider.save()
    except IntegrityError:
        raise ValidationFailed(errors={"key": ["A provider with this key already exists in the workspace."]}) from None
    return provider


def provider_create(*, workspace: Any, user: Any, data: dict[str, Any]) -> Provider:
    """Create a workspace-owned provider.

    Raises ValidationFailed for an invalid authentication config or a key already used in the workspace.
    """
    provider = Provider(workspace=workspace, created_by=user)
    _apply_provider_fields(provider, {"authentication_config": None, **data})
    _save_provider(provider)
    logger.info("Provider created", extra={"provider": provider.key, "workspace_id": str(workspace.pk)})
    return provider


def provider_update(*, provider: Provider, data: dict[str, Any]) -> Provider:
    """Update a workspace-owned provider; the OAuth2 client secret is kept unless a new one is given."""
    _apply_provider_fields(provider, data)
    return _save_provider(provider)


def provider_delete(*, provider: Provider) -> None:
    """Delete a workspace-owned provider and its models.

    Raises Conflict (`provider_in_use`) while accounts still use it.
    """
    if provider.accounts.exists():
        raise Conflict("Delete the accounts of this provider first.", code="provider_in_use")
    provider.delete()


# --- accounts -----------------------------------------------------------------


def _set_credentials(account: Account, credentials: dict[str, Any]) -> None:
    strategy = account.provider.strategy
    account.credentials = Secret(credentials)
    account.credentials_hint = credentials_hint(credentials, strategy=strategy)
    expires_at = credentials.get("expires_at")
    account.token_expires_at = datetime.fromtimestamp(expires_at, tz=UTC) if expires_at else None


def account_create(
    *, workspace: Any, provider: Provider, user: Any, name: str, credentials: dict[str, Any] | None
) -> Account:
    """Create an account of `provider` in `workspace` with validated credentials.

    Raises ValidationFailed when the provider is another workspace's or a credential is missing.
    """
    if provider.workspace_id not in (None, workspace.pk):
        raise ValidationFailed(errors={"provider_id": ["Provider not found."]})
    cleaned = validate_credentials(credentials, strategy=provider.strategy)

    account = Account(workspace=workspace, provider=provider, name=name, created_by=user)
    _set_credentials(account, cleaned)
    account.save()
    logger.info(
        "Account created",
        extra={"provider": provider.key, "workspace_id": str(workspace.pk), "account_id": str(account.pk)},
    )
    return account


def account_create_connected(
    *, workspace_id: uuid.UUID, provider: Provider, user: Any, name: str, credentials: dict[str, Any]
) -> Account:
    """Store the tokens of a finished OAuth2 connect flow in a new active account."""
    account = Account(workspace_id=workspace_id, provider=provider, name=name, created_by=user)
    _set_credentials(account, credentials)
    account.save()
    return account


def account_update(*, account: Account, data: dict[str, Any]) -> Account:
    """Update an account's name and, only when given, its credentials (which also make it active again)."""
    if "name" in data:
        account.name = data["name"]
    if data.get("credentials") is not None:
        cleaned = validate_credentials(data["credentials"], strategy=account.provider.strategy)
        _set_credentials(account, cleaned)
        account.status = AccountStatus.ACTIVE
        account.last_error = ""
    account.save()
    return account


def account_delete(*, account: Account) -> None:
    """Delete an account and its stored credentials."""
    account.delete()


def account_store_tokens(*, account: Account, credentials: dict[str, Any]) -> Account:
    """Store refreshed OAuth2 tokens and mark the account active."""
    _set_credentials(account, credentials)
    account.status = AccountStatus.ACTIVE
    account.last_error = ""
    account.save(
        update_fields=["credentials", "credentials_hint", "token_expires_at", "status", "last_error", "updated_at"]
    )
    return account


def account_mark_failed(*, account: Account, status: str, error: str) -> Account:
    """Record a failure of an account; `error` is redacted against the account's secrets before it is stored."""
    secrets = secret_values(account.credentials.reveal() if account.credentials else None)
    account.status = status
    account.last_error = redact(error, secrets, max_length=1000)
    account.save(update_fields=["status", "last_error", "updated_at"])
    return account


def account_mark_used(*, account: Account) -> None:
    """Record that an account was used, at most once per minute."""
    now = timezone.now()
    if account.last_used_at and now - account.last_used_at < LAST_USED_RESOLUTION:
        return
    Account.objects.filter(pk=account.pk).update(last_used_at=now)
    account.last_used_at = now


@dataclass(frozen=True)
class AccountTestResult:
    ok: bool
    status_code: int | None
    code: str | None
    message: str


def account_test(*, account: Account) -> AccountTestResult:
    """Make a cheap authenticated call as the account and record the outcome on it.

    LLM providers list their models; other providers answer a GET of their test path.
    Raises AccountTestUnavailable for a service provider without a test path.
    """
    from providers.http import account_session, provider_url
    from providers.llm import gateway

    provider = account.provider
    secrets = secret_values(account.credentials.reveal() if account.credentials else None)
    if provider.kind != ProviderKind.LLM and not provider.test_path:
        raise AccountTestUnavailable()

    try:
        if provider.kind == ProviderKind.LLM:
            models = gateway.list_models(account=account)
            result = AccountTestResult(True, 200, None, f"The provider listed {len(models)} models.")
        else:
            with account_session(account=account, max_retries=1) as session:
                response = session.get(provider_url(account, provider.test_path), timeout=10)
                body = response.text[:2000]
            if response.ok:
                result = AccountTestResult(True, response.status_code, None, "The provider accepted the credentials.")
            else:
                code = "upstream_rejected" if response.status_code < 500 else "upstream_unavailable"
                message = redact(f"HTTP {response.status_code}: {body}", secrets)
                result = AccountTestResult(False, response.status_code, code, message)
    except (AccountNeedsReconnect, OAuthRefreshFailed, LLMError, OutboundDestinationBlocked) as exc:
        result = AccountTestResult(False, None, exc.code, redact(exc.message, secrets))
    except OutboundRequestBlocked as exc:
        result = AccountTestResult(False, None, "outbound_request_blocked", redact(exc, secrets))
    except requests.RequestException as exc:
        result = AccountTestResult(False, None, "upstream_unavailable", redact(exc, secrets))

    if result.ok:
        account.status = AccountStatus.ACTIVE
        account.last_error = ""
        account.last_used_at = timezone.now()
        account.save(update_fields=["status", "last_error", "last_used_at", "updated_at"])
    else:
        account.refresh_from_db(fields=["status"])
        failed_status = AccountStatus.EXPIRED if account.status == AccountStatus.EXPIRED else AccountStatus.ERROR
        account_mark_failed(account=account, status=failed_status, error=result.message)
        logger.warning(
            "Account test failed",
            extra={"provider": provider.key, "account_id": str(account.pk), "error_code": result.code},
        )
    return result


# --- large language models ----------------------------------------------------


def _save_llm(llm: LargeLanguageModel) -> LargeLanguageModel:
    try:
        with transaction.atomic():
            llm.save()
    except IntegrityError:
        raise ValidationFailed(errors={"model": ["This provider already has this model in the workspace."]}) from None
    return llm


def llm_create(*, workspace: Any, provider: Provider, data: dict[str, Any]) -> LargeLanguageModel:
    """Create a model of an LLM provider for a workspace.

    Raises ValidationFailed when the provider is not an LLM provider visible to the workspace.
    """
    if provider.workspace_id not in (None, workspace.pk):
        raise ValidationFailed(errors={"provider_id": ["Provider not found."]})
    if provider.kind != ProviderKind.LLM:
        raise ValidationFailed(errors={"provider_id": ["The provider is not an LLM provider."]})
    llm = LargeLanguageModel(workspace=workspace, provider=provider)
    for field in LLM_FIELDS:
        if field in data:
            setattr(llm, field, data[field])
    if not llm.display_name:
        llm.display_name = llm.model
    return _save_llm(llm)


def llm_update(*, llm: LargeLanguageModel, data: dict[str, Any]) -> LargeLanguageModel:
    """Update a workspace model."""
    for field in LLM_FIELDS:
        if field in data:
            setattr(llm, field, data[field])
    if not llm.display_name:
        llm.display_name = llm.model
    return _save_llm(llm)


def llm_delete(*, llm: LargeLanguageModel) -> None:
    """Delete a workspace model."""
    llm.delete()


@dataclass(frozen=True)
class SyncResult:
    created: int
    updated: int
    models: list[LargeLanguageModel]


def llm_sync_models(*, provider: Provider, account: Account) -> SyncResult:
    """Read the provider's model list through the account and create or update the workspace's rows.

    Models the catalogue already lists for the provider are left to the catalogue. Raises an
    LLMError subclass when the provider cannot be reached, and ValidationFailed when the account
    does not belong to the provider.
    """
    from providers.llm import gateway

    if account.provider_id != provider.pk:
        raise ValidationFailed(errors={"account_id": ["The account does not belong to this provider."]})
    if provider.kind != ProviderKind.LLM:
        raise ValidationFailed(errors={"account_id": ["The provider is not an LLM provider."]})

    names = gateway.list_models(account=account)[:MAX_SYNCED_MODELS]
    catalogue = set(
        LargeLanguageModel.objects.filter(provider=provider, workspace__isnull=True).values_list("model", flat=True)
    )
    created = updated = 0
    rows: list[LargeLanguageModel] = []
    with transaction.atomic():
        for name in names:
            if name in catalogue:
                continue
            row, was_created = LargeLanguageModel.objects.get_or_create(
                provider=provider,
                workspace_id=account.workspace_id,
                model=name,
                defaults={"display_name": name, "capabilities": ["streaming"]},
            )
            if was_created:
                created += 1
            elif not row.active:
                row.active = True
                row.save(update_fields=["active", "updated_at"])
                updated += 1
            else:
                updated += 1
            rows.append(row)
    account_mark_used(account=account)
    logger.info(
        "Synchronised provider models",
        extra={
            "provider": provider.key,
            "account_id": str(account.pk),
            "created_count": created,
            "updated_count": updated,
        },
    )
    return SyncResult(created=created, updated=updated, models=rows)
