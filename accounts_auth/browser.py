"""Signal handlers for browser sign-in: audit events, lockout resets and email verification sync.

Imported once from `AccountsAuthConfig.ready()`. The handlers record events with
`services.auth_event_record` and never put a password, token, TOTP code or recovery code in
an event.

Sign-ins and sign-outs through allauth are recorded from allauth's own signal and adapter
hooks. Django's signals are used only for the admin login page, because the API sign-in,
the API logout and the Multiplai hand-over record their own events and would otherwise be
counted twice.
"""

import logging
from typing import Any

from allauth.account import signals as account_signals
from allauth.account.authentication import get_authentication_records
from allauth.account.models import EmailAddress
from allauth.mfa import signals as mfa_signals
from django.contrib.auth import get_user_model
from django.contrib.auth import signals as auth_signals
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone
from oauth2_provider.signals import app_authorized

from accounts_auth import lockout, services

logger = logging.getLogger(__name__)

BROWSER = "browser"
OAUTH2 = "oauth2"


def _is_admin_request(request: HttpRequest | None) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and match.namespace == "admin"


def _sign_in_detail(request: HttpRequest, user: Any, sociallogin: Any = None) -> dict[str, Any]:
    # allauth keeps one authentication record per factor used (password, mfa, socialaccount)
    # in the session. Only the method names and types are copied, never codes.
    records = get_authentication_records(request, user)
    detail: dict[str, Any] = {"factors": [record.get("method") for record in records if record.get("method")]}
    mfa_types = [record["type"] for record in records if record.get("method") == "mfa" and record.get("type")]
    if mfa_types:
        detail["mfa_types"] = mfa_types
    if sociallogin is not None:
        detail["provider"] = sociallogin.account.provider
    return detail


def email_address_verified_ensure(*, user: Any) -> None:
    """Mark the user's own address verified for allauth when Athena already verified it.

    Users created by an administrator, by `createsuperuser` or from Multiplai carry
    `email_verified_at` but no allauth `EmailAddress` row, so mandatory verification would
    otherwise send them a confirmation email at their first browser sign-in.
    """
    if user.email_verified_at is None or not user.email:
        return
    if EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists():
        return

    address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
    if address is None:
        has_primary = EmailAddress.objects.filter(user=user, primary=True).exists()
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=not has_primary)
        return
    address.verified = True
    address.save(update_fields=["verified"])


@receiver(auth_signals.user_logged_in, dispatch_uid="accounts_auth.browser.admin_signed_in")
def admin_signed_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if not _is_admin_request(request):
        return
    lockout.login_success_record(email=user.email)
    services.auth_event_record(
        event="sign_in", method=BROWSER, outcome="success", request=request, user=user, detail={"page": "admin"}
    )


@receiver(auth_signals.user_login_failed, dispatch_uid="accounts_auth.browser.admin_sign_in_failed")
def admin_sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    if not _is_admin_request(request):
        return
    # Django passes the credentials with the password already masked; only the login is kept.
    email = str(credentials.get("username") or credentials.get("email") or "")
    services.auth_event_record(
        event="sign_in_failed",
        method=BROWSER,
        outcome="failure",
        request=request,
        email=email,
        detail={"page": "admin", "reason": "invalid_credentials"},
    )


@receiver(auth_signals.user_logged_out, dispatch_uid="accounts_auth.browser.admin_signed_out")
def admin_signed_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is None or not _is_admin_request(request):
        return
    services.auth_event_record(
        event="logout", method=BROWSER, outcome="success", request=request, user=user, detail={"page": "admin"}
    )


@receiver(account_signals.user_logged_in, dispatch_uid="accounts_auth.browser.signed_in")
def signed_in(sender: Any, request: HttpRequest, user: Any, sociallogin: Any = None, **kwargs: Any) -> None:
    lockout.login_success_record(email=user.email)
    services.auth_event_record(
        event="sign_in",
        method=BROWSER,
        outcome="success",
        request=request,
        user=user,
        detail=_sign_in_detail(request, user, sociallogin),
    )


@receiver(account_signals.password_changed, dispatch_uid="accounts_auth.browser.password_changed")
def password_changed(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    services.auth_event_record(event="password_changed", method=BROWSER, outcome="success", request=request, user=user)


@receiver(account_signals.password_set, dispatch_uid="accounts_auth.browser.password_set")
def password_set(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    services.auth_event_record(event="password_set", method=BROWSER, outcome="success", request=request, user=user)


@receiver(account_signals.password_reset, dispatch_uid="accounts_auth.browser.password_reset")
def password_reset(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    # A reset proves control of the mailbox, so the account's failure counter starts over,
    # as allauth does with its own login rate limit.
    lockout.login_success_record(email=user.email)
    services.auth_event_record(event="password_reset", method=BROWSER, outcome="success", request=request, user=user)


@receiver(account_signals.email_confirmed, dispatch_uid="accounts_auth.browser.email_confirmed")
def email_confirmed(sender: Any, request: HttpRequest, email_address: Any, **kwargs: Any) -> None:
    # Athena's own flag follows allauth's, so the admin and the API show the same state.
    user_model = get_user_model()
    user_model.objects.filter(
        pk=email_address.user_id, email__iexact=email_address.email, email_verified_at__isnull=True
    ).update(email_verified_at=timezone.now())


@receiver(mfa_signals.authenticator_added, dispatch_uid="accounts_auth.browser.mfa_activated")
def mfa_activated(sender: Any, request: HttpRequest, user: Any, authenticator: Any, **kwargs: Any) -> None:
    services.auth_event_record(
        event="mfa_activated",
        method=BROWSER,
        outcome="success",
        request=request,
        user=user,
        detail={"type": authenticator.type},
    )


@receiver(mfa_signals.authenticator_removed, dispatch_uid="accounts_auth.browser.mfa_deactivated")
def mfa_deactivated(sender: Any, request: HttpRequest, user: Any, authenticator: Any, **kwargs: Any) -> None:
    services.auth_event_record(
        event="mfa_deactivated",
        method=BROWSER,
        outcome="success",
        request=request,
        user=user,
        detail={"type": authenticator.type},
    )


@receiver(mfa_signals.authenticator_reset, dispatch_uid="accounts_auth.browser.mfa_reset")
def mfa_reset(sender: Any, request: HttpRequest, user: Any, authenticator: Any, **kwargs: Any) -> None:
    services.auth_event_record(
        event="mfa_recovery_codes_regenerated",
        method=BROWSER,
        outcome="success",
        request=request,
        user=user,
        detail={"type": authenticator.type},
    )


@receiver(mfa_signals.authentication_failed, dispatch_uid="accounts_auth.browser.mfa_failed")
def mfa_failed(sender: Any, request: HttpRequest, user: Any, authenticator: Any, **kwargs: Any) -> None:
    services.auth_event_record(
        event="sign_in_failed",
        method=BROWSER,
        outcome="failure",
        request=request,
        user=user,
        detail={
            "reason": "invalid_mfa_code",
            "type": authenticator.type,
            "reauthentication": bool(kwargs.get("reauthentication")),
        },
    )


@receiver(app_authorized, dispatch_uid="accounts_auth.browser.oauth_token_issued")
def oauth_token_issued(sender: Any, request: HttpRequest, token: Any, **kwargs: Any) -> None:
    """Record each token DOT issues from its token endpoint.

    DOT sends `app_authorized` for every grant type it serves there, so a refresh is recorded
    as `oauth_token_refreshed` and every other grant (an authorization code the user
    consented to, client credentials) as `oauth_grant`.
    """
    grant_type = request.POST.get("grant_type", "")
    event = "oauth_token_refreshed" if grant_type == "refresh_token" else "oauth_grant"
    application = token.application
    services.auth_event_record(
        event=event,
        method=OAUTH2,
        outcome="success",
        request=request,
        user=token.user,
        detail={
            "grant_type": grant_type,
            "application_id": application.pk if application else None,
            "client_id": application.client_id if application else "",
            "application_name": application.name if application else "",
            "scopes": sorted(token.scope.split()),
        },
    )
