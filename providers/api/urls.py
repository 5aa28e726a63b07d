"""Routes of the providers API, mounted under /api/v1/."""

from django.urls import re_path

from athena_site.api.routers import ApiRouter
from providers.api import views

router = ApiRouter()
router.register("providers", views.ProviderViewSet, basename="provider")
router.register("accounts", views.AccountViewSet, basename="account")
router.register("llms", views.LargeLanguageModelViewSet, basename="llm")

app_name = "providers"
urlpatterns = [
    # Before the router, so that "oauth" is never read as a provider id.
    re_path(r"^providers/oauth/callback/?$", views.OAuthCallbackView.as_view(), name="oauth-callback"),
    *router.urls,
]
