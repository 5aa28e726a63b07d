"""Root URL configuration: the only module, besides settings and cross-app pages, that sees every app."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts_auth.views import multiplai_handover
from athena_site import views
from athena_site.health import healthz
from providers import views as provider_views

api_v1 = [
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="schema"),
    path("", include("accounts_auth.api.urls")),
    path("", include("workspaces.api.urls")),
    path("", include("providers.api.urls")),
    path("", include("agents.api.urls")),
    path("", include("threads.api.urls")),
    path("", include("workflows.api.urls")),
    path("", include("athena_site.metrics_api")),
]

# The admin signs in through allauth, so it gets the same lockout, MFA and audit trail.
admin.site.login = secure_admin_login(admin.site.login)

# The API comes first: Django tries the patterns in order, and every pattern tried before the
# match costs time on each request, which matters most for the API's request rate.
urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("", views.home, name="home"),
    path("dashboard/board/pin/", views.board_pin, name="dashboard-board-pin"),
    path("dashboard/board/<uuid:task_id>/move/", views.board_move, name="dashboard-board-move"),
    path("dashboard/board/<uuid:task_id>/remove/", views.board_remove, name="dashboard-board-remove"),
    path("", include("workspaces.page_urls")),
    path("", include("accounts_auth.page_urls")),
    path("", include("providers.page_urls")),
    path("", include("workflows.page_urls")),
    path("", include("agents.page_urls")),
    path("", include("threads.page_urls")),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("o/", include("accounts_auth.oauth_urls")),
    path("", include("accounts_auth.browser_urls")),
    re_path(r"^auth/multiplai/?$", multiplai_handover, name="multiplai-handover"),
    path("connections/", provider_views.connections, name="connections"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]

handler404 = "athena_site.views.errors.not_found"
handler500 = "athena_site.views.errors.server_error"
