"""allauth adapters: browser sign-in shares the API's lockout, client-IP rule and audit trail."""

import math
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django import forms
from django.http import HttpRequest

from accounts_auth import browser, lockout, services
from athena_site.client_ip import client_ip

# allauth's key for the login form error, kept so templates and tests can tell this error apart.
LOCKED_ERROR_CODE = "too_many_login_attempts"


def lockout_message(retry_after: int) -> str:
    """Build the sign-in form error for a lockout that ends in `retry_after` seconds."""
    minutes = max(1, math.ceil(retry_after / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-in attempts. Try again in {minutes} {unit}."


def _credential_email(credentials: dict[str, Any]) -> str:
    # Logins are by email only (ACCOUNT_LOGIN_METHODS), so the email is the account key.
    return str(credentials.get("email") or "")


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: Any) -> str:
        return client_ip(request) or "0.0.0.0"  # noqa: S104 (a placeholder key, never bound)

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Reject the attempt while the account or the client IP is locked out.

        Runs before the password is checked, for the login form and for re-authentication. The
        lockout is Athena's, shared with the API sign-in; allauth's own rate limit still applies
        after it.
        """
        email = _credential_email(credentials)
        try:
            lockout.login_attempt_check(email=email, ip=client_ip(request))
        except lockout.LoginLocked as exc:
            services.auth_event_record(
                event="sign_in_failed",
                method="browser",
                outcome="failure",
                request=request,
                email=email,
                detail={"reason": "locked_out", "retry_after": exc.retry_after},
            )
            raise forms.ValidationError(lockout_message(exc.retry_after), code=LOCKED_ERROR_CODE) from None

        super().pre_authenticate(request, **credentials)

    def pre_login(self, request: HttpRequest, user: Any, **kwargs: Any) -> Any:
        # Runs before allauth's login stages, so the email verification stage finds an address
        # that Athena verified by other means already marked verified.
        browser.email_address_verified_ensure(user=user)
        return super().pre_login(request, user, **kwargs)

    def logout(self, request: HttpRequest) -> None:
        """Record the sign-out, then end the session on the server (its cookie stops working)."""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            services.auth_event_record(event="logout", method="browser", outcome="success", request=request, user=user)
        super().logout(request)

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        email = _credential_email(credentials)
        lockout.login_failure_record(email=email, ip=client_ip(request))
        services.auth_event_record(
            event="sign_in_failed",
            method="browser",
            outcome="failure",
            request=request,
            email=email,
            detail={"reason": "invalid_credentials"},
        )


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def populate_user(self, request: HttpRequest, sociallogin: Any, data: dict[str, Any]) -> Any:
        """Fill Athena's single `name` field, which allauth's default (first and last name) skips."""
        user = super().populate_user(request, sociallogin, data)
        name = data.get("name") or " ".join(part for part in (data.get("first_name"), data.get("last_name")) if part)
        if name and not user.name:
            user.name = name[:150]
        return user
