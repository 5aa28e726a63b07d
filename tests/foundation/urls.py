"""URL configuration for the convention tests: the real site plus the test views."""

from django.urls import include, path, re_path

from athena_site.api.routers import ApiRouter
from tests.foundation import views

router = ApiRouter()
router.register("test-items", views.ItemViewSet, basename="test-item")

urlpatterns = [
    path("api/v1/", include(router.urls)),
    re_path(r"^api/v1/test-echo/?$", views.EchoView.as_view()),
    re_path(r"^api/v1/test-small-echo/?$", views.SmallEchoView.as_view()),
    re_path(r"^api/v1/test-private/?$", views.PrivateView.as_view()),
    path("", include("athena_site.urls")),
]

handler404 = "athena_site.views.errors.not_found"
handler500 = "athena_site.views.errors.server_error"
