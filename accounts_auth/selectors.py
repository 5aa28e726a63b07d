"""Reads of the accounts_auth app."""

import hmac
import uuid
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts_auth import tokens
from accounts_auth.models import PersonalAccessToken, ServiceAccount, User
from athena_site.api.errors import NotFound


def user_get_by_multiplai_id(*, multiplai_id: str) -> User | None:
    return User.objects.filter(multiplai_id=multiplai_id).first()


def user_email_verified(*, user: User) -> bool:
    """Tell whether the user's email is verified, by Athena (Multiplai, admin) or by allauth."""
    if user.email_verified_at is not None:
        return True
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


def personal_access_token_get_by_secret(*, raw: str) -> PersonalAccessToken | None:
    """Return the active token whose secret is `raw`, or None.

    The lookup is one indexed query on the SHA-256 hash. The stored hash is then compared in
    constant time, so the final check leaks nothing through timing.
    """
    if not tokens.is_well_formed(raw):
        return None
    digest = tokens.hash_token(raw)
    token = PersonalAccessToken.objects.select_related("user").filter(token_hash=digest).first()
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    if not token.is_active(timezone.now()) or not token.user.is_active:
        return None
    return token


def personal_access_token_list(*, user: User) -> QuerySet[PersonalAccessToken]:
    """List the user's tokens that are not revoked (tokens inside a rotation grace period included)."""
    now = timezone.now()
    return PersonalAccessToken.objects.filter(user=user).exclude(revoked_at__lte=now).order_by("-created_at")


def personal_access_token_get_for_user(*, token_id: object, user: User) -> PersonalAccessToken:
    """Return one of the user's tokens; NotFound for any other id."""
    try:
        token_uuid = uuid.UUID(str(token_id))
    except ValueError:
        raise NotFound("Token not found.") from None
    token = personal_access_token_list(user=user).filter(pk=token_uuid).first()
    if token is None:
        raise NotFound("Token not found.")
    return token


def user_check_password(*, email: str, password: str) -> User | None:
    """Return the active, interactive user with this email and password, or None.

    The password hasher runs whether or not the email exists, so the response time does not
    tell an attacker which emails have accounts.
    """
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None or user.is_service_account:
        User().set_password(password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    return user


def user_session_list(*, user: User) -> list:
    """List the user's live browser sessions, newest activity first, dropping ones that ended.

    A session has ended when the session store no longer contains it, or when it no longer signs
    in this user (another user, or a password changed since). With the database session store
    this takes three queries for any number of sessions; other stores are asked per session.
    """
    from allauth.usersessions.models import UserSession

    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not issubclass(store, DatabaseSessionStore):
        live = UserSession.objects.purge_and_list(user)
    else:
        sessions = list(UserSession.objects.filter(user_id=user.pk))
        stored = store.get_model_class().objects.filter(
            session_key__in=[session.session_key for session in sessions], expire_date__gt=timezone.now()
        )
        data = {row.session_key: row.session_data for row in stored}
        live = [session for session in sessions if _signs_in(store(), data.get(session.session_key), user)]
        ended = [session.pk for session in sessions if session not in live]
        if ended:
            UserSession.objects.filter(pk__in=ended).delete()
    return sorted(live, key=lambda item: item.last_seen_at, reverse=True)


def _signs_in(store: Any, encoded: str | None, user: User) -> bool:
    """Tell whether encoded session data still signs in `user`, as Django's `get_user` would decide."""
    if encoded is None:
        return False
    data = store.decode(encoded)
    if (
        str(data.get(SESSION_KEY)) != str(user.pk)
        or data.get(BACKEND_SESSION_KEY) not in settings.AUTHENTICATION_BACKENDS
    ):
        return False
    session_hash = data.get(HASH_SESSION_KEY) or ""
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    return any(constant_time_compare(session_hash, expected) for expected in hashes)


def user_session_get_for_user(*, session_id: object, user: User):
    from allauth.usersessions.models import UserSession

    try:
        pk = int(str(session_id))
    except ValueError:
        raise NotFound("Session not found.") from None
    session = UserSession.objects.filter(pk=pk, user=user).first()
    if session is None:
        raise NotFound("Session not found.")
    return session


def service_account_list(*, workspace: object) -> QuerySet[ServiceAccount]:
    return (
        ServiceAccount.objects.filter(workspace=workspace)
        .select_related("user", "created_by")
        .order_by("name", "created_at")
    )


def service_account_get(*, workspace: object, service_account_id: object) -> ServiceAccount:
    """Return a service account of the workspace; NotFound for any other id."""
    try:
        pk = uuid.UUID(str(service_account_id))
    except ValueError:
        raise NotFound("Service account not found.") from None
    account = service_account_list(workspace=workspace).filter(pk=pk).first()
    if account is None:
        raise NotFound("Service account not found.")
    return account
