"""Routes of the authentication and user API, mounted under /api/v1/."""

from django.urls import re_path

from accounts_auth.api import service_accounts, views

SERVICE_ACCOUNTS = r"^workspaces/(?P<workspace_id>[^/]+)/service-accounts"

urlpatterns = [
    re_path(r"^auth/sign-in/?$", views.SignInView.as_view(), name="auth-sign-in"),
    re_path(r"^auth/logout/?$", views.LogoutView.as_view(), name="auth-logout"),
    re_path(r"^user/?$", views.UserView.as_view(), name="user"),
    re_path(r"^user/profile-photo-config/?$", views.ProfilePhotoConfigView.as_view(), name="user-profile-photo-config"),
    re_path(r"^user/tokens/?$", views.TokenListView.as_view(), name="user-tokens"),
    re_path(r"^user/tokens/(?P<token_id>[^/]+)/?$", views.TokenDetailView.as_view(), name="user-token-detail"),
    re_path(r"^user/tokens/(?P<token_id>[^/]+)/rotate/?$", views.TokenRotateView.as_view(), name="user-token-rotate"),
    re_path(r"^user/sessions/?$", views.SessionListView.as_view(), name="user-sessions"),
    re_path(r"^user/sessions/(?P<session_id>[^/]+)/?$", views.SessionDetailView.as_view(), name="user-session-detail"),
    re_path(SERVICE_ACCOUNTS + r"/?$", service_accounts.ServiceAccountListView.as_view(), name="service-accounts"),
    re_path(
        SERVICE_ACCOUNTS + r"/(?P<service_account_id>[^/]+)/?$",
        service_accounts.ServiceAccountDetailView.as_view(),
        name="service-account-detail",
    ),
    re_path(
        SERVICE_ACCOUNTS + r"/(?P<service_account_id>[^/]+)/tokens/?$",
        service_accounts.ServiceAccountTokenListView.as_view(),
        name="service-account-tokens",
    ),
    re_path(
        SERVICE_ACCOUNTS + r"/(?P<service_account_id>[^/]+)/tokens/(?P<token_id>[^/]+)/?$",
        service_accounts.ServiceAccountTokenDetailView.as_view(),
        name="service-account-token-detail",
    ),
]
