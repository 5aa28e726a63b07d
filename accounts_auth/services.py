"""Writes of the accounts_auth app: tokens, audit events and the user's profile."""

import logging
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts_auth import tokens
from accounts_auth.models import AuthEvent, PersonalAccessToken, ServiceAccount, User
from athena_site.api.abilities import ability_allows, validate_ability
from athena_site.api.errors import ValidationFailed
from athena_site.client_ip import client_ip
from workspaces.services import workspace_sync_multiplai_organizations

logger = logging.getLogger(__name__)

LAST_USED_WRITE_INTERVAL = timedelta(minutes=1)
USER_AGENT_MAX_LENGTH = 400


def _request_meta(request: Any) -> tuple[str | None, str]:
    if request is None:
        return None, ""
    meta = getattr(request, "META", {})
    return client_ip(request), meta.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX_LENGTH]


def auth_event_record(
    *,
    event: str,
    method: str,
    outcome: str,
    request: Any = None,
    user: User | None = None,
    email: str = "",
    detail: dict | None = None,
) -> AuthEvent:
    """Write one audit event. Callers never pass passwords, tokens or codes in `detail`."""
    ip, user_agent = _request_meta(request)
    if user is not None and not getattr(user, "pk", None):
        user = None
    record = AuthEvent.objects.create(
        user=user,
        email=(email or "")[:254],
        event=event,
        method=method,
        outcome=outcome,
        ip=ip,
        user_agent=user_agent,
        detail=detail or {},
    )
    logger.info(
        "Authentication event %s %s",
        event,
        outcome,
        extra={"user_id": str(user.pk) if user else None, "method": method},
    )
    return record


def _clean_abilities(abilities: list[str] | None) -> list[str]:
    if abilities is None:
        return ["*"]
    errors = []
    cleaned = []
    for ability in abilities:
        try:
            cleaned.append(validate_ability(str(ability)))
        except ValueError as exc:
            errors.append(str(exc))
    if errors:
        raise ValidationFailed(errors={"abilities": errors})
    if not cleaned:
        raise ValidationFailed(errors={"abilities": ["At least one ability is required."]})
    return sorted(set(cleaned))


def personal_access_token_create(
    *,
    user: User,
    name: str,
    abilities: list[str] | None = None,
    expires_at: Any = None,
    request: Any = None,
) -> tuple[PersonalAccessToken, str]:
    """Create a token for `user` and return it with its secret, which is never stored or shown again."""
    raw = tokens.generate_token()
    ip, user_agent = _request_meta(request)
    token = PersonalAccessToken.objects.create(
        user=user,
        name=name,
        token_hash=tokens.hash_token(raw),
        hint=tokens.token_hint(raw),
        abilities=_clean_abilities(abilities),
        expires_at=expires_at,
        created_ip=ip,
        created_user_agent=user_agent,
    )
    auth_event_record(
        event="token_created",
        method="token",
        outcome="success",
        request=request,
        user=user,
        detail={"token_id": str(token.pk), "name": name},
    )
    return token, raw


def personal_access_token_revoke(*, token: PersonalAccessToken, request: Any = None) -> PersonalAccessToken:
    """Revoke a token; it stops working on the very next request."""
    if token.revoked_at is None or token.revoked_at > timezone.now():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
    auth_event_record(
        event="token_revoked",
        method="token",
        outcome="success",
        request=request,
        user=token.user,
        detail={"token_id": str(token.pk)},
    )
    return token


@transaction.atomic
def personal_access_token_rotate(*, token: PersonalAccessToken, request: Any = None) -> tuple[PersonalAccessToken, str]:
    """Issue a replacement with the same name, abilities and expiry; the old secret keeps working
    for ATHENA_TOKEN_ROTATION_GRACE_SECONDS, then stops.
    """
    locked = PersonalAccessToken.objects.select_for_update().get(pk=token.pk)
    raw = tokens.generate_token()
    ip, user_agent = _request_meta(request)
    replacement = PersonalAccessToken.objects.create(
        user=locked.user,
        name=locked.name,
        token_hash=tokens.hash_token(raw),
        hint=tokens.token_hint(raw),
        abilities=locked.abilities,
        expires_at=locked.expires_at,
        created_ip=ip,
        created_user_agent=user_agent,
    )
    grace = timedelta(seconds=settings.ATHENA_TOKEN_ROTATION_GRACE_SECONDS)
    locked.revoked_at = timezone.now() + grace
    locked.replaced_by = replacement
    locked.save(update_fields=["revoked_at", "replaced_by", "updated_at"])
    auth_event_record(
        event="token_rotated",
        method="token",
        outcome="success",
        request=request,
        user=locked.user,
        detail={"token_id": str(locked.pk), "replacement_id": str(replacement.pk)},
    )
    return replacement, raw


def personal_access_token_touch(*, token: PersonalAccessToken) -> None:
    """Record use, writing `last_used_at` at most once a minute per token."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_WRITE_INTERVAL:
        return
    cutoff = now - LAST_USED_WRITE_INTERVAL
    # The conditional update keeps concurrent requests from each writing the row.
    from django.db.models import Q

    PersonalAccessToken.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=cutoff), pk=token.pk).update(
        last_used_at=now
    )
    token.last_used_at = now


def multiplai_user_signed_in(*, user: User, request: Any = None) -> None:
    """Sync the user's Multiplai organizations into workspaces and record the sign-in."""
    workspace_sync_multiplai_organizations(user=user, organizations=user.multiplai_organizations or [])
    auth_event_record(
        event="multiplai_sync",
        method="multiplai",
        outcome="success",
        request=request,
        user=user,
        detail={"organizations": len(user.multiplai_organizations or [])},
    )


def email_verification_mandatory() -> bool:
    return settings.ACCOUNT_EMAIL_VERIFICATION == "mandatory"


def abilities_within(*, granted: frozenset[str], requested: list[str] | None) -> list[str]:
    """Return the requested abilities if the granting credentials hold each of them, else 422.

    A token never creates a token that can do more than itself; with no request it copies its own.
    """
    if requested is None:
        return sorted(granted)
    cleaned = _clean_abilities(requested)
    too_broad = []
    for ability in cleaned:
        parts = ability.split(":")
        if ability == "*" or parts[1] == "*":
            allowed = "*" in granted or ability in granted
        else:
            allowed = ability_allows(granted, f"{parts[0]}:{parts[1]}", object_id=parts[2] if len(parts) == 3 else None)
        if not allowed:
            too_broad.append(f"'{ability}' exceeds the abilities of the credentials used for this request.")
    if too_broad:
        raise ValidationFailed(errors={"abilities": too_broad})
    return cleaned


def user_logout(*, request: Any) -> None:
    """Revoke the token that authenticated the request; session logout is done by the caller."""
    auth = request.auth
    if auth.method == "token":
        personal_access_token_revoke(token=auth.token, request=request)
    elif auth.method == "oauth2":
        auth.token.revoke()
    auth_event_record(event="logout", method=auth.method, outcome="success", request=request, user=request.user)


def user_profile_update(*, user: User, data: dict[str, Any]) -> User:
    """Apply a profile update: name, a new or removed profile photo, and the current workspace."""
    from accounts_auth import photos

    changes: dict[str, Any] = {}
    if "name" in data:
        changes["name"] = data["name"]
    if "current_workspace" in data:
        changes["current_workspace"] = _member_workspace(user=user, workspace_id=data["current_workspace"])
    old_photo = None
    if "profile_photo" in data:
        old_photo = user.profile_photo_sizes
        changes["profile_photo_sizes"] = (
            photos.profile_photo_process(upload=data["profile_photo"]) if data["profile_photo"] else {}
        )
    for field, value in changes.items():
        setattr(user, field, value)
    if changes:
        user.save(update_fields=[*changes, "updated_at"])
    if old_photo:
        photos.profile_photo_delete(names=old_photo)
    return user


def _member_workspace(*, user: User, workspace_id: Any) -> Any:
    if workspace_id is None:
        return None
    from workspaces.selectors import workspace_find_for_user

    workspace = workspace_find_for_user(identifier=str(workspace_id), user=user)
    if workspace is None:
        raise ValidationFailed(errors={"current_workspace": ["You are not a member of this workspace."]})
    return workspace


def user_session_end(*, session: Any, request: Any = None) -> None:
    """End a browser session on the server, so its cookie stops working at once."""
    session.end()
    auth_event_record(
        event="session_ended",
        method="session",
        outcome="success",
        request=request,
        user=session.user,
        detail={"session_id": session.pk},
    )


SERVICE_ACCOUNT_EMAIL_DOMAIN = "service-accounts.athena.invalid"


@transaction.atomic
def service_account_create(
    *, workspace: Any, name: str, role: str, created_by: User, actor_role: str, description: str = ""
) -> ServiceAccount:
    """Create a service account: a user that cannot sign in interactively, member of `workspace`."""
    from workspaces.services import member_add

    service_id = uuid.uuid4()
    user = User.objects.create_user(
        email=f"sa-{service_id.hex}@{SERVICE_ACCOUNT_EMAIL_DOMAIN}",
        password=None,
        name=name,
        is_service_account=True,
        email_verified_at=timezone.now(),
    )
    member_add(workspace=workspace, email=user.email, role=role, invited_by=created_by, actor_role=actor_role)
    account = ServiceAccount.objects.create(
        id=service_id, user=user, workspace=workspace, name=name, description=description, created_by=created_by
    )
    logger.info(
        "Service account created", extra={"workspace_id": str(workspace.pk), "service_account_id": str(account.pk)}
    )
    return account


@transaction.atomic
def service_account_delete(*, account: ServiceAccount, request: Any = None) -> None:
    """Delete a service account with its membership and tokens; its tokens stop working at once."""
    user = account.user
    auth_event_record(
        event="service_account_deleted",
        method="token",
        outcome="success",
        request=request,
        user=getattr(request, "user", None),
        detail={"service_account_id": str(account.pk)},
    )
    user.delete()
