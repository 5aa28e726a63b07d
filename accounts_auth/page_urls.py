"""Routes of the account settings pages, mounted at the site root."""

from django.urls import path
from django.views.generic import RedirectView

from accounts_auth import pages

app_name = "account_pages"

urlpatterns = [
    path("settings/", RedirectView.as_view(url="/settings/profile/"), name="index"),
    path("settings/profile/", pages.profile, name="profile"),
    path("settings/tokens/", pages.tokens, name="tokens"),
    path("settings/tokens/<uuid:token_id>/rotate/", pages.token_rotate, name="token-rotate"),
    path("settings/tokens/<uuid:token_id>/revoke/", pages.token_revoke, name="token-revoke"),
    path("settings/sessions/", pages.sessions, name="sessions"),
    path("settings/sessions/<int:session_id>/end/", pages.session_end, name="session-end"),
    path("settings/workspace/service-accounts/", pages.service_accounts, name="service-accounts"),
    path("settings/workspace/service-accounts/add/", pages.service_account_create, name="service-account-create"),
    path(
        "settings/workspace/service-accounts/<uuid:service_account_id>/delete/",
        pages.service_account_delete,
        name="service-account-delete",
    ),
    path(
        "settings/workspace/service-accounts/<uuid:service_account_id>/tokens/",
        pages.service_account_token_create,
        name="service-account-token-create",
    ),
    path(
        "settings/workspace/service-accounts/<uuid:service_account_id>/tokens/<uuid:token_id>/revoke/",
        pages.service_account_token_revoke,
        name="service-account-token-revoke",
    ),
]
